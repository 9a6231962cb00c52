// One label's page: the guideline and the model on the left, the three steps on the right
// (1 search, 2 the four feeds, 3 review), every action on a key and on a button.

import { api } from './api.js';
import { calibrationOf, clear, fmtMs, fmtNumber, fmtWhen, h, plural, toast, VALUE_TEXT } from './dom.js';
import { ClipGrid, preloadThumbs, startPreview, stopPreview, warmPreview } from './grid.js';
import { DeployPanel } from './deploy.js';
import { live, refreshInfo, textModelState } from './live.js';
import { modelPanel } from './model.js';
import { annotate, openLabel, session, setValue, undo } from './session.js';

// The feeds and review filters are named by the server (GET /api/meta, from names.py);
// the page only words them. ``useNames`` fills FEEDS and FILTERS before the first render.
const FEED_TEXT = {
  top_positive: { title: 'Top positive', help: 'The clips the model is surest are positive: confirm them, or catch its false positives.' },
  top_negative: { title: 'Top negative', help: 'The clips the model is surest are negative: look for positives it missed.' },
  borderline: { title: 'Borderline', help: 'The clips the model is least sure about: each answer here teaches it the most, once the label has about ten positives (it taught models fastest in our evaluation).' },
  random: { title: 'Random', help: 'A random sample of the catalog: keeps the model honest about what it has never seen.' },
};
const FILTER_TITLES = {
  all: 'All', positive: 'Positive', negative: 'Negative', skip: 'Skipped', unresolved: 'Unresolved',
  model_disagrees: 'Model disagrees', annotators_disagree: 'Annotators disagree',
};
const wordy = (name) => name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
export const FEEDS = [];
export const FILTERS = [];
export function useNames(meta) {
  FEEDS.splice(0, FEEDS.length, ...meta.feeds.map((name) => ({ name, title: FEED_TEXT[name]?.title ?? wordy(name), help: FEED_TEXT[name]?.help ?? '' })));
  FILTERS.splice(0, FILTERS.length, ...meta.review_filters.map((name) => ({ name, title: FILTER_TITLES[name] ?? wordy(name) })));
}
const STEPS = [
  { name: 'search', title: 'Search', key: '/' },
  { name: 'learn', title: 'Learn', key: 'l' },
  { name: 'review', title: 'Review', key: 'r' },
];
const SEARCH_PAGE = 48;
const FEED_PAGE = 100;
const REVIEW_PAGE = 120;
const HISTOGRAM_BINS = 40;
// The feed a label opens on when the server suggests none, and how many new annotations make
// the page suggest a Build: the evaluation harness found borderline (once a label has enough
// positives; before that the server's `next` suggests a hunt) and a Build every 10 fastest.
const DEFAULT_FEED = 'borderline';
const BUILD_EVERY = 10;

const SUMMARY_EVERY_MS = 30_000; // "built 2 min ago" stays true
const TEXT_MODEL_NOTE = 'Loading the text model (first search only)…';

// The last search per label (text, or more-like-this, hide-annotated, the card in focus), kept
// for the tab's life: `/` and the Search tab go back to it, not to the label's keywords.
const lastSearches = new Map();
const SEARCH_KEY = 'va.lastSearch.';

function lastSearch(name) {
  if (!lastSearches.has(name)) {
    let saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem(SEARCH_KEY + name) || 'null');
    } catch {
      saved = null;
    }
    lastSearches.set(name, saved && typeof saved === 'object' ? saved : null);
  }
  return lastSearches.get(name);
}

function rememberSearch(name, search) {
  lastSearches.set(name, search);
  try {
    sessionStorage.setItem(SEARCH_KEY + name, JSON.stringify(search));
  } catch {
    // storage full or refused: the memory above still holds it
  }
}

function idleCallback(callback) {
  if (window.requestIdleCallback) requestIdleCallback(callback, { timeout: 2000 });
  else setTimeout(callback, 50);
}

export class LabelPage {
  constructor(name, app) {
    this.name = name;
    this.app = app; // { navigate, error, player, started }
    this.step = null;
    this.feed = null; // the feed on show
    this.pickedFeed = null; // the feed the annotator picked; until then the server's suggestion
    this.filter = 'all';
    this.search = { q: null, like: null, hide: false };
    this.grids = { search: null, review: null };
    this.feedGrids = new Map();
    this.reviewDirty = true;
    this.timings = null;
    this.building = false;
    this.onChange = () => this.scheduleRefresh();
    session.events.addEventListener('change', this.onChange);
    this.onCounts = () => this.countsChanged();
    window.addEventListener('va:counts', this.onCounts);
    this.summaryTimer = setInterval(() => this.renderSummary(), SUMMARY_EVERY_MS);
    this.side = h('aside', { class: 'sidebar', 'aria-label': 'Label and model' });
    this.main = h('section', { class: 'steps' });
    this.el = h('div', { class: 'label-page' }, this.side, this.main);
  }

  async load() {
    const [label, review] = await Promise.all([api.label(this.name), api.review(this.name, 'all')]);
    this.label = label;
    this.name = label.name;
    this.reviewAll = review.annotations;
    this.histogram = null;
    openLabel(label.name, review.annotations);
    this.renderSide();
    this.renderSteps();
    if (this.hasModel) this.loadHistogram(); // drawn when it comes; the feed loads meanwhile
  }

  async loadHistogram() {
    const version = this.latestVersion;
    try {
      const histogram = await api.histogram(this.name, HISTOGRAM_BINS);
      if (version !== this.latestVersion || this.histogram) return;
      this.histogram = histogram;
      this.renderModel();
    } catch (error) {
      this.app.error(error);
    }
  }

  get hasModel() {
    return (this.label.versions || []).length > 0;
  }

  /** The latest version's calibration and threshold: feed and review cards show calibrated
   *  probabilities, green above the version's threshold. */
  get calibration() {
    const versions = this.label.versions || [];
    return versions.length ? calibrationOf(versions[versions.length - 1]) : null;
  }

  /** The feed the server suggests next (`label.next`, from learn/next_feed.py), or the default. */
  get suggestedFeed() {
    const next = this.label.next?.feed;
    return FEEDS.some((f) => f.name === next) ? next : DEFAULT_FEED;
  }

  get latestVersion() {
    const versions = this.label.versions || [];
    return versions.length ? versions[versions.length - 1].version : null;
  }

  destroy() {
    session.events.removeEventListener('change', this.onChange);
    window.removeEventListener('va:counts', this.onCounts);
    clearInterval(this.summaryTimer);
    this.saveSearchPosition();
    clearTimeout(this.refreshTimer);
    for (const grid of this.allGrids()) grid.destroy();
  }

  allGrids() {
    return [this.grids.search, this.grids.review, ...this.feedGrids.values()].filter(Boolean);
  }

  // -- the left column -------------------------------------------------------------------
  renderSide() {
    this.guideline = h('section', { class: 'panel guideline', 'aria-label': 'Guideline' });
    this.renderGuideline();
    this.countsBox = h('div', { class: 'stats' });
    this.renderCounts();
    this.buildButton = h('button', { class: 'button primary build-button build-action', type: 'button', onclick: () => this.build() },
      'Build model', h('kbd', {}, 'b'));
    this.progress = h('div', { class: 'progress', hidden: true, role: 'progressbar', 'aria-label': 'Build progress' },
      h('div', { class: 'progress-bar' }));
    this.buildStatus = h('p', { class: 'build-status small muted', 'aria-live': 'polite' });
    this.modelBox = h('div', { class: 'model-box' });
    this.renderModel();
    this.deploy = new DeployPanel(this.name, this.app);
    this.deploy.load();
    const exports = h('section', { class: 'panel exports small' },
      h('span', { class: 'muted' }, 'Export '),
      h('a', { href: api.exportUrl(this.name, 'model'), download: '' }, 'model JSON'), ' · ',
      h('a', { href: api.exportUrl(this.name, 'annotations', 'csv'), download: '' }, 'annotations CSV'), ' · ',
      h('a', { href: api.exportUrl(this.name, 'annotations', 'jsonl'), download: '' }, 'JSONL'));
    clear(this.side,
      this.guideline,
      h('section', { class: 'panel counts', 'aria-label': 'Annotations' },
        h('div', { class: 'panel-head' }, h('h2', { class: 'panel-title' }, 'Annotations'),
          h('button', { class: 'button ghost small', type: 'button', title: 'Undo your last annotation (u)', onclick: () => this.undo() }, '↶ Undo', h('kbd', {}, 'u'))),
        this.countsBox),
      h('section', { class: 'panel build' }, this.buildButton, this.progress, this.buildStatus),
      this.modelBox,
      this.deploy.el,
      exports);
    this.renderCounts();
  }

  renderGuideline() {
    const label = this.label;
    const keywords = label.keywords.length
      ? h('ul', { class: 'keywords', 'aria-label': 'Keywords' }, label.keywords.map((k) => h('li', {},
        h('button', { type: 'button', class: 'keyword', title: 'Search for this', onclick: () => this.goSearch({ q: k }) }, k))))
      : null;
    const edit = h('button', { class: 'button ghost small', type: 'button', onclick: () => this.editGuideline() }, 'Edit');
    clear(this.guideline,
      h('div', { class: 'panel-head' }, h('span', { class: 'eyebrow' }, 'Label · guideline'), edit),
      h('h1', { class: 'label-name' }, label.name),
      label.description
        ? h('p', { class: 'description' }, label.description)
        : h('p', { class: 'description muted' }, 'No description yet: say what counts as positive, so every annotator decides alike.'),
      keywords);
  }

  editGuideline() {
    const description = h('textarea', { name: 'description', rows: 4, maxlength: 5000, 'aria-label': 'Description' });
    description.value = this.label.description;
    const keywords = h('input', { name: 'keywords', type: 'text', maxlength: 2000, 'aria-label': 'Keywords', placeholder: 'comma, separated' });
    keywords.value = this.label.keywords.join(', ');
    const form = h('form', { class: 'edit-guideline' },
      h('label', {}, 'Description', description), h('label', {}, 'Keywords', keywords),
      h('div', { class: 'form-actions' },
        h('button', { class: 'button ghost small', type: 'button', onclick: () => this.renderGuideline() }, 'Cancel'),
        h('button', { class: 'button primary small', type: 'submit' }, 'Save')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const updated = await api.updateLabel(this.name, { description: description.value, keywords: keywords.value });
        Object.assign(this.label, updated);
        this.renderGuideline();
        toast('Guideline saved');
      } catch (error) {
        this.app.error(error);
      }
    });
    clear(this.guideline, h('div', { class: 'panel-head' }, h('span', { class: 'eyebrow' }, 'Edit guideline')),
      h('h1', { class: 'label-name' }, this.label.name), form);
    description.focus();
  }

  renderModel() {
    clear(this.modelBox, modelPanel({ label: this.label, histogram: this.histogram, timings: this.timings, clips: live.info?.clips }));
  }

  get latest() {
    const versions = this.label.versions || [];
    return versions.length ? versions[versions.length - 1] : null;
  }

  /** Why a Build cannot run now, or null when it can. */
  buildBlocker() {
    if (this.building) return 'A Build is running.';
    const counts = this.label.counts || {};
    const pos = counts.positive ?? 0;
    const neg = counts.negative ?? 0;
    if (live.info && !live.info.clips) return 'No clips to learn from yet: `va ingest` adds videos.';
    if (pos && neg) return null;
    const have = !pos && !neg ? 'none yet'
      : pos ? `${plural(pos, 'positive')} so far, no negative` : `${plural(neg, 'negative')} so far, no positive`;
    return `Build needs at least one positive and one negative clip: ${have}.`;
  }

  /** Every Build button (the sidebar's, the Learn step's, the new-clips line's): disabled, with
   *  the reason as its title, when a Build cannot run. */
  renderBuildButtons() {
    const blocker = this.buildBlocker();
    for (const button of this.el.querySelectorAll('.build-action')) {
      button.disabled = Boolean(blocker);
      if (blocker) button.title = blocker;
      else button.title = 'Fit the model on every annotation, score every clip (b)';
    }
  }

  renderCounts() {
    const counts = this.label.counts || {};
    const pos = counts.positive ?? 0;
    const neg = counts.negative ?? 0;
    const usable = pos + neg;
    const latest = this.latest;
    const learned = latest?.metrics?.n_labeled ?? 0;
    const due = Boolean(latest) && pos > 0 && neg > 0 && usable - learned >= BUILD_EVERY;
    this.buildButton?.classList.toggle('due', due);
    if (!this.building && this.buildStatus && !this.buildStatus.dataset.result) {
      const blocker = this.buildBlocker();
      const v = latest ? `v${latest.version}` : '';
      this.buildStatus.textContent = blocker
        ? blocker
        : due ? `${plural(usable - learned, 'new annotation')} since ${v}: build again (b). A Build every ~${BUILD_EVERY} annotations teaches the model fastest.`
          : !latest ? `Ready: ${plural(usable, 'annotation')} to learn from. Build (b) makes v1.`
            : usable === learned ? `Model ${v} learned from ${learned === 1 ? 'the one annotation' : `all ${plural(learned, 'annotation')}`}.`
              : usable > learned ? `Model ${v} learned from ${learned} of ${usable} annotations — Build to use ${usable - learned} more.`
                : `Model ${v} learned from ${plural(learned, 'annotation')}; ${usable} count now (some were undone or skipped) — Build to update it.`;
    }
    this.renderBuildButtons();
    clear(this.countsBox, ['positive', 'negative', 'skip', 'unresolved'].map((value) =>
      h('div', { class: `stat stat-${value}`, dataset: { value } },
        h('span', { class: 'stat-number' }, String(counts[value] ?? 0)),
        h('span', { class: 'stat-name' }, VALUE_TEXT[value]))));
  }

  /** live.js saw the workspace change (clips ingested, the text model ready): say so. */
  countsChanged() {
    if (!this.label) return;
    this.renderModel();
    this.renderNewClips();
    this.renderCounts();
  }

  scheduleRefresh() {
    this.reviewDirty = true;
    delete this.buildStatus?.dataset.result;
    this.progress?.classList.remove('done', 'failed');
    if (this.progress && !this.building) this.progress.hidden = true;
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.refreshLabel(), 250);
  }

  async refreshLabel() {
    try {
      const label = await api.label(this.name);
      this.label = { ...this.label, ...label };
      this.renderCounts();
      this.renderNext();
      if (!this.hasModel) { // the empty model panel and Learn step say what the counts allow
        this.renderModel();
        if (!this.feedTabs) this.renderLearn();
      }
    } catch (error) {
      this.app.error(error);
    }
  }

  // -- the steps -------------------------------------------------------------------------
  renderSteps() {
    this.stepTabs = h('nav', { class: 'step-tabs', 'aria-label': 'Steps' }, STEPS.map((step, i) =>
      h('a', { class: 'step-tab', href: this.href(step.name), dataset: { step: step.name } },
        h('span', { class: 'step-number' }, String(i + 1)), step.title, h('kbd', {}, step.key))));
    this.panels = {
      search: this.searchPanel(),
      learn: h('div', { class: 'step-panel', hidden: true, dataset: { step: 'learn' } }),
      review: h('div', { class: 'step-panel', hidden: true, dataset: { step: 'review' } }),
    };
    clear(this.main, this.stepTabs, Object.values(this.panels));
  }

  href(step, arg, params) {
    const base = `#/labels/${encodeURIComponent(this.name)}/${step}`;
    const tail = arg ? `/${encodeURIComponent(arg)}` : '';
    const query = params ? `?${new URLSearchParams(params)}` : '';
    return base + tail + query;
  }

  defaultStep() {
    return this.hasModel ? 'learn' : 'search';
  }

  /** Show a step (from the address): route = { step, arg, params }. */
  async show(route, { startedAt } = {}) {
    const step = route.step || this.defaultStep();
    if (this.step === 'search' && step !== 'search') this.saveSearchPosition();
    this.step = step;
    for (const [name, panel] of Object.entries(this.panels)) panel.hidden = name !== step;
    for (const tab of this.stepTabs.children) tab.classList.toggle('active', tab.dataset.step === step);
    this.stepTabs.querySelectorAll('.step-tab').forEach((tab) => tab.setAttribute('aria-current', tab.dataset.step === step ? 'page' : 'false'));
    if (step === 'search') await this.showSearch(route.params || new URLSearchParams(), route);
    else if (step === 'learn') await this.showFeed(route.arg || this.pickedFeed || this.suggestedFeed, { startedAt });
    else if (step === 'review') await this.showReview(route.arg || this.filter);
  }

  activeGrid() {
    if (this.step === 'search') return this.grids.search;
    if (this.step === 'learn') return this.feedGrids.get(this.feed) || null;
    if (this.step === 'review') return this.grids.review;
    return null;
  }

  // step 1 ---------------------------------------------------------------------------------
  searchPanel() {
    this.searchInput = h('input', {
      type: 'search', name: 'q', class: 'search-input', maxlength: 1000, autocomplete: 'off', spellcheck: 'false',
      placeholder: 'Describe what you look for, e.g. “ships at sea”', 'aria-label': 'Search clips by text',
    });
    this.hideBox = h('input', { type: 'checkbox', name: 'hide' });
    const form = h('form', { class: 'searchbar', role: 'search' },
      h('span', { class: 'search-icon', 'aria-hidden': 'true' }, '⌕'),
      this.searchInput,
      h('label', { class: 'check' }, this.hideBox, 'Hide annotated'),
      h('button', { class: 'button primary', type: 'submit' }, 'Search'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const q = this.searchInput.value.trim();
      if (!q) return;
      this.focusAfterSearch = true;
      this.goSearch({ q, hide: this.hideBox.checked });
    });
    this.hideBox.addEventListener('change', () => {
      if (this.search.q || this.search.like) this.goSearch({ ...this.search, hide: this.hideBox.checked });
    });
    this.searchNote = h('div', { class: 'search-note' });
    this.searchHost = h('div', { class: 'grid-host' });
    return h('div', { class: 'step-panel', dataset: { step: 'search' } }, form, this.searchNote, this.searchHost);
  }

  goSearch({ q, like, hide }) {
    const params = {};
    if (like != null) params.like = String(like);
    else if (q) params.q = q;
    if (hide) params.hide = '1';
    this.app.navigate(this.href('search', null, params));
  }

  defaultQuery() {
    const words = this.label.keywords.length ? this.label.keywords.join(', ') : this.label.name.replace(/[-_.]+/g, ' ');
    return words.slice(0, 1000);
  }

  /** Where the last search of this label is kept (by id: a rename keeps it). */
  get searchKey() {
    return String(this.label?.id ?? this.name);
  }

  /** The last search's address parameters ({q} or {like}, and hide), or the keywords' query. */
  lastSearchParams() {
    const last = this.search.q || this.search.like != null ? this.search : lastSearch(this.searchKey);
    const params = last?.like != null ? { like: String(last.like) } : { q: last?.q || this.defaultQuery() };
    if (last?.hide) params.hide = '1';
    return params;
  }

  /** The last text query typed (kept through "more like this"), or the keywords' query. */
  lastText() {
    return this.search.text || lastSearch(this.searchKey)?.text || this.defaultQuery();
  }

  saveSearchPosition() {
    const grid = this.grids.search;
    if (!grid || !this.label || (!this.search.q && this.search.like == null)) return;
    rememberSearch(this.searchKey, { ...this.search, index: grid.index });
  }

  async showSearch(params) {
    if (!params.has('q') && !params.has('like')) params = new URLSearchParams(this.lastSearchParams());
    const like = params.get('like');
    const q = like ? null : (params.get('q') || this.defaultQuery());
    const hide = params.get('hide') === '1';
    const remembered = lastSearch(this.searchKey);
    const wanted = { q, like: like ? Number(like) : null, hide, text: q ?? this.lastText() };
    if (this.grids.search && wanted.q === this.search.q && wanted.like === this.search.like && wanted.hide === this.search.hide) {
      if (this.focusAfterSearch) this.grids.search.focus(0);
      this.focusAfterSearch = false;
      return;
    }
    this.search = wanted;
    const sameAsRemembered = remembered && remembered.q === wanted.q && remembered.like === wanted.like && remembered.hide === wanted.hide;
    rememberSearch(this.searchKey, { ...wanted, index: sameAsRemembered ? remembered.index : -1 });
    this.searchInput.value = wanted.text || '';
    this.hideBox.checked = hide;
    clear(this.searchNote, wanted.like != null ? h('span', { class: 'chip' }, `More like clip #${wanted.like}`,
      h('a', { href: this.href('search', null, { q: wanted.text }), class: 'chip-close', 'aria-label': 'Back to the text search' }, '×')) : null);
    const source = async (items) => {
      const offset = wanted.hide ? items.filter((c) => !session.values.has(c.clip_id)).length : items.length;
      const options = { k: SEARCH_PAGE, offset, label: this.name, hideAnnotated: wanted.hide };
      const result = wanted.like != null ? await api.similar(wanted.like, options) : await api.search({ q: wanted.q, ...options });
      return { clips: result.clips, done: result.clips.length < SEARCH_PAGE };
    };
    const grid = new ClipGrid({
      source, scoreKind: 'similarity', onAction: (act, clip, index, event) => this.cardAction(act, event),
      emptyText: 'No clips match. Try other words.',
    });
    grid.sourceName = wanted.like != null ? 'similar' : 'search';
    this.grids.search?.destroy();
    this.grids.search = grid;
    clear(this.searchHost, grid.el);
    const started = grid.start();
    if (wanted.like == null) this.sayTextModel(grid, started);
    try {
      await started;
    } catch (error) {
      grid.status.textContent = error.message;
      this.app.error(error);
    }
    if (this.grids.search !== grid) return;
    if (this.focusAfterSearch) grid.focus(0);
    else if (sameAsRemembered && remembered.index > 0 && remembered.index < grid.items.length) {
      // back to the card last in focus, without taking the focus from the search box
      grid.index = remembered.index;
      grid.cards.forEach((card, i) => { card.tabIndex = i === grid.index ? 0 : -1; });
      if (document.activeElement === this.searchInput) grid.cards[grid.index].scrollIntoView({ block: 'nearest' });
      else grid.focusCurrent();
    }
    this.focusAfterSearch = false;
  }

  /** A text search sent while the server still loads the text model waits ~10 s once: say so
   *  in the grid instead of a bare "Loading…" until the results come. */
  sayTextModel(grid, started) {
    let done = false;
    started.then(() => { done = true; }, () => { done = true; });
    const say = (info) => {
      if (done || this.grids.search !== grid || textModelState(info) === 'ready') return;
      grid.status.textContent = TEXT_MODEL_NOTE;
      grid.status.classList.add('text-model-loading');
      started.finally(() => grid.status.classList.remove('text-model-loading')).catch(() => {});
    };
    if (live.info && textModelState() === 'ready') return; // once ready, it stays ready
    refreshInfo().then((info) => info && say(info)); // the state now: the last poll may be seconds old
  }

  // step 2 ---------------------------------------------------------------------------------
  renderLearn() {
    const panel = this.panels.learn;
    if (!this.hasModel) {
      const blocker = this.buildBlocker();
      const counts = this.label.counts || {};
      clear(panel, h('div', { class: 'empty-state' },
        h('h2', {}, 'No model yet'),
        h('p', {}, blocker
          ? `${blocker} Find some in Search, then Build: the four feeds appear here.`
          : `${plural(counts.positive, 'positive')} and ${plural(counts.negative, 'negative')} are ready: Build, and the four feeds appear here.`),
        h('button', { class: 'button primary build-action', type: 'button', onclick: () => this.build() }, 'Build model', h('kbd', {}, 'b'))));
      this.feedTabs = null;
      this.summaryLine = null;
      this.newClipsNote = null;
      this.renderBuildButtons();
      return;
    }
    this.feedTabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Feeds' }, FEEDS.map((feed, i) =>
      h('button', { class: 'tab', role: 'tab', type: 'button', dataset: { feed: feed.name }, onclick: (e) => this.switchFeed(feed.name, e.timeStamp) },
        h('kbd', {}, String(i + 1)), feed.title)));
    this.feedHelp = h('p', { class: 'tab-help muted' });
    this.nextNote = h('p', { class: 'next-feed small', 'aria-live': 'polite' });
    this.feedHost = h('div', { class: 'grid-host' });
    this.summaryLine = h('p', { class: 'model-summary small', 'aria-label': 'Model summary' });
    this.newClipsNote = h('p', { class: 'new-clips small', role: 'status', hidden: true });
    clear(panel, this.summaryLine, this.newClipsNote,
      h('div', { class: 'tabbar' }, this.feedTabs, h('span', { class: 'muted small version-note' }, `model v${this.latestVersion}`)),
      this.nextNote, this.feedHelp, this.feedHost);
    this.renderSummary();
    this.renderNewClips();
    this.renderNext();
  }

  /** One line above the feed tabs: the version, what it learned from, AP, threshold, age. */
  renderSummary() {
    const latest = this.latest;
    if (!this.summaryLine || !latest) return;
    const m = latest.metrics || {};
    const pos = m.n_positive ?? 0;
    const neg = m.n_negative ?? 0;
    const threshold = calibrationOf(latest).threshold;
    const ap = m.cv?.ap;
    const dot = () => h('span', { class: 'sep', 'aria-hidden': 'true' }, ' · ');
    clear(this.summaryLine,
      h('strong', { class: 'summary-version' }, `v${latest.version}`), dot(),
      h('span', {}, `${plural(pos + neg, 'annotation')} (${pos} ✓ ${neg} ✕)`), dot(),
      h('span', { title: ap == null ? m.cv?.reason || 'not measured' : 'cross-validated average precision' }, `AP ${fmtNumber(ap)}`),
      threshold == null ? null : [dot(), h('span', { title: 'calibrated probability above which a clip is positive' }, `threshold ${fmtNumber(threshold)}`)],
      dot(), h('span', { title: latest.created_at }, `built ${fmtWhen(latest.created_at)}`));
  }

  /** "7 new clips since v3 — Build to score them": clips ingested after the latest version was
   *  built (the feeds score them with its weights on the fly, so they can top a feed). */
  renderNewClips() {
    const note = this.newClipsNote;
    const latest = this.latest;
    if (!note || !latest) return;
    const clips = live.info?.clips;
    const fresh = clips == null ? 0 : clips - latest.clips_scored;
    note.hidden = fresh <= 0;
    if (fresh <= 0) {
      clear(note);
      return;
    }
    const v = `v${latest.version}`;
    clear(note,
      h('span', { class: 'new-clips-text' },
        h('strong', {}, `${plural(fresh, 'new clip')} since ${v}`),
        ` — not in ${v}’s histogram or AP; the feeds rank ${fresh === 1 ? 'it' : 'them'} by ${v}’s weights,` +
          ` so ${fresh === 1 ? 'it' : 'they'} may top a feed.`),
      h('button', { class: 'button primary small build-action', type: 'button', onclick: () => this.build() }, 'Build to score them'));
    this.renderBuildButtons();
  }

  /** "Next: <source> — why", from the server's `label.next`, and a mark on the suggested tab. */
  renderNext() {
    if (!this.nextNote) return;
    const next = this.label.next;
    for (const tab of this.feedTabs?.children ?? []) {
      const on = tab.dataset.feed === next?.feed;
      tab.classList.toggle('suggested', on);
      if (on) tab.title = 'Suggested next';
      else tab.removeAttribute('title');
    }
    if (!next) {
      clear(this.nextNote);
      return;
    }
    const feed = FEEDS.find((f) => f.name === next.feed);
    const target = feed
      ? h('a', { href: this.href('learn', feed.name) }, feed.title)
      : h('a', { href: this.href('search', null, { q: this.defaultQuery(), hide: '1' }) }, 'Search');
    clear(this.nextNote, h('span', { class: 'next-label' }, 'Next: '), target, ` — ${next.reason}.`);
  }

  switchFeed(name, startedAt) {
    this.pickedFeed = name;
    this.app.navigate(this.href('learn', name), { replace: true, startedAt });
  }

  async showFeed(name, { startedAt } = {}) {
    if (!FEEDS.some((f) => f.name === name)) name = DEFAULT_FEED;
    if (!this.feedTabs || this.learnVersion !== this.latestVersion) {
      for (const grid of this.feedGrids.values()) grid.destroy();
      this.feedGrids.clear();
      this.learnVersion = this.latestVersion;
      this.renderLearn();
    }
    if (!this.feedTabs) return;
    this.feed = name;
    for (const tab of this.feedTabs.children) {
      const on = tab.dataset.feed === name;
      tab.classList.toggle('active', on);
      tab.setAttribute('aria-selected', String(on));
    }
    this.feedHelp.textContent = FEEDS.find((f) => f.name === name).help;
    let grid = this.feedGrids.get(name);
    const firstView = !grid?.shown;
    const prebuilt = Boolean(grid) && !grid.shown;
    grid ??= this.feedGrid(name);
    await grid.ready;
    if (this.feed !== name || this.feedGrids.get(name) !== grid) return; // switched again meanwhile
    if (!grid.shown) grid.prefetch(); // its next page, now that someone looks at it
    grid.shown = true;
    for (const other of this.feedHost.children) other.classList.toggle('offstage', other !== grid.el);
    stopPreview();
    if (document.activeElement?.closest?.('.grid') || startedAt != null) grid.focusCurrent();
    if (startedAt != null) {
      // rAF then a task: the measure ends once the frame with the cards has been painted
      requestAnimationFrame(() => setTimeout(() => performance.measure('va:feed-switch', {
        start: startedAt, end: performance.now(), detail: { feed: name, firstView, prebuilt, cards: grid.items.length },
      }), 0));
    }
    this.prefetchFeeds();
  }

  /** A feed's grid, its first page loading (grid.ready). With `idle`, the page is fetched and
   *  its cards built when the browser has nothing else to do, out of sight. */
  feedGrid(name, { idle = false } = {}) {
    const source = async (items) => {
      const offset = items.filter((c) => !session.values.has(c.clip_id)).length;
      const result = await api.feed(this.name, name, { n: FEED_PAGE, offset, seed: 0 });
      if (idle && items.length === 0) {
        preloadThumbs(result.clips);
        await new Promise((resolve) => idleCallback(resolve));
      }
      grid.version = result.version;
      // Cards built ahead may meet clips annotated since: the server would leave them out now.
      const clips = result.clips.filter((c) => !session.values.has(c.clip_id));
      return { clips, done: result.clips.length < FEED_PAGE };
    };
    const grid = new ClipGrid({
      source, onAction: (act, clip, index, event) => this.cardAction(act, event), calibration: this.calibration,
      emptyText: 'Every clip of this feed is annotated. Build again for fresh ones.',
    });
    grid.version = this.latestVersion;
    grid.sourceName = name;
    grid.shown = false;
    grid.el.dataset.feed = name;
    grid.el.classList.add('offstage');
    this.feedGrids.set(name, grid);
    this.feedHost.append(grid.el);
    grid.ready = grid.start({ prefetch: !idle }).catch((error) => {
      grid.status.textContent = error.message;
      this.app.error(error);
    });
    return grid;
  }

  /** The other feeds, built while the annotator looks at this one: switching feed then
   *  only shows cards that exist already ("Prefetch the next page so the annotator never waits"). */
  prefetchFeeds() {
    const version = this.latestVersion;
    idleCallback(() => {
      if (version !== this.latestVersion || this.step !== 'learn' || !this.feedTabs) return;
      for (const feed of FEEDS) {
        if (!this.feedGrids.has(feed.name)) this.feedGrid(feed.name, { idle: true });
      }
    });
  }

  cycleTab(delta) {
    if (this.step === 'learn' && this.feedTabs) {
      const i = FEEDS.findIndex((f) => f.name === this.feed);
      this.switchFeed(FEEDS[(i + delta + FEEDS.length) % FEEDS.length].name, performance.now());
    } else if (this.step === 'review') {
      const i = FILTERS.findIndex((f) => f.name === this.filter);
      this.app.navigate(this.href('review', FILTERS[(i + delta + FILTERS.length) % FILTERS.length].name), { replace: true });
    }
  }

  pickTab(number, startedAt) {
    if (this.step === 'learn' && FEEDS[number - 1]) this.switchFeed(FEEDS[number - 1].name, startedAt);
    else if (this.step === 'review' && FILTERS[number - 1]) this.app.navigate(this.href('review', FILTERS[number - 1].name), { replace: true });
  }

  // step 3 ---------------------------------------------------------------------------------
  async showReview(filter) {
    if (!FILTERS.some((f) => f.name === filter)) filter = 'all';
    const changed = filter !== this.filter || this.reviewDirty || !this.grids.review;
    this.filter = filter;
    if (!changed) {
      this.grids.review.focusCurrent();
      return;
    }
    if (this.reviewDirty) {
      try {
        const [review, label] = await Promise.all([api.review(this.name, 'all'), api.label(this.name)]);
        this.reviewAll = review.annotations;
        this.label = { ...this.label, ...label };
        this.renderCounts();
        for (const item of review.annotations) setValue(item.clip_id, item.value);
      } catch (error) {
        this.app.error(error);
      }
      this.reviewDirty = false;
    }
    const all = this.reviewAll;
    const count = (f) => f === 'all' ? all.length : f === 'model_disagrees' || f === 'annotators_disagree'
      ? all.filter((item) => item[f]).length : all.filter((item) => item.value === f).length;
    const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Review filters' }, FILTERS.map((f, i) =>
      h('button', {
        class: `tab ${f.name === filter ? 'active' : ''}`, role: 'tab', type: 'button', 'aria-selected': String(f.name === filter),
        dataset: { filter: f.name }, onclick: () => this.app.navigate(this.href('review', f.name), { replace: true }),
      }, h('kbd', {}, String(i + 1)), f.title, h('span', { class: 'count' }, String(count(f.name))))));
    let cache = null;
    const source = async (items) => {
      if (!cache) cache = (await api.review(this.name, filter)).annotations;
      const clips = cache.slice(items.length, items.length + REVIEW_PAGE);
      return { clips, done: items.length + clips.length >= cache.length };
    };
    const grid = new ClipGrid({
      source, review: true, onAction: (act, clip, index, event) => this.cardAction(act, event), calibration: this.calibration,
      emptyText: filter === 'all' ? 'No annotations yet.' : 'Nothing here.',
    });
    grid.sourceName = 'review';
    grid.version = this.latestVersion;
    this.grids.review?.destroy();
    this.grids.review = grid;
    clear(this.panels.review, h('div', { class: 'tabbar' }, tabs),
      h('p', { class: 'tab-help muted' }, 'Relabel with one key: p positive, n negative, s skip, x flip. The model’s probability is on each card.'),
      grid.el);
    try {
      await grid.start();
    } catch (error) {
      this.app.error(error);
    }
    if (this.grids.review === grid && this.step === 'review') grid.focus(0);
  }

  // -- actions -----------------------------------------------------------------------------
  cardAction(act, event) {
    if (act === 'positive' || act === 'negative' || act === 'skip') this.annotateCurrent(act, event.timeStamp);
    else if (act === 'open') this.openPlayer();
    else if (act === 'similar') this.similar();
  }

  async annotateCurrent(value, startedAt) {
    const grid = this.activeGrid();
    const current = grid?.current();
    if (!current) {
      if (grid?.focus(0)) toast('Pick a clip first: j / k or the arrows move between clips');
      return;
    }
    if (!this.app.ensureAnnotator()) return;
    const { clip } = current;
    const playerShows = this.app.player.open ? this.app.player.clipId : null;
    if (playerShows != null && playerShows !== clip.clip_id) {
      return this.store([playerShows], value, grid, startedAt); // a neighbour picked in the player
    }
    const stored = this.store([clip.clip_id], value, grid, startedAt); // the request leaves first
    grid.move(1);
    if (this.app.player.open) this.openPlayer();
    return stored;
  }

  async store(clipIds, value, grid, startedAt) {
    try {
      await annotate(clipIds, value, { source: grid.sourceName, modelVersion: grid.version, startedAt });
    } catch (error) {
      this.app.error(error);
    }
  }

  flip(startedAt) {
    const current = this.activeGrid()?.current();
    if (!current) return;
    const value = session.values.get(current.clip.clip_id);
    if (value !== 'positive' && value !== 'negative') {
      toast('Flip turns a positive into a negative and back; use p or n here');
      return;
    }
    this.annotateCurrent(value === 'positive' ? 'negative' : 'positive', startedAt);
  }

  async undo() {
    if (!this.app.ensureAnnotator()) return;
    const grid = this.activeGrid();
    const where = { index: grid?.index, player: this.app.player.open ? this.app.player.clipId : null };
    try {
      const { clipId, value } = await undo();
      // Go back to the clip undone, unless the annotator has moved on meanwhile.
      const index = grid && grid === this.activeGrid() ? grid.items.findIndex((c) => c.clip_id === clipId) : -1;
      const still = grid?.index === where.index && (this.app.player.open ? this.app.player.clipId : null) === where.player;
      if (index >= 0 && still) {
        grid.focus(index);
        if (this.app.player.open) this.openPlayer();
      }
      toast(`Undone: clip #${clipId} is ${value ? VALUE_TEXT[value].toLowerCase() : 'not annotated'} now`);
    } catch (error) {
      this.app.error(error);
    }
  }

  openPlayer() {
    const grid = this.activeGrid();
    const current = grid?.current();
    if (!current) {
      grid?.focus(0);
      return;
    }
    stopPreview();
    const handlers = {
      onAnnotate: (value) => this.annotateCurrent(value, performance.now()),
      onPick: (id) => this.app.player.show(id, handlers),
      onClose: () => this.activeGrid()?.focusCurrent(),
      onLabel: (name) => this.app.navigate(`#/labels/${encodeURIComponent(name)}`),
    };
    this.app.player.show(current.clip.clip_id, handlers);
    warmPreview(grid.items[current.index + 1]?.clip_id); // j in the player: ready at once
  }

  similar() {
    const current = this.activeGrid()?.current();
    if (!current) return;
    this.app.player.close();
    this.focusAfterSearch = true;
    this.goSearch({ like: current.clip.clip_id, hide: this.search.hide });
  }

  togglePreview() {
    const current = this.activeGrid()?.current();
    if (!current) return;
    if (current.card.classList.contains('playing') || current.card.querySelector('video')) stopPreview();
    else startPreview(current.card, 0);
  }

  async build() {
    if (this.building) return;
    const blocker = this.buildBlocker();
    if (blocker) {
      toast(blocker, { kind: 'error' }); // refused here, not sent: the server would refuse it too
      return;
    }
    if (!this.app.ensureAnnotator()) return;
    this.building = true;
    const counts = this.label.counts || {};
    const next = (this.latestVersion || 0) + 1;
    const started = performance.now();
    this.renderBuildButtons();
    this.progress.hidden = false;
    this.progress.classList.add('running');
    this.progress.classList.remove('done', 'failed');
    const tick = () => {
      this.buildStatus.textContent = `Building v${next} on ${counts.positive ?? 0} positive and ${plural(counts.negative, 'negative clip')}… ${((performance.now() - started) / 1000).toFixed(1)} s`;
    };
    tick();
    const ticker = setInterval(tick, 100);
    try {
      const result = await api.build(this.name, { n_feed: FEED_PAGE });
      this.timings = result.timings_ms;
      const [label, histogram] = await Promise.all([api.label(this.name), api.histogram(this.name, HISTOGRAM_BINS)]);
      this.label = label;
      this.histogram = histogram;
      this.renderCounts();
      this.renderModel();
      this.deploy.load();
      this.progress.classList.add('done');
      this.buildStatus.dataset.result = 'built'; // keep the build's own line until the next annotation
      const cv = result.metrics.cv || {};
      this.buildStatus.textContent = `v${result.version} built in ${fmtMs(result.timings_ms.total)}` +
        (cv.ap != null ? ` · AP ${cv.ap.toFixed(2)}` : '');
      this.feedGrids.clear();
      this.learnVersion = null;
      this.app.navigate(this.href('learn', this.pickedFeed || this.suggestedFeed), { startedAt: performance.now() });
    } catch (error) {
      this.progress.classList.add('failed');
      this.buildStatus.dataset.result = 'failed';
      this.buildStatus.textContent = error.message;
      this.app.error(error);
    } finally {
      clearInterval(ticker);
      this.progress.classList.remove('running');
      this.building = false;
      this.renderBuildButtons();
    }
  }

  /** A key from the table in keys.js; returns false when the page has no use for it. */
  action(name, arg, event) {
    const grid = this.activeGrid();
    switch (name) {
      case 'next': return grid?.move(1);
      case 'prev': return grid?.move(-1);
      case 'down': return grid?.moveRows(1);
      case 'up': return grid?.moveRows(-1);
      case 'first': return grid?.focus(0);
      case 'last': return grid?.focus(grid.items.length - 1);
      case 'positive': case 'negative': case 'skip': this.annotateCurrent(name, event.timeStamp); return true;
      case 'flip': this.flip(event.timeStamp); return true;
      case 'undo': this.undo(); return true;
      case 'open': this.openPlayer(); return true;
      case 'preview':
        if (this.app.player.open) this.app.player.togglePlay();
        else this.togglePreview();
        return true;
      case 'similar': this.similar(); return true;
      case 'clipPage': {
        const current = grid?.current();
        if (current) this.app.navigate(`#/clips/${current.clip.clip_id}`);
        return true;
      }
      case 'search':
        // the box can take the focus once its step shows (a hidden input cannot)
        this.app.navigate(this.href('search', null, this.lastSearchParams())).then(() => {
          if (this.step !== 'search') return;
          this.searchInput.focus();
          this.searchInput.select();
        });
        return true;
      case 'build': this.build(); return true;
      case 'learn': this.app.navigate(this.href('learn', this.feed)); return true;
      case 'review': this.app.navigate(this.href('review', this.filter)); return true;
      case 'nextTab': this.cycleTab(1); return true;
      case 'prevTab': this.cycleTab(-1); return true;
      case 'tab': this.pickTab(arg, event.timeStamp); return true;
      default: return false;
    }
  }
}
