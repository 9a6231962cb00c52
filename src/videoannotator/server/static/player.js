// One clip, large: the player (the clip at 640 px with its sound, muted until asked; the
// source timecode and, on demand, frame numbers), its neighbours in the video as context,
// and every label's latest score on it (the paper's Fig. 2). Used by the player dialog over
// a grid and by the clip page (#/clips/ID), where every label can be annotated.

import { api, media } from './api.js';
import { basename, fmtDuration, fmtFrameTimecode, fmtNumber, fmtSpan, fmtTimecode, h, svg, VALUE_MARK, VALUE_TEXT } from './dom.js';
import { session } from './session.js';

const CONTEXT = 2; // clips on each side
const FRAMES_KEY = 'va.player.frames'; // show frame numbers (the toggle), kept across visits

let videoFacts = null; // video id -> {clips, fps}, from /api/videos (grows with ingest: reloaded when unknown)
let soundOn = false; // the player starts muted; once unmuted it stays so while the page lives

async function factsOf(videoId) {
  if (!videoFacts || !videoFacts.has(videoId)) {
    const { videos } = await api.videos();
    videoFacts = new Map(videos.map((v) => [v.id, { clips: v.clips, fps: Number(v.fps) || 25 }]));
  }
  return videoFacts.get(videoId) ?? { clips: 0, fps: 25 };
}

async function clipsInVideo(videoId) {
  return (await factsOf(videoId)).clips;
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
  const [around, facts] = await Promise.all([neighbours(clip), factsOf(clip.video_id)]);
  return { clip, around, count: facts.clips, fps: facts.fps };
}

export function clipDetail({ clip, around, count, fps = 25 }, { onPick, onAnnotate, onLabel, onAnnotateLabel } = {}) {
  const video = h('video', {
    class: 'main-video', src: media.player(clip.clip_id), poster: media.thumb(clip.clip_id), controls: true,
    autoplay: true, loop: true, muted: !soundOn, playsinline: true, preload: 'auto',
    props: { muted: !soundOn, defaultMuted: true }, 'aria-label': `Clip ${clip.clip_id}`,
  });
  video.play().catch(() => {});
  const showing = { clip }; // the clip on screen: play in context moves through the neighbours
  const sequence = [...around, clip].sort((a, b) => a.position - b.position);
  const strip = h('ol', { class: 'context-strip' }, sequence.map((c) => contextItem(c, c.clip_id === clip.clip_id, onPick)));
  const playContext = h('button', { class: 'button ghost small', type: 'button' }, '▶ Play in context');
  playContext.addEventListener('click', () => playSequence(video, sequence, clip, strip, showing));

  return h('div', { class: 'clip-detail', dataset: { clip: clip.clip_id } },
    h('div', { class: 'stage-column' }, h('div', { class: 'stage' }, video), playerBar(video, showing, fps)),
    h('div', { class: 'clip-side' },
      h('h2', { class: 'clip-title', title: clip.video }, basename(clip.video)),
      h('p', { class: 'clip-facts' },
        h('span', {}, fmtSpan(clip)), h('span', {}, fmtDuration(clip)),
        h('span', {}, `clip ${clip.position + 1} of ${count} in the video`), h('span', {}, `frames ${clip.start_frame}–${clip.end_frame}`),
        h('span', {}, `id ${clip.clip_id}`)),
      onAnnotate ? annotateRow(clip, onAnnotate) : null,
      labelsTable(clip, onLabel, onAnnotateLabel)),
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

/** Under the video: the source timecode (clip start + the player's time), the frame number
 *  on demand, and the sound switch. */
function playerBar(video, showing, fps) {
  let frames = localStorage.getItem(FRAMES_KEY) === '1';
  const timecode = h('output', { class: 'timecode', title: 'Source timecode: from the start of the video' });
  const frame = h('output', { class: 'frame-number', title: `Frame number in the source (${fmtNumber(fps, 3)} fps)` });
  const framesButton = h('button', { class: 'button ghost small frames-toggle', type: 'button', title: 'Show frame numbers and HH:MM:SS:FF timecode' }, 'Frames');
  const sound = h('button', { class: 'button ghost small sound-toggle', type: 'button' });
  const update = () => {
    const { clip } = showing;
    const t = video.currentTime || 0;
    const seconds = clip.start + t;
    const last = Math.max(clip.start_frame, clip.end_frame - 1);
    const number = Math.min(last, clip.start_frame + Math.floor(t * fps + 1e-3));
    timecode.value = frames ? fmtFrameTimecode(number, fps) : fmtTimecode(seconds);
    timecode.dataset.seconds = seconds.toFixed(3);
    frame.value = `frame ${number}`;
    frame.dataset.frame = String(number);
    frame.hidden = !frames;
    framesButton.setAttribute('aria-pressed', String(frames));
  };
  let silent = false; // the clip has no sound: Chromium decoded no audio while it played
  const showSound = () => {
    sound.disabled = silent;
    sound.replaceChildren(speakerIcon(!video.muted && !silent), silent ? 'No sound' : video.muted ? 'Sound off' : 'Sound on');
    sound.setAttribute('aria-pressed', String(!video.muted && !silent));
    sound.title = silent ? 'This clip has no sound track' : video.muted ? 'Unmute (the clip\'s own sound)' : 'Mute';
  };
  // Muted audio is decoded all the same: none decoded half a second in means there is none.
  const checkSound = () => {
    if (!('webkitAudioDecodedByteCount' in video) || video.currentTime < 0.5) return;
    const now = video.webkitAudioDecodedByteCount === 0;
    if (now !== silent) {
      silent = now;
      showSound();
    }
  };
  framesButton.addEventListener('click', () => {
    frames = !frames;
    localStorage.setItem(FRAMES_KEY, frames ? '1' : '0');
    update();
  });
  sound.addEventListener('click', () => {
    video.muted = !video.muted;
    if (!video.muted && video.paused) video.play().catch(() => {});
  });
  video.addEventListener('volumechange', () => {
    soundOn = !video.muted;
    showSound();
  });
  for (const event of ['timeupdate', 'seeked', 'loadedmetadata', 'emptied']) video.addEventListener(event, update);
  video.addEventListener('timeupdate', checkSound);
  if ('requestVideoFrameCallback' in video) {
    const tick = () => {
      if (!video.isConnected) return;
      update();
      video.requestVideoFrameCallback(tick);
    };
    video.requestVideoFrameCallback(tick);
  }
  update();
  showSound();
  return h('div', { class: 'player-bar' }, timecode, frame, h('span', { class: 'spacer' }), framesButton, sound);
}

/** A speaker, with waves when the sound is on and a cross when it is off (no emoji font needed). */
function speakerIcon(on) {
  const stroke = { fill: 'none', stroke: 'currentColor', 'stroke-width': '1.6', 'stroke-linecap': 'round' };
  return svg('svg', { class: 'icon', viewBox: '0 0 20 20', width: '16', height: '16', 'aria-hidden': 'true' },
    svg('path', { d: 'M3 7.5h3l4-3.5v12l-4-3.5H3z', fill: 'currentColor' }),
    on ? [svg('path', { d: 'M13 7.5a3.5 3.5 0 0 1 0 5', ...stroke }), svg('path', { d: 'M15.2 5.3a6.6 6.6 0 0 1 0 9.4', ...stroke })]
      : [svg('path', { d: 'M13 7.5l5 5M18 7.5l-5 5', ...stroke })]);
}

function playSequence(video, sequence, clip, strip, showing) {
  let i = 0;
  const mark = (id) => strip.querySelectorAll('.context-item').forEach((li) => li.classList.toggle('playing-now', Number(li.dataset.clip) === id));
  const play = () => {
    if (!video.isConnected) return;
    if (i >= sequence.length) {
      video.removeEventListener('ended', onEnded);
      video.loop = true;
      video.src = media.player(clip.clip_id);
      showing.clip = clip;
      mark(-1);
      video.play().catch(() => {});
      return;
    }
    video.src = media.player(sequence[i].clip_id);
    showing.clip = sequence[i];
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

function labelsTable(clip, onLabel, onAnnotateLabel) {
  if (!clip.labels.length) return h('p', { class: 'muted' }, 'No labels yet.');
  // the label being annotated first: in a long table it is the row wanted
  const ordered = [...clip.labels].sort((a, b) => (b.label === session.label) - (a.label === session.label));
  const rows = ordered.map((item) => {
    const bar = h('span', { class: 'prob-bar' }, h('span', { class: 'prob-fill' }), h('span', { class: 'prob-threshold' }));
    if (item.probability != null) {
      bar.style.setProperty('--fill', item.probability);
      // the threshold as a calibrated probability where the route gives it (the tick must sit on
      // the probability's scale); else the logit's sigmoid, as before calibration
      bar.style.setProperty('--threshold', item.threshold_probability ?? 1 / (1 + Math.exp(-(item.threshold ?? 0))));
    }
    // a long name is cut with an ellipsis on one line; the whole name is its title
    const name = h('a', { href: `#/labels/${encodeURIComponent(item.label)}`, class: 'label-link', title: item.label }, item.label);
    if (onLabel) name.addEventListener('click', () => onLabel(item.label));
    const verdict = item.positive == null ? '' : item.positive ? 'yes' : 'no';
    return h('tr', { class: item.label === session.label ? 'this-label' : '', dataset: { label: item.label } },
      h('th', { scope: 'row', class: 'label-cell' }, name),
      onAnnotateLabel ? annotateCell(item, onAnnotateLabel) : h('td', { class: `annotation value-${item.annotation || 'none'}` },
        item.annotation ? `${VALUE_MARK[item.annotation]} ${item.annotation}` : '—'),
      h('td', { class: 'prob', title: item.version ? `model v${item.version}${verdict ? `: ${verdict === 'yes' ? 'above' : 'below'} its threshold` : ''}` : '' },
        item.probability == null ? h('span', { class: 'muted' }, 'no model')
          : [bar, h('span', { class: `prob-value ${verdict ? `verdict-${verdict}` : ''}` }, fmtNumber(item.probability, 3))]),
      h('td', { class: 'verdict' }, verdict ? h('span', { class: `verdict-${verdict}` }, verdict) : ''),
      h('td', { class: 'model muted' }, item.version ? `v${item.version}` : ''));
  });
  return h('div', { class: 'labels-on-clip' },
    h('h3', {}, onAnnotateLabel ? 'Every label on this clip: annotate any' : 'Every label on this clip'),
    h('table', { class: `label-scores ${onAnnotateLabel ? 'annotating' : ''}` },
      h('thead', {}, h('tr', {}, h('th', { class: 'label-cell' }, 'label'), h('th', {}, 'annotation'), h('th', {}, 'model probability'),
        h('th', { class: 'verdict' }, 'verdict'), h('th', { class: 'model' }, 'model'))),
      h('tbody', {}, rows)));
}

const ROW_ACTIONS = [['positive', '✓', 'Positive'], ['negative', '✕', 'Negative'], ['skip', '–', 'Skip']];

/** The label's current value on the clip and a ✓ / ✕ / skip button for each (the clip page). */
function annotateCell(item, onAnnotateLabel) {
  const shown = h('span', { class: 'row-value' });
  const cell = h('td', { class: 'annotation row-annotate' }, shown);
  const show = (value) => {
    cell.dataset.value = value || '';
    cell.className = `annotation row-annotate value-${value || 'none'}`;
    shown.textContent = value ? VALUE_MARK[value] : '—';
    shown.title = value ? VALUE_TEXT[value] : 'Not annotated';
    for (const button of cell.querySelectorAll('button')) button.setAttribute('aria-pressed', String(button.dataset.value === value));
  };
  const buttons = ROW_ACTIONS.map(([value, mark, text]) => h('button', {
    class: `row-act act-${value}`, type: 'button', dataset: { value }, title: `${text}: ${item.label}`, 'aria-label': `${text} for ${item.label}`,
    onclick: async (event) => {
      const clicked = event.currentTarget; // null once the handler awaits
      const all = cell.querySelectorAll('button');
      all.forEach((b) => { b.disabled = true; });
      try {
        const stored = await onAnnotateLabel(item.label, value);
        if (stored) show(stored);
      } finally {
        all.forEach((b) => { b.disabled = false; });
        clicked.focus();
      }
    },
  }, mark));
  cell.append(h('span', { class: 'row-buttons' }, buttons));
  show(item.annotation || '');
  return cell;
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
