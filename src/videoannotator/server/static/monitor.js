// Monitoring (#/monitor, #/monitor?label=NAME): per deployed label its warnings first, the
// drift of production scores against the corpus the version was built on (PSI), how many
// production clips it scored and its positive rate, live precision and recall with their
// intervals — and the production feed, an annotatable grid whose annotations (source
// "production") measure them and flow into the next Build.

import { api } from './api.js';
import { clear, fmtNumber, fmtPercent, fmtWhen, h, plural, toast, VALUE_TEXT } from './dom.js';
import { ClipGrid, stopPreview } from './grid.js';
import { annotate, openLabel, session, undo } from './session.js';

const FEED_SIZE = 24;
const PRODUCTION_SOURCE = 'production';

export class MonitorView {
  constructor(app, { label } = {}) {
    this.app = app;
    this.wanted = label || null;
    this.labels = [];
    this.panels = new Map(); // label -> its summary element
    this.grid = null;
    this.onChange = () => this.scheduleRefresh();
    session.events.addEventListener('change', this.onChange);
  }

  destroy() {
    session.events.removeEventListener('change', this.onChange);
    clearTimeout(this.refreshTimer);
    this.grid?.destroy();
  }

  async render(view) {
    document.title = 'Monitor · Video Annotator';
    clear(view, h('div', { class: 'loading muted' }, 'Loading monitoring…'));
    const { labels: all } = await api.monitor();
    // labels with warnings first (in the server's order otherwise)
    const labels = [...all.filter((l) => l.warnings?.length), ...all.filter((l) => !l.warnings?.length)];
    this.labels = labels;
    if (!labels.length) {
      clear(view, h('div', { class: 'page-wide monitor-page' },
        h('h1', { class: 'page-title' }, 'Monitor'),
        h('div', { class: 'empty-state small-empty' },
          h('p', {}, 'No label is deployed yet. Build a label’s model, then Deploy it from the label’s page (Production): new footage is scored with it and watched here.'),
          h('a', { class: 'button', href: '#/' }, 'All labels'))));
      return;
    }
    this.current = labels.find((l) => l.label === this.wanted)?.label ?? labels[0].label;
    this.summaries = h('div', { class: 'monitor-labels' }, labels.map((item) => this.summary(item)));
    this.feedBox = h('section', { class: 'production-feed', 'aria-label': 'Production feed' });
    clear(view, h('div', { class: 'page-wide monitor-page' },
      h('h1', { class: 'page-title' }, 'Monitor'),
      h('p', { class: 'muted lead' }, `${plural(labels.length, 'deployed label')}. Warnings first; then how the scores of new footage compare with the corpus each version was built on, and what annotating the production feed says about live precision and recall.`),
      this.summaries,
      this.feedBox));
    await this.showFeed(this.current);
  }

  summary(item) {
    const el = h('article', { class: `panel monitor-label ${item.warnings?.length ? 'has-warnings' : ''}`, dataset: { label: item.label } });
    this.fill(el, item);
    this.panels.set(item.label, el);
    return el;
  }

  fill(el, item) {
    const drift = item.drift || {};
    const production = item.production || {};
    const live = item.live || {};
    const builtOn = item.built_on || {};
    const driftHigh = drift.psi != null && drift.warn_above != null && drift.psi > drift.warn_above;
    const batches = production.batches || [];
    const annotatedAbove = (live.annotated?.pos_above ?? 0) + (live.annotated?.neg_above ?? 0);
    const annotatedAll = Object.values(live.annotated || {}).reduce((a, b) => a + (Number(b) || 0), 0);
    clear(el,
      h('div', { class: 'panel-head' },
        h('h2', { class: 'panel-title' }, h('a', { class: 'label-link', href: `#/labels/${encodeURIComponent(item.label)}` }, item.label),
          ' ', h('span', { class: 'version' }, `v${item.version}`)),
        h('span', { class: 'muted small' }, `threshold p ${fmtNumber(item.threshold)}`)),
      item.warnings?.length
        ? h('ul', { class: 'warnings', role: 'alert' }, item.warnings.map((w) => h('li', { class: 'warning' }, h('span', { class: 'warning-icon', 'aria-hidden': 'true' }, '⚠'), w)))
        : h('p', { class: 'ok-line small' }, '✓ No warnings'),
      h('div', { class: 'monitor-stats' },
        stat('Drift (PSI)', drift.psi == null ? '—' : fmtNumber(drift.psi, 3),
          drift.psi == null ? 'no production scores yet' : `warn above ${fmtNumber(drift.warn_above)}${driftHigh ? ' · drifted' : ''}`,
          driftHigh ? 'bad' : '', 'drift'),
        stat('Production clips', (production.clips ?? 0).toLocaleString(),
          `${plural(batches.length, 'batch', 'batches')} · positive rate ${fmtPercent(production.positive_rate, 1)}`, '', 'production'),
        stat('Built on', (builtOn.clips ?? 0).toLocaleString(), `clips · positive rate ${fmtPercent(builtOn.positive_rate, 1)}`, '', 'built-on'),
        live.precision == null
          ? stat('Live precision', '—', annotatedAll ? `${plural(annotatedAll, 'production annotation')}, none above the threshold yet` : 'annotate the production feed to measure', 'pending', 'precision')
          : stat('Live precision', fmtNumber(live.precision),
            `${intervalText(live.precision_interval)} · ${plural(annotatedAbove, 'clip')} above the threshold`, '', 'precision'),
        live.recall == null
          ? stat('Live recall', '—', 'annotate clips below the threshold too', 'pending', 'recall')
          : stat('Live recall', fmtNumber(live.recall), intervalText(live.recall_interval), '', 'recall')),
      batches.length ? batchTable(batches) : null);
  }

  async showFeed(name) {
    this.current = name;
    const item = this.labels.find((l) => l.label === name);
    openLabel(name, []); // production feed clips are never annotated for the label yet
    const tabs = this.labels.length > 1
      ? h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Production feed of' }, this.labels.map((l, i) => h('button', {
        type: 'button', role: 'tab', class: `tab ${l.label === name ? 'active' : ''}`, 'aria-selected': String(l.label === name),
        onclick: () => this.app.navigate(`#/monitor?label=${encodeURIComponent(l.label)}`, { replace: true }),
      }, i < 7 ? h('kbd', {}, String(i + 1)) : null, l.label)))
      : null;
    this.pool = h('span', { class: 'muted small pool' });
    let seed = 0;
    const source = async (items) => {
      if (items.length) return { clips: [], done: true };
      const feed = await api.productionFeed(name, { n: FEED_SIZE, seed });
      seed += 1;
      this.feedVersion = feed.version;
      this.poolCounts = { above: feed.pool?.above ?? 0, below: feed.pool?.below ?? 0 };
      this.counted = new Set();
      this.showPool();
      return { clips: feed.clips, done: true };
    };
    this.grid?.destroy();
    const grid = new ClipGrid({
      source, onAction: (act, clip, index, event) => this.cardAction(act, event),
      emptyText: 'Nothing to annotate: every production clip of this label is annotated (or none has been scored yet: `va score` scores new footage).',
    });
    grid.sourceName = PRODUCTION_SOURCE;
    grid.version = item?.version;
    this.grid = grid;
    clear(this.feedBox,
      h('div', { class: 'panel-head feed-head' },
        h('h2', { class: 'section-title' }, 'Production feed', h('span', { class: 'muted' }, ` · ${name}`)), this.pool),
      tabs,
      h('p', { class: 'tab-help muted' }, 'A stratified random sample of production clips, half above the threshold and half below. p / n / s annotate (source “production”): each answer sharpens live precision and recall, and goes into the next Build.'),
      grid.el);
    try {
      await grid.start({ prefetch: false });
    } catch (error) {
      grid.status.textContent = error.message;
      this.app.error(error);
    }
    if (this.grid === grid) grid.focus(0, { scroll: false });
  }

  showPool() {
    const { above, below } = this.poolCounts;
    this.pool.textContent = `not yet annotated: ${above.toLocaleString()} above the threshold, ${below.toLocaleString()} below`;
  }

  /** A feed clip annotated for the first time leaves the pool of clips nobody annotated. */
  countAnnotated(clip) {
    if (!clip || !this.poolCounts || this.counted.has(clip.clip_id)) return;
    this.counted.add(clip.clip_id);
    const side = clip.above_threshold ? 'above' : 'below';
    this.poolCounts[side] = Math.max(0, this.poolCounts[side] - 1);
    this.showPool();
  }

  cardAction(act, event) {
    if (act === 'positive' || act === 'negative' || act === 'skip') this.annotateCurrent(act, event.timeStamp);
    else if (act === 'open') this.openPlayer();
    else if (act === 'similar') {
      const current = this.grid?.current();
      if (current) this.app.navigate(`#/labels/${encodeURIComponent(this.current)}/search?like=${current.clip.clip_id}`);
    }
  }

  async annotateCurrent(value, startedAt) {
    const grid = this.grid;
    const current = grid?.current();
    if (!current) {
      grid?.focus(0);
      return;
    }
    if (!this.app.ensureAnnotator()) return;
    const clipId = this.app.player.open && this.app.player.clipId != null ? this.app.player.clipId : current.clip.clip_id;
    const clip = grid.items.find((c) => c.clip_id === clipId);
    const stored = annotate([clipId], value, { source: PRODUCTION_SOURCE, modelVersion: grid.version, startedAt })
      .then(() => this.countAnnotated(clip), (error) => this.app.error(error));
    if (clipId === current.clip.clip_id) {
      grid.move(1);
      if (this.app.player.open) this.openPlayer();
    }
    return stored;
  }

  openPlayer() {
    const current = this.grid?.current();
    if (!current) return;
    stopPreview();
    const handlers = {
      onAnnotate: (value) => this.annotateCurrent(value, performance.now()),
      onPick: (id) => this.app.player.show(id, handlers),
      onClose: () => this.grid?.focusCurrent(),
      onLabel: (name) => this.app.navigate(`#/labels/${encodeURIComponent(name)}`),
    };
    this.app.player.show(current.clip.clip_id, handlers);
  }

  scheduleRefresh() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.refresh(), 300);
  }

  /** After an annotation: the label's monitoring again (live precision moves). */
  async refresh() {
    const name = this.current;
    try {
      const { labels } = await api.monitor(name);
      const item = labels[0];
      if (!item) return;
      this.labels = this.labels.map((l) => (l.label === item.label ? item : l));
      const el = this.panels.get(item.label);
      if (el) this.fill(el, item);
    } catch (error) {
      this.app.error(error);
    }
  }

  /** A key from keys.js; false when it means nothing here. */
  action(name, arg, event) {
    const grid = this.grid;
    switch (name) {
      case 'next': return grid?.move(1);
      case 'prev': return grid?.move(-1);
      case 'down': return grid?.moveRows(1);
      case 'up': return grid?.moveRows(-1);
      case 'first': return grid?.focus(0);
      case 'last': return grid?.focus(grid.items.length - 1);
      case 'positive': case 'negative': case 'skip': this.annotateCurrent(name, event.timeStamp); return true;
      case 'flip': {
        const current = grid?.current();
        const value = current && session.values.get(current.clip.clip_id);
        if (value === 'positive' || value === 'negative') this.annotateCurrent(value === 'positive' ? 'negative' : 'positive', event.timeStamp);
        return true;
      }
      case 'undo':
        if (!this.app.ensureAnnotator()) return true;
        undo().then(({ clipId, value }) => toast(`Undone: clip #${clipId} is ${value ? VALUE_TEXT[value].toLowerCase() : 'not annotated'} now`),
          (error) => this.app.error(error));
        return true;
      case 'open': this.openPlayer(); return true;
      case 'preview': if (this.app.player.open) this.app.player.togglePlay(); return true;
      case 'tab': {
        const target = this.labels[arg - 1];
        if (target) this.app.navigate(`#/monitor?label=${encodeURIComponent(target.label)}`, { replace: true });
        return Boolean(target);
      }
      default: return false;
    }
  }
}

function stat(name, value, note, kind, key) {
  return h('div', { class: `monitor-stat ${kind ? `stat-${kind}` : ''}`, dataset: { stat: key } },
    h('div', { class: 'metric-name' }, name),
    h('div', { class: 'monitor-value' }, value),
    h('div', { class: 'muted small monitor-note' }, note));
}

function intervalText(interval) {
  return Array.isArray(interval) && interval.length === 2 ? `95% interval ${fmtNumber(interval[0])}–${fmtNumber(interval[1])}` : 'no interval yet';
}

function batchTable(batches) {
  const recent = batches.slice(-5).reverse();
  return h('details', { class: 'metric batches' },
    h('summary', { class: 'metric-name' }, `Score batches (${batches.length})`),
    h('table', { class: 'mini-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'when'), h('th', {}, 'source'), h('th', {}, 'clips'), h('th', {}, 'positive rate'))),
      h('tbody', {}, recent.map((b) => h('tr', {},
        h('td', { title: b.created_at || '' }, fmtWhen(b.created_at)),
        h('td', {}, b.source || ''),
        h('td', {}, (b.clips ?? 0).toLocaleString()),
        h('td', {}, fmtPercent(b.positive_rate, 1)))))));
}
