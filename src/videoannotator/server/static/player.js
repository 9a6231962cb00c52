// One clip, large: the player (the clip's own preview), its neighbours in the video as
// context, and every label's latest score on it (the paper's Fig. 2). Used by the player
// dialog over a grid and by the clip page (#/clips/ID).

import { api, media } from './api.js';
import { basename, fmtDuration, fmtNumber, fmtSpan, h, VALUE_MARK, VALUE_TEXT } from './dom.js';
import { session } from './session.js';

const CONTEXT = 2; // clips on each side

let videoClipCounts = null; // video id -> clips, from /api/videos (grows with ingest: reloaded when unknown)

async function clipsInVideo(videoId) {
  if (!videoClipCounts || !videoClipCounts.has(videoId)) {
    const { videos } = await api.videos();
    videoClipCounts = new Map(videos.map((v) => [v.id, v.clips]));
  }
  return videoClipCounts.get(videoId) ?? 0;
}

async function neighbours(clip) {
  // Clip ids are consecutive within a video: the neighbours are a few ids away.
  const count = await clipsInVideo(clip.video_id);
  const wanted = [];
  for (let d = -CONTEXT; d <= CONTEXT; d += 1) {
    if (d !== 0 && clip.position + d >= 0 && clip.position + d < count) wanted.push(clip.clip_id + d);
  }
  const found = await Promise.all(wanted.map((id) => api.clip(id).catch(() => null)));
  return found.filter((c) => c && c.video_id === clip.video_id);
}

export async function loadClip(clipId) {
  const clip = await api.clip(clipId);
  return { clip, around: await neighbours(clip), count: await clipsInVideo(clip.video_id) };
}

export function clipDetail({ clip, around, count }, { onPick, onAnnotate, onLabel } = {}) {
  const video = h('video', {
    class: 'main-video', src: media.preview(clip.clip_id), poster: media.thumb(clip.clip_id), controls: true,
    autoplay: true, loop: true, muted: true, playsinline: true, preload: 'auto',
    props: { muted: true, defaultMuted: true }, 'aria-label': `Clip ${clip.clip_id}`,
  });
  video.play().catch(() => {});
  const sequence = [...around, clip].sort((a, b) => a.position - b.position);
  const strip = h('ol', { class: 'context-strip' }, sequence.map((c) => contextItem(c, c.clip_id === clip.clip_id, onPick)));
  const playContext = h('button', { class: 'button ghost small', type: 'button' }, '▶ Play in context');
  playContext.addEventListener('click', () => playSequence(video, sequence, clip, strip));

  return h('div', { class: 'clip-detail', dataset: { clip: clip.clip_id } },
    h('div', { class: 'stage' }, video),
    h('div', { class: 'clip-side' },
      h('h2', { class: 'clip-title', title: clip.video }, basename(clip.video)),
      h('p', { class: 'clip-facts' },
        h('span', {}, fmtSpan(clip)), h('span', {}, fmtDuration(clip)),
        h('span', {}, `clip ${clip.position + 1} of ${count} in the video`), h('span', {}, `frames ${clip.start_frame}–${clip.end_frame}`),
        h('span', {}, `id ${clip.clip_id}`)),
      onAnnotate ? annotateRow(clip, onAnnotate) : null,
      labelsTable(clip, onLabel)),
    h('div', { class: 'context' },
      h('div', { class: 'context-head' }, h('h3', {}, 'In the video'), playContext),
      strip));
}

function contextItem(clip, isCurrent, onPick) {
  const item = h('li', { class: `context-item ${isCurrent ? 'current' : ''}`, dataset: { clip: clip.clip_id } },
    h('button', { type: 'button', class: 'context-button', title: `Clip #${clip.clip_id} ${fmtSpan(clip)}` },
      h('img', { src: media.thumb(clip.clip_id), alt: '', loading: 'lazy' }),
      h('span', { class: 'context-time' }, isCurrent ? 'this clip' : fmtSpan(clip))));
  if (onPick && !isCurrent) item.querySelector('button').addEventListener('click', () => onPick(clip.clip_id));
  return item;
}

function playSequence(video, sequence, clip, strip) {
  let i = 0;
  const mark = (id) => strip.querySelectorAll('.context-item').forEach((li) => li.classList.toggle('playing-now', Number(li.dataset.clip) === id));
  const play = () => {
    if (!video.isConnected) return;
    if (i >= sequence.length) {
      video.removeEventListener('ended', onEnded);
      video.loop = true;
      video.src = media.preview(clip.clip_id);
      mark(-1);
      video.play().catch(() => {});
      return;
    }
    video.src = media.preview(sequence[i].clip_id);
    mark(sequence[i].clip_id);
    video.play().catch(() => {});
  };
  const onEnded = () => {
    i += 1;
    play();
  };
  video.loop = false;
  video.addEventListener('ended', onEnded);
  play();
}

function annotateRow(clip, onAnnotate) {
  const value = session.values.get(clip.clip_id);
  return h('div', { class: 'annotate-row card-like', dataset: { clip: clip.clip_id, value: value || '' } },
    h('span', { class: 'annotate-label' }, 'This clip is ', h('strong', {}, session.label), '?'),
    h('div', { class: 'annotate-buttons' },
      h('button', { class: 'button act-positive', type: 'button', onclick: () => onAnnotate('positive') }, '✓ Positive', h('kbd', {}, 'p')),
      h('button', { class: 'button act-negative', type: 'button', onclick: () => onAnnotate('negative') }, '✕ Negative', h('kbd', {}, 'n')),
      h('button', { class: 'button act-skip', type: 'button', onclick: () => onAnnotate('skip') }, 'Skip', h('kbd', {}, 's'))),
    h('span', { class: 'mark' }, value ? `${VALUE_MARK[value]} ${VALUE_TEXT[value]}` : ''));
}

function labelsTable(clip, onLabel) {
  if (!clip.labels.length) return h('p', { class: 'muted' }, 'No labels yet.');
  const rows = clip.labels.map((item) => {
    const bar = h('span', { class: 'prob-bar' }, h('span', { class: 'prob-fill' }), h('span', { class: 'prob-threshold' }));
    if (item.probability != null) {
      bar.style.setProperty('--fill', item.probability);
      // the threshold as a calibrated probability where the route gives it (the tick must sit on
      // the probability's scale); else the logit's sigmoid, as before calibration
      bar.style.setProperty('--threshold', item.threshold_probability ?? 1 / (1 + Math.exp(-(item.threshold ?? 0))));
    }
    const name = h('a', { href: `#/labels/${encodeURIComponent(item.label)}`, class: 'label-link' }, item.label);
    if (onLabel) name.addEventListener('click', () => onLabel(item.label));
    return h('tr', { class: item.label === session.label ? 'this-label' : '', dataset: { label: item.label } },
      h('th', { scope: 'row' }, name),
      h('td', { class: `annotation value-${item.annotation || 'none'}` },
        item.annotation ? `${VALUE_MARK[item.annotation]} ${item.annotation}` : '—'),
      h('td', { class: 'prob' }, item.probability == null ? h('span', { class: 'muted' }, 'no model') : [bar, h('span', { class: 'prob-value' }, fmtNumber(item.probability, 3))]),
      h('td', { class: 'verdict' }, item.positive == null ? '' :
        h('span', { class: `verdict-${item.positive ? 'yes' : 'no'}` }, item.positive ? 'yes' : 'no')),
      h('td', { class: 'muted' }, item.version ? `v${item.version}` : ''));
  });
  return h('div', { class: 'labels-on-clip' },
    h('h3', {}, 'Every label on this clip'),
    h('table', { class: 'label-scores' },
      h('thead', {}, h('tr', {}, h('th', {}, 'label'), h('th', {}, 'annotation'), h('th', {}, 'model probability'),
        h('th', {}, 'verdict'), h('th', {}, 'model'))),
      h('tbody', {}, rows)));
}

/** The larger player over the grid. The label page drives it: it calls show() after every
 *  move so j/k and p/n/s work the same with the player open. */
export class PlayerDialog {
  constructor(dialog) {
    this.dialog = dialog;
    this.token = 0;
    this.clipId = null;
    dialog.tabIndex = -1; // the dialog itself takes the focus: Space and Enter are the player's keys
    dialog.addEventListener('close', () => {
      this.stopVideos();
      this.clipId = null;
      this.onClose?.();
    });
    dialog.addEventListener('click', (e) => {
      if (e.target === dialog) dialog.close(); // a click on the backdrop
    });
  }

  get open() {
    return this.dialog.open;
  }

  async show(clipId, { onAnnotate, onPick, onClose, onLabel } = {}) {
    const token = ++this.token;
    this.onClose = onClose;
    this.clipId = clipId;
    if (!this.dialog.open) {
      this.dialog.replaceChildren(h('div', { class: 'dialog-loading muted' }, 'Loading clip…'));
      this.dialog.showModal();
      this.dialog.focus();
    }
    let data;
    try {
      data = await loadClip(clipId);
    } catch (error) {
      if (token === this.token && this.dialog.open) {
        this.dialog.replaceChildren(h('div', { class: 'dialog-loading error-text' }, error.message));
      }
      return;
    }
    if (token !== this.token || !this.dialog.open) return;
    this.stopVideos();
    const close = h('button', { class: 'dialog-close', type: 'button', 'aria-label': 'Close (Esc)', onclick: () => this.dialog.close() }, '×');
    const link = h('a', { class: 'button ghost small', href: `#/clips/${clipId}`, onclick: () => this.dialog.close() }, 'Clip page (c)');
    this.dialog.replaceChildren(
      h('div', { class: 'dialog-head' }, h('span', { class: 'muted small' }, 'j / k: previous and next clip · p / n / s: annotate · Esc: close'), link, close),
      clipDetail(data, { onAnnotate, onPick, onLabel: (name) => { this.dialog.close(); onLabel?.(name); } }));
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  togglePlay() {
    const video = this.dialog.querySelector('.main-video');
    if (!video) return;
    if (video.paused) video.play().catch(() => {});
    else video.pause();
  }

  stopVideos() {
    for (const video of this.dialog.querySelectorAll('video')) {
      video.pause();
      video.removeAttribute('src');
      video.load();
    }
  }
}
