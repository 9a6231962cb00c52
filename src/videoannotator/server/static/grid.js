// A grid of clip cards fed page by page. One card holds the focus (roving tabindex); the
// next page is fetched as soon as the current one shows, so moving on never waits.

import { media } from './api.js';
import { basename, calibrate, fmtDuration, fmtNumber, fmtSpan, h, VALUE_MARK, VALUE_TEXT } from './dom.js';
import { session } from './session.js';

const PREVIEW_DELAY_MS = { hover: 120, focus: 280 };
const LOAD_MORE_MARGIN = 12;
const WARM_NEXT_AFTER_MS = 500; // dwell on a card before the next card's preview is asked for // cards before the end at which the next page is appended

let preview = null; // { card, video, timer }: at most one card plays at a time

export function startPreview(card, delay) {
  if (preview && preview.card === card) return;
  stopPreview();
  const timer = setTimeout(() => {
    const thumb = card.querySelector('.thumb');
    if (!thumb || !card.isConnected) return;
    const video = h('video', {
      class: 'preview', src: media.preview(card.dataset.clip), muted: true, loop: true, autoplay: true,
      playsinline: true, preload: 'auto', 'aria-hidden': 'true', props: { muted: true, defaultMuted: true },
    });
    video.addEventListener('playing', () => card.classList.add('playing'));
    thumb.append(video);
    video.play().catch(() => {}); // a stopped preview rejects its play(): nothing to report
    preview.video = video;
  }, delay);
  preview = { card, video: null, timer };
}

export function stopPreview(card) {
  if (!preview || (card && preview.card !== card)) return;
  clearTimeout(preview.timer);
  if (preview.video) {
    preview.video.pause();
    preview.video.removeAttribute('src');
    preview.video.load(); // frees the decoder
    preview.video.remove();
  }
  preview.card.classList.remove('playing');
  preview = null;
}

let cardTemplate = null;

function template() {
  // Cloning one prepared card is several times faster than building 20 elements per card,
  // which is what keeps a page of 100 cards well under a frame budget on a slow machine.
  cardTemplate ??= h('article', { class: 'card', tabindex: '-1', role: 'listitem' },
    h('div', { class: 'thumb', 'data-act': 'open', title: 'Open the larger player (Enter)' },
      h('img', { alt: '', loading: 'lazy', decoding: 'async', draggable: 'false' }),
      h('span', { class: 'badge score' }),
      h('span', { class: 'badge duration' }),
      h('span', { class: 'mark' }),
      h('span', { class: 'meter' })),
    h('div', { class: 'meta' },
      h('span', { class: 'video-name' }), h('span', { class: 'span' }), h('span', { class: 'clip-id' })),
    h('div', { class: 'actions' },
      h('button', { class: 'act act-positive', 'data-act': 'positive', title: 'Positive (p)', tabindex: '-1', type: 'button' }, '✓ Yes'),
      h('button', { class: 'act act-negative', 'data-act': 'negative', title: 'Negative (n)', tabindex: '-1', type: 'button' }, '✕ No'),
      h('button', { class: 'act act-skip', 'data-act': 'skip', title: 'Skip (s)', tabindex: '-1', type: 'button' }, 'Skip'),
      h('button', { class: 'act act-more', 'data-act': 'similar', title: 'More like this (m)', tabindex: '-1', type: 'button' }, '≈')));
  return cardTemplate;
}

const warmed = new Set();

/** Ask for a clip's preview before it is shown: the server renders it on first request,
 *  so the annotator who moves on finds it ready (and the browser keeps it a day). */
export function warmPreview(clipId) {
  if (clipId == null || warmed.has(clipId)) return;
  warmed.add(clipId);
  fetch(media.preview(clipId), { priority: 'low' }).then((r) => r.blob()).catch(() => warmed.delete(clipId));
}

export function clipCard(clip, { scoreKind = 'probability', review = false, calibration = null } = {}) {
  const id = clip.clip_id;
  const value = session.values.get(id) || '';
  // Production routes give a calibrated probability (and the side of the threshold) as is;
  // the loop's routes give the model's logit, calibrated here with the version's calibration.
  const given = scoreKind === 'probability' && clip.probability != null;
  const probability = given ? clip.probability
    : scoreKind === 'probability' && clip.score != null ? calibrate(clip.score, calibration) : null;
  const threshold = calibration?.threshold ?? 0.5;
  const above = clip.above_threshold ?? clip.now_positive ?? (probability != null && probability > threshold);
  const calibrated = given || calibration?.threshold != null;
  const score = scoreKind === 'similarity' ? clip.score : probability;
  const card = template().cloneNode(true);
  const [thumb, meta] = card.children;
  const [img, badge, duration, mark, meter] = thumb.children;
  const [name, span, clipId] = meta.children;
  card.dataset.clip = id;
  card.dataset.value = value;
  card.setAttribute('aria-label', `Clip ${id}, ${basename(clip.video)} ${fmtSpan(clip)}`);
  img.src = media.thumb(id);
  if (score == null) badge.remove();
  else {
    badge.textContent = scoreKind === 'similarity' ? `sim ${fmtNumber(score)}` : `p ${fmtNumber(score)}`;
    badge.title = scoreKind === 'similarity' ? 'Text–clip similarity (cosine)'
      : calibrated ? `Calibrated probability, ${above ? 'above' : 'below'} the threshold` +
        (given ? '' : ` p ${fmtNumber(threshold)} (logit ${fmtNumber(clip.score, 3)})`)
        : `Model probability (logit ${fmtNumber(clip.score, 3)})`;
    if (probability != null && above) badge.classList.add('score-high');
    meter.style.setProperty('--fill', Math.max(0, Math.min(1, score)).toFixed(3));
  }
  duration.textContent = fmtDuration(clip);
  if (value) mark.textContent = `${VALUE_MARK[value]} ${VALUE_TEXT[value]}`;
  name.textContent = basename(clip.video);
  name.title = clip.video;
  span.textContent = fmtSpan(clip);
  clipId.textContent = `#${id}`;
  if (review) meta.after(reviewLine(clip));
  return card;
}

function reviewLine(item) {
  const votes = Object.entries(item.votes || {});
  return h('div', { class: 'review-line' },
    item.model_disagrees ? h('span', { class: 'tag tag-warn', title: 'The latest model scores this clip on the other side' }, 'model disagrees') : null,
    item.annotators_disagree ? h('span', { class: 'tag tag-warn' }, 'annotators disagree') : null,
    h('span', { class: 'votes' }, votes.map(([who, value], i) => h('span', { class: `vote vote-${value}` },
      i ? ', ' : '', `${who}: ${value}`))));
}

export function preloadThumbs(clips) {
  for (const clip of clips.slice(0, 24)) {
    const img = new Image();
    img.decoding = 'async';
    img.src = media.thumb(clip.clip_id);
  }
}

export class ClipGrid {
  /** source(items) -> Promise<{clips, done}>: the page after the clips already shown.
   *  onAction(action, clip, index, event) for card buttons; emptyText when nothing comes. */
  constructor({ source, scoreKind = 'probability', review = false, onAction, emptyText = 'No clips.', calibration = null }) {
    Object.assign(this, { source, scoreKind, review, onAction, emptyText, calibration });
    this.items = [];
    this.cards = [];
    this.index = -1;
    this.done = false;
    this.next = null; // the prefetched next page (a promise)
    this.loading = null;
    this.seen = new Set();
    this.list = h('div', { class: 'grid', role: 'list' });
    this.status = h('div', { class: 'grid-status', 'aria-live': 'polite' });
    this.el = h('div', { class: 'grid-wrap' }, this.list, this.status);
    this.list.addEventListener('click', (e) => this.onClick(e));
    this.list.addEventListener('focusin', (e) => this.onFocus(e));
    this.list.addEventListener('focusout', (e) => {
      const card = e.target.closest?.('.card');
      if (card && !card.matches(':hover')) stopPreview(card);
    });
    this.list.addEventListener('pointerover', (e) => {
      const card = e.target.closest?.('.card');
      if (card) startPreview(card, PREVIEW_DELAY_MS.hover);
    });
    this.list.addEventListener('pointerout', (e) => {
      const card = e.target.closest?.('.card');
      if (card && !card.contains(e.relatedTarget) && card !== document.activeElement) stopPreview(card);
    });
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.more();
    }, { rootMargin: '800px' });
    this.observer.observe(this.status);
  }

  /** Load and show the first page; `prefetch: false` leaves the next page for later (a grid
   *  built out of sight asks for it when it is first shown). */
  async start({ prefetch = true } = {}) {
    this.status.textContent = 'Loading…';
    const page = await this.source(this.items);
    this.append(page);
    if (prefetch) this.prefetch();
    return this;
  }

  append({ clips, done }) {
    const started = performance.now();
    const fresh = clips.filter((clip) => !this.seen.has(clip.clip_id));
    const fragment = document.createDocumentFragment();
    for (const clip of fresh) {
      this.seen.add(clip.clip_id);
      const card = clipCard(clip, { scoreKind: this.scoreKind, review: this.review, calibration: this.calibration });
      card.dataset.index = String(this.items.length);
      this.items.push(clip);
      this.cards.push(card);
      fragment.append(card);
    }
    this.list.append(fragment);
    if (fresh.length) performance.measure('va:cards', { start: started, end: performance.now(), detail: { cards: fresh.length } });
    this.done = done || fresh.length === 0;
    const count = `${this.items.length} clip${this.items.length === 1 ? '' : 's'}`;
    this.status.textContent = this.items.length === 0 ? this.emptyText : this.done ? `${count} · end` : '';
    this.status.classList.toggle('empty', this.items.length === 0);
  }

  prefetch() {
    if (this.done || this.next) return;
    const next = this.source(this.items);
    this.next = next;
    next.then(({ clips }) => preloadThumbs(clips), () => {
      if (this.next === next) this.next = null; // try again when asked
    });
  }

  more() {
    if (this.done || this.items.length === 0) return Promise.resolve();
    if (!this.loading) {
      this.prefetch();
      const next = this.next;
      this.loading = next.then((page) => {
        if (this.next === next) this.next = null;
        this.append(page);
        this.prefetch();
      }).catch((error) => {
        if (this.next === next) this.next = null;
        this.status.textContent = `Could not load more clips: ${error.message}`;
      }).finally(() => {
        this.loading = null;
      });
    }
    return this.loading;
  }

  current() {
    return this.index >= 0 ? { clip: this.items[this.index], card: this.cards[this.index], index: this.index } : null;
  }

  focus(index, { scroll = true } = {}) {
    if (this.items.length === 0) return false;
    const i = Math.max(0, Math.min(this.items.length - 1, index));
    const previous = this.cards[this.index];
    if (previous && previous !== this.cards[i]) previous.tabIndex = -1;
    this.index = i;
    const card = this.cards[i];
    card.tabIndex = 0;
    card.focus({ preventScroll: true });
    if (scroll) card.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    if (i >= this.items.length - LOAD_MORE_MARGIN) this.more();
    return true;
  }

  focusCurrent() {
    return this.focus(this.index < 0 ? 0 : this.index);
  }

  move(delta) {
    return this.focus((this.index < 0 ? 0 : this.index + delta));
  }

  columns() {
    const top = this.cards[0]?.offsetTop;
    let n = 0;
    while (n < this.cards.length && this.cards[n].offsetTop === top) n += 1;
    return Math.max(1, n);
  }

  moveRows(rows) {
    return this.move(rows * this.columns());
  }

  onFocus(event) {
    const card = event.target.closest?.('.card');
    if (!card) return;
    const index = Number(card.dataset.index);
    if (index !== this.index) {
      if (this.cards[this.index]) this.cards[this.index].tabIndex = -1;
      this.index = index;
      card.tabIndex = 0;
    }
    startPreview(card, PREVIEW_DELAY_MS.focus);
    clearTimeout(this.warmTimer);
    this.warmTimer = setTimeout(() => {
      if (this.index === index) warmPreview(this.items[index + 1]?.clip_id);
    }, WARM_NEXT_AFTER_MS);
  }

  onClick(event) {
    const actor = event.target.closest?.('[data-act]');
    const card = event.target.closest?.('.card');
    if (!actor || !card) return;
    const index = Number(card.dataset.index);
    this.focus(index, { scroll: false });
    this.onAction?.(actor.dataset.act, this.items[index], index, event);
  }

  destroy() {
    clearTimeout(this.warmTimer);
    this.observer.disconnect();
    stopPreview();
  }
}
