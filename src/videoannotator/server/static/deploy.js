// The label page's production panel: which version is live (and who put it there), the
// model card's verdict, the latest version's threshold with the precision and recall to
// expect, Deploy (a dry run first: "v3 would change K of N production decisions", with the
// clips) and Rollback.

import { api } from './api.js';
import { clear, fmtNumber, fmtWhen, h, plural, svg, toast } from './dom.js';
import { clipCard } from './grid.js';
import { session } from './session.js';

const CHANGED_SHOWN = 12; // cards of changed clips in the dry run (the route lists up to 200)

/** GET /api/labels/{name}/versions: {label, live, versions:[…], deployments:[…]} — and, from
 *  the route as it was before production, {label, versions: <that object>}. */
function normalise(data) {
  let d = data || {};
  if (d.versions && !Array.isArray(d.versions) && Array.isArray(d.versions.versions)) d = d.versions;
  const versions = Array.isArray(d.versions) ? d.versions : [];
  return {
    live: d.live ?? versions.find((v) => v.live)?.version ?? null,
    versions,
    deployments: Array.isArray(d.deployments) ? d.deployments : [],
    new_clips_since_live: d.new_clips_since_live ?? 0,
  };
}

export class DeployPanel {
  /** app: { navigate, error, ensureAnnotator, player }. onDeployed: after a deploy or a rollback. */
  constructor(name, app, { onDeployed } = {}) {
    this.name = name;
    this.app = app;
    this.onDeployed = onDeployed;
    this.state = null;
    this.card = null;
    this.busy = false;
    this.el = h('section', { class: 'panel deploy-panel', 'aria-label': 'Production' },
      h('div', { class: 'panel-head' }, h('h2', { class: 'panel-title' }, 'Production')),
      h('p', { class: 'muted small' }, 'Loading…'));
  }

  async load() {
    try {
      const versions = await api.versions(this.name);
      this.state = normalise(versions);
      // The card route came with the production routes, which answer /versions with `live`
      // at the top: before them, asking would only log a 404.
      this.card = versions && 'live' in versions && this.state.versions.length
        ? await api.card(this.name).catch(() => null) : null;
      this.dry = null;
      this.render();
    } catch (error) {
      clear(this.el, h('div', { class: 'panel-head' }, h('h2', { class: 'panel-title' }, 'Production')),
        h('p', { class: 'muted small' }, `Not available: ${error.message}`));
    }
  }

  get latest() {
    const v = this.state?.versions || [];
    return v.length ? v[v.length - 1] : null;
  }

  get liveRow() {
    const live = this.state?.live;
    return live == null ? null : this.state.versions.find((v) => v.version === live) || { version: live };
  }

  /** The version a rollback goes back to: the one live before the current one. */
  get rollbackTarget() {
    const { live, deployments } = this.state || {};
    if (live == null) return null;
    const earlier = (deployments || []).map((d) => d.version).filter((v) => v !== live);
    return earlier.length ? earlier[earlier.length - 1] : null;
  }

  render() {
    const latest = this.latest;
    const head = h('div', { class: 'panel-head' }, h('h2', { class: 'panel-title' }, 'Production'),
      this.state.live != null ? h('span', { class: 'live-pill' }, `v${this.state.live} live`) : null);
    if (!latest) {
      clear(this.el, head, h('p', { class: 'muted small' }, 'Build a model first; then deploy it to score new footage.'));
      return;
    }
    clear(this.el, head,
      this.liveLine(),
      this.verdictBlock(),
      this.thresholdBlock(latest),
      this.actions(latest),
      this.dryBox = h('div', { class: 'dry-run', 'aria-live': 'polite' }));
    if (this.dry) this.renderDry(this.dry);
  }

  liveLine() {
    const live = this.state.live;
    if (live == null) {
      return h('p', { class: 'live-line muted small' }, 'Not deployed: no version scores new footage yet.');
    }
    const last = [...this.state.deployments].reverse().find((d) => d.version === live) || {};
    const how = last.action === 'rollback' ? 'rolled back' : 'deployed';
    const who = last.deployer ? ` by ${last.deployer}` : '';
    const when = last.created_at ? ` ${fmtWhen(last.created_at)}` : '';
    const fresh = this.state.new_clips_since_live || 0;
    return h('p', { class: 'live-line small', title: last.created_at || '' },
      h('strong', {}, `v${live} live`), ` · ${how}${who}${when}`,
      fresh ? h('span', { class: 'new-clips' }, ` · ${plural(fresh, 'new clip')} since v${live}, scored as they arrived`) : null);
  }

  verdictBlock() {
    const card = this.card;
    if (!card?.verdict) return null;
    const slug = String(card.verdict).replace(/[^a-z]+/gi, '-').toLowerCase();
    return h('div', { class: 'metric verdict-block' },
      h('div', { class: 'metric-name' }, 'Model card'),
      h('p', { class: 'verdict-line' }, h('strong', { class: `verdict verdict-${slug}` }, sentence(card.verdict)),
        card.why ? h('span', { class: 'verdict-why' }, ` — ${card.why}`) : null),
      trendChart(card.ap_trend || []),
      card.since_last ? h('p', { class: 'muted small' }, card.since_last) : null);
  }

  thresholdBlock(version) {
    const t = version.threshold;
    if (!t || t.probability == null) {
      return h('div', { class: 'metric threshold-block' }, h('div', { class: 'metric-name' }, `Threshold of v${version.version}`),
        h('p', { class: 'muted small' }, 'No threshold information for this version (built before calibration).'));
    }
    const rows = [
      ['precision', t.precision, t.precision_low, t.precision_high],
      ['recall', t.recall, t.recall_low, t.recall_high],
    ];
    return h('div', { class: 'metric threshold-block' },
      h('div', { class: 'metric-name' }, `Threshold of v${version.version}`),
      h('p', { class: 'small' }, 'Positive above calibrated probability ', h('strong', { class: 'threshold-value' }, fmtNumber(t.probability)),
        t.rule ? h('span', { class: 'muted' }, ` (rule ${t.rule})`) : null),
      h('table', { class: 'mini-table expect-table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'expect'), h('th', {}, 'value'), h('th', {}, '95% interval'))),
        h('tbody', {}, rows.map(([name, value, low, high]) => h('tr', {},
          h('th', { scope: 'row' }, name),
          h('td', {}, fmtNumber(value)),
          h('td', { class: 'muted' }, low == null || high == null ? '—' : `${fmtNumber(low)}–${fmtNumber(high)}`))))),
      t.note ? h('p', { class: 'muted small' }, t.note) : null);
  }

  actions(latest) {
    const live = this.state.live;
    const buttons = [];
    if (latest.version !== live) {
      this.deployButton = h('button', { class: 'button primary small deploy-button', type: 'button', onclick: () => this.dryRun(latest.version) },
        `Deploy v${latest.version}…`);
      buttons.push(this.deployButton);
    }
    const target = this.rollbackTarget;
    if (target != null) {
      buttons.push(h('button', { class: 'button small rollback-button', type: 'button', onclick: () => this.rollback(target) },
        `Roll back to v${target}`));
    }
    if (!buttons.length) {
      return h('p', { class: 'muted small' }, `The latest version, v${latest.version}, is live.`);
    }
    return h('div', { class: 'deploy-actions' }, buttons);
  }

  async dryRun(version) {
    if (this.busy) return;
    this.busy = true;
    if (this.deployButton) this.deployButton.disabled = true;
    clear(this.dryBox, h('p', { class: 'muted small' }, `Checking what v${version} would change…`));
    try {
      const result = await api.deploy(this.name, { version, dry_run: true });
      this.dry = result;
      this.renderDry(result);
    } catch (error) {
      clear(this.dryBox, h('p', { class: 'error-text small' }, error.message));
    } finally {
      this.busy = false;
      if (this.deployButton) this.deployButton.disabled = false;
    }
  }

  renderDry(result) {
    const v = result.version;
    const changes = result.changes;
    let summary;
    let cards = null;
    if (!changes) {
      summary = h('p', { class: 'dry-summary small' }, result.previous == null
        ? `v${v} would be the first live version: new footage is scored with it from then on.`
        : `v${v} is live already.`);
    } else {
      const corpus = changes.scope === 'corpus';
      summary = h('p', { class: 'dry-summary small' },
        h('strong', {}, `v${v} would change ${changes.changed.toLocaleString()} of ${plural(changes.decisions, corpus ? 'decision' : 'production decision')}`),
        corpus ? ' over the corpus (nothing scored in production yet)' : '',
        ` (${changes.became_positive.toLocaleString()} became positive, ${changes.became_negative.toLocaleString()} negative).`);
      if (changes.clips?.length) {
        const shown = changes.clips.slice(0, CHANGED_SHOWN);
        cards = h('div', { class: 'grid compact-grid changed-clips', role: 'list', 'aria-label': 'Clips whose decision changes' },
          shown.map((clip) => {
            const card = clipCard(clip);
            card.tabIndex = 0;
            card.classList.add('compact', clip.now_positive ? 'now-positive' : 'now-negative');
            card.querySelector('.actions')?.remove();
            card.querySelector('.meta').after(h('div', { class: `change-line ${clip.now_positive ? 'to-positive' : 'to-negative'}` },
              clip.now_positive ? 'now positive' : 'now negative'));
            const open = () => this.app.player.show(clip.clip_id, { onPick: (id) => this.app.player.show(id, {}), onClose: () => card.focus() });
            card.addEventListener('click', open);
            card.addEventListener('keydown', (event) => {
              if (event.key === 'Enter' || event.key === 'o') {
                event.preventDefault();
                event.stopPropagation();
                open();
              }
            });
            return card;
          }));
        if (changes.clips.length > shown.length || changes.changed > shown.length) {
          cards = [cards, h('p', { class: 'muted small' }, `${shown.length} of ${plural(changes.changed, 'changed clip')} shown.`)];
        }
      }
    }
    const confirm = h('button', { class: 'button primary small confirm-deploy', type: 'button', onclick: () => this.confirm(v) }, `Deploy v${v}`);
    const cancel = h('button', { class: 'button ghost small', type: 'button', onclick: () => {
      this.dry = null;
      clear(this.dryBox);
      this.deployButton?.focus();
    } }, 'Cancel');
    clear(this.dryBox, summary, cards, h('div', { class: 'deploy-actions' }, confirm, cancel));
    confirm.focus({ preventScroll: true });
  }

  async confirm(version) {
    if (this.busy) return;
    this.busy = true;
    try {
      const result = await api.deploy(this.name, { version, dry_run: false, ...(session.annotator ? { deployer: session.annotator } : {}) });
      toast(`v${result.version} is live${result.previous != null ? ` (was v${result.previous})` : ''}`);
      await this.load();
      this.onDeployed?.(result);
    } catch (error) {
      this.app.error(error);
    } finally {
      this.busy = false;
    }
  }

  async rollback(target) {
    if (this.busy) return;
    this.busy = true;
    try {
      const result = await api.rollback(this.name, session.annotator ? { deployer: session.annotator } : {});
      toast(`Rolled back: v${result.version ?? target} is live again`);
      await this.load();
      this.onDeployed?.(result);
    } catch (error) {
      this.app.error(error);
    } finally {
      this.busy = false;
    }
  }
}

function sentence(text) {
  const s = String(text);
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** AP per version as a small line (an <svg>): the model card's trend. */
function trendChart(trend) {
  const points = trend.map((ap, i) => [i, ap]).filter(([, ap]) => ap != null);
  if (points.length < 2) return null;
  const w = 120;
  const hgt = 28;
  const x = (i) => 3 + (i / Math.max(1, trend.length - 1)) * (w - 6);
  // the values' own range (at least 0.1 wide), so a change of 0.01 still shows
  const values = points.map(([, ap]) => ap);
  const mid = (Math.min(...values) + Math.max(...values)) / 2;
  const span = Math.max(0.1, Math.max(...values) - Math.min(...values));
  const lo = Math.max(0, Math.min(mid - span / 2, 1 - span));
  const y = (ap) => hgt - 4 - ((ap - lo) / span) * (hgt - 8);
  const d = points.map(([i, ap], k) => `${k ? 'L' : 'M'}${x(i).toFixed(1)},${y(ap).toFixed(1)}`).join(' ');
  const label = `AP per version: ${points.map(([i, ap]) => `v${i + 1} ${fmtNumber(ap)}`).join(', ')}`;
  return h('div', { class: 'trend small muted' },
    svg('svg', { class: 'trend-chart', viewBox: `0 0 ${w} ${hgt}`, width: w, height: hgt, role: 'img', 'aria-label': label },
      svg('title', {}, label),
      svg('path', { d, class: 'trend-line' }),
      points.map(([i, ap]) => svg('circle', { cx: x(i).toFixed(1), cy: y(ap).toFixed(1), r: 2.5, class: 'trend-dot' }))),
    h('span', {}, `AP ${points.map(([, ap]) => fmtNumber(ap)).join(' → ')}`));
}

