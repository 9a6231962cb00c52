// The library: the label cards of the home page (labelCards), the videos (#/videos: one row per
// video with a strip of its shots, loaded as the row scrolls into view) and one video
// (#/videos/ID): its strip of shots, proportional to their duration, and one track per deployed
// label below it — each clip's calibrated probability as a bar, the segments above the threshold
// highlighted, the threshold drawn. A click on a shot or a bar, or Enter on a shot, plays the clip.

import { api, media } from './api.js';
import { basename, clear, fmtClock, fmtNumber, fmtSpan, fmtTime, fmtWhen, h, plural } from './dom.js';

const THUMB_W = 80; // px: one thumbnail of a library strip (16:9), gap included below
const THUMB_GAP = 4;

// -- the home page's label cards --------------------------------------------------------------
/** One card per label: name, guideline, annotation counts, the latest version and its
 *  cross-validated AP, the deployed version. Long text is cut with an ellipsis (title: all of it). */
export function labelCards(labels) {
  return h('ul', { class: 'label-tiles library-tiles' }, labels.map((label) => h('li', {}, labelCard(label))));
}

function labelCard(label) {
  const counts = label.counts || {};
  const latest = label.latest;
  const description = label.description || 'No description';
  const keywords = (label.keywords || []).join(' · ');
  const model = latest
    ? h('span', { class: 'tile-model', title: latest.ap == null
      ? `v${latest.version}: cross-validated AP not measured (${latest.reason || 'too few annotations'})`
      : `v${latest.version}: cross-validated AP ${fmtNumber(latest.ap)} (95% interval ${fmtNumber(latest.ap_low)}–${fmtNumber(latest.ap_high)})` },
    h('span', { class: 'tile-version', dataset: { version: latest.version } }, `v${latest.version}`),
    ' · AP ', h('strong', { class: 'tile-ap', dataset: { ap: latest.ap ?? '' } }, fmtNumber(latest.ap)))
    : h('span', { class: 'tile-model muted' }, 'no model yet');
  const deployed = label.live != null
    ? h('span', { class: 'tile-live', dataset: { live: label.live }, title: `v${label.live} is in production` }, `live v${label.live}`)
    : null;
  return h('a', { class: 'label-tile library-tile', href: `#/labels/${encodeURIComponent(label.name)}`, dataset: { label: label.name } },
    h('span', { class: 'tile-head' }, h('span', { class: 'tile-name', title: label.name }, label.name), deployed),
    h('span', { class: 'tile-description', title: description }, description),
    keywords ? h('span', { class: 'tile-keywords', title: keywords }, keywords) : null,
    label.counts && h('span', { class: 'tile-stats' },
      h('span', { class: 'tile-count positive', title: plural(counts.positive, 'positive annotation') },
        '✓ ', h('strong', { dataset: { count: 'positive' } }, (counts.positive ?? 0).toLocaleString())),
      h('span', { class: 'tile-count negative', title: plural(counts.negative, 'negative annotation') },
        '✕ ', h('strong', { dataset: { count: 'negative' } }, (counts.negative ?? 0).toLocaleString())),
      model));
}

// -- the videos ---------------------------------------------------------------------------------
export async function showVideos(view, app) {
  document.title = 'Videos · Video Annotator';
  clear(view, h('div', { class: 'loading muted' }, 'Loading videos…'));
  const { videos } = await api.videos();
  const rows = videos.map((v) => videoRow(v, app));
  const clips = videos.reduce((sum, v) => sum + (v.clips || 0), 0);
  const seconds = videos.reduce((sum, v) => sum + (v.duration || 0), 0);
  clear(view, h('div', { class: 'page-wide videos-page' },
    h('h1', { class: 'page-title' }, 'Videos'),
    h('p', { class: 'muted lead' }, `${plural(videos.length, 'video')} · ${plural(clips, 'clip')} · ${fmtClock(seconds)} in all. `
      + 'Click a shot to play it; open a video to see all its shots and what every deployed label finds in it.'),
    videos.length
      ? h('table', { class: 'data-table videos-table library-table' },
        h('thead', {}, h('tr', {}, h('th', { class: 'video-col' }, 'video'), h('th', { class: 'strip-col' }, 'shots'),
          h('th', { class: 'num' }, 'duration'), h('th', { class: 'num' }, 'clips'), h('th', { class: 'when-col' }, 'ingested'))),
        h('tbody', {}, rows))
      : h('div', { class: 'empty-state small-empty' }, h('p', {}, 'No videos yet: `va ingest PATH` adds some.'))));
  watchStrips(view);
  view.querySelector('.video-link')?.focus();
  return null;
}

function videoRow(v, app) {
  const name = basename(v.path);
  const when = v.ingested_at ? new Date(v.ingested_at) : null;
  const strip = h('div', { class: 'library-strip', dataset: { video: v.id, clips: v.clips }, 'aria-label': `Shots of ${name}` },
    placeholders(Math.min(v.clips || 0, 12)));
  const handlers = {
    onPick: (id) => app.player.show(id, handlers),
    onLabel: (label) => app.navigate(`#/labels/${encodeURIComponent(label)}`),
  };
  strip.addEventListener('click', (e) => {
    const shot = e.target.closest('.library-shot');
    if (shot && !shot.classList.contains('placeholder')) app.player.show(Number(shot.dataset.clip), handlers);
  });
  return h('tr', { dataset: { video: v.id } },
    h('th', { scope: 'row', class: 'video-cell' },
      h('a', { class: 'video-link', href: `#/videos/${v.id}`, title: v.path }, name),
      h('span', { class: 'muted small video-size' }, v.width && v.height ? `${v.width}×${v.height} · ${fmtNumber(v.fps, 2)} fps` : '')),
    h('td', { class: 'strip-cell' }, strip),
    h('td', { class: 'num', dataset: { duration: v.duration } }, fmtClock(v.duration)),
    h('td', { class: 'num clips-cell', dataset: { clips: v.clips } }, plural(v.clips, 'clip')),
    h('td', { class: 'when-cell' }, when && !Number.isNaN(when.getTime())
      ? h('time', { datetime: v.ingested_at, title: v.ingested_at },
        h('span', {}, when.toLocaleDateString(undefined, { dateStyle: 'medium' })),
        h('span', { class: 'muted small ago' }, `${when.toLocaleTimeString(undefined, { timeStyle: 'short' })} · ${fmtWhen(v.ingested_at)}`))
      : '—'));
}

function placeholders(n) {
  return Array.from({ length: n }, () => h('span', { class: 'library-shot placeholder', 'aria-hidden': 'true' }));
}

/** How many shots a strip shows: as many as fit its width (at least 3), no more than the video has. */
function stripSize(strip) {
  const fits = Math.max(3, Math.floor((strip.clientWidth + THUMB_GAP) / (THUMB_W + THUMB_GAP)));
  return Math.min(fits, Number(strip.dataset.clips) || fits, 60);
}

function loadStrip(strip) {
  if (strip.dataset.loaded) return;
  strip.dataset.loaded = 'loading';
  const n = stripSize(strip);
  strip.dataset.asked = n;
  api.videoShots(strip.dataset.video, n).then((data) => {
    clear(strip, data.shots.map((shot) => h('button', {
      type: 'button', class: 'library-shot', dataset: { clip: shot.clip_id },
      title: `Clip #${shot.clip_id} · ${fmtSpan(shot)}`, 'aria-label': `Play clip ${shot.clip_id}, ${fmtSpan(shot)}`,
    }, h('img', { src: media.thumb(shot.clip_id), alt: '', loading: 'lazy', decoding: 'async', draggable: 'false' }))));
    strip.dataset.loaded = 'yes';
  }, (error) => {
    clear(strip, h('span', { class: 'muted small' }, `No shots: ${error.message}`));
    strip.dataset.loaded = 'error';
  });
}

/** A wider window has room for more shots: a strip that asked for fewer than now fit asks again
 *  (a narrower one hides the extra shots itself). One listener for the page's life. */
let resizeTimer = null;
function onResize() {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    for (const strip of document.querySelectorAll('.library-strip[data-loaded="yes"]')) {
      if (stripSize(strip) > Number(strip.dataset.asked)) {
        strip.dataset.loaded = '';
        loadStrip(strip);
      }
    }
  }, 250);
}
window.addEventListener('resize', onResize);

/** Each row's strip asks for its shots when it comes near the viewport: a library of hundreds of
 *  videos costs one small request per row seen, and the thumbnails load lazily after it. */
function watchStrips(view) {
  const strips = [...view.querySelectorAll('.library-strip')];
  if (!strips.length) return;
  if (!('IntersectionObserver' in window)) {
    strips.forEach(loadStrip);
    return;
  }
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      observer.unobserve(entry.target);
      loadStrip(entry.target);
    }
  }, { rootMargin: '300px 0px' });
  strips.forEach((strip) => observer.observe(strip));
}

export class VideoView {
  constructor(id, app) {
    this.id = id;
    this.app = app;
    this.index = 0;
    this.shots = [];
    this.clips = [];
  }

  async render(view) {
    clear(view, h('div', { class: 'loading muted' }, 'Loading video…'));
    const timeline = await api.timeline(this.id);
    this.timeline = timeline;
    const tracks = timeline.tracks || [];
    // The shots: the timeline's own clip list where the route gives one, else the first
    // track's (every track lists the same clips). Without a deployed label there is none.
    this.clips = timeline.clips || tracks[0]?.clips || [];
    const duration = timeline.duration || (this.clips.length ? this.clips[this.clips.length - 1].end : 0) || 1;
    const name = basename(timeline.video);
    document.title = `${name} · Video Annotator`;
    const place = (el, start, end) => {
      el.style.setProperty('--left', `${(start / duration) * 100}%`);
      el.style.setProperty('--width', `${(Math.max(0, end - start) / duration) * 100}%`);
      return el;
    };
    this.shots = this.clips.map((clip, i) => place(h('button', {
      type: 'button', class: 'shot', tabindex: i === 0 ? '0' : '-1', dataset: { clip: clip.clip_id, index: i },
      title: `Clip #${clip.clip_id} · ${fmtSpan(clip)}`, 'aria-label': `Clip ${clip.clip_id}, ${fmtSpan(clip)}: play`,
    }, h('img', { src: media.thumb(clip.clip_id), alt: '', loading: 'lazy', decoding: 'async', draggable: 'false' })), clip.start, clip.end));
    const strip = h('div', { class: 'shot-strip', role: 'toolbar', 'aria-label': 'Shots, in order (← → to move, Enter to play)' }, this.shots);
    strip.addEventListener('click', (e) => {
      const shot = e.target.closest('.shot');
      if (shot) this.play(Number(shot.dataset.index));
    });
    strip.addEventListener('focusin', (e) => {
      const shot = e.target.closest('.shot');
      if (shot) this.setIndex(Number(shot.dataset.index));
    });
    const lanes = tracks.map((track) => this.trackRow(track, place));
    const ticks = axisTicks(duration).map((t) => place(h('span', { class: 'tick' }, h('span', { class: 'tick-text' }, fmtClock(t))), t, t));
    const width = Math.max(100, this.clips.length * 14); // px per clip at least: a bar stays clickable
    const stripRow = h('div', { class: 'track strip-row' },
      h('div', { class: 'track-name', 'aria-hidden': 'true' }, h('span', { class: 'muted small' }, plural(this.clips.length, 'shot'))), strip);
    const canvas = h('div', { class: 'timeline-canvas' }, h('div', { class: 'axis', 'aria-hidden': 'true' }, ticks), stripRow, lanes);
    canvas.style.setProperty('--min-width', `${width}px`);
    const noTracks = tracks.length === 0
      ? h('div', { class: 'empty-state small-empty' }, h('p', {}, 'No label is deployed: deploy a label’s model (its page, Production) to see its track here.'))
      : null;
    clear(view, h('div', { class: 'page-wide video-page' },
      h('nav', { class: 'crumbs' }, h('a', { href: '#/videos' }, '← Videos'), h('span', { class: 'muted' }, ` / ${name}`)),
      h('div', { class: 'video-head' },
        h('h1', { class: 'page-title video-title', title: timeline.video }, name),
        h('p', { class: 'muted video-facts' },
          h('span', {}, fmtClock(duration)), h('span', {}, plural(this.clips.length, 'clip')),
          h('span', {}, `${fmtNumber(timeline.fps, 2)} fps`), h('span', {}, plural(tracks.length, 'deployed label')),
          tracks.length ? h('a', { href: api.timelinePng(this.id), target: '_blank', rel: 'noopener' }, 'timeline PNG') : null)),
      h('p', { class: 'muted small tab-help' }, 'The shots of the video, to scale. Under them each deployed label’s probability per clip: green bars are above the threshold (the dashed line), shaded spans are segments. Click a shot or a bar, or ← → and Enter, to play a clip.'),
      noTracks,
      this.clips.length ? h('div', { class: 'timeline-scroll' }, canvas) : null,
      tracks.length ? h('section', { class: 'segment-lists' }, tracks.map((track) => this.segmentList(track))) : null));
    this.shots[0]?.focus({ preventScroll: true });
  }

  trackRow(track, place) {
    const threshold = track.threshold ?? 0.5;
    const bars = track.clips.map((clip, i) => {
      const above = clip.probability > threshold;
      const bar = place(h('span', {
        class: `bar ${above ? 'above' : ''}`, dataset: { clip: clip.clip_id, index: i },
        title: `Clip #${clip.clip_id} · ${fmtSpan(clip)} · p ${fmtNumber(clip.probability)}`,
      }), clip.start, clip.end);
      bar.style.setProperty('--p', Math.max(0.02, Math.min(1, clip.probability)).toFixed(4));
      return bar;
    });
    const segments = (track.segments || []).map((s) => place(h('span', {
      class: 'segment', title: `Segment ${fmtSpan(s)} · peak ${fmtNumber(s.peak)} · mean ${fmtNumber(s.mean)}`,
    }), s.start, s.end));
    const line = h('span', { class: 'threshold-line', title: `threshold p ${fmtNumber(threshold)}` });
    const lane = h('div', { class: 'lane', role: 'img',
      'aria-label': `${track.label}: ${plural((track.segments || []).length, 'segment')} above the threshold p ${fmtNumber(threshold)}` },
    segments, bars, line);
    lane.style.setProperty('--threshold', threshold);
    lane.addEventListener('click', (e) => {
      const bar = e.target.closest('.bar');
      if (bar) this.play(Number(bar.dataset.index));
    });
    return h('div', { class: 'track', dataset: { label: track.label } },
      h('div', { class: 'track-name' },
        h('a', { href: `#/labels/${encodeURIComponent(track.label)}`, class: 'label-link', title: track.label }, track.label),
        h('span', { class: 'muted small' }, `v${track.version} · p > ${fmtNumber(threshold)}`)),
      lane);
  }

  segmentList(track) {
    const segments = track.segments || [];
    return h('div', { class: 'segment-list', dataset: { label: track.label } },
      h('h3', {}, h('span', { class: 'track-label-name' }, track.label), h('span', { class: 'muted small' }, ` · ${plural(segments.length, 'segment')}`)),
      segments.length
        ? h('ul', {}, segments.map((s) => {
          const first = Array.isArray(s.clips) ? s.clips[0] : null;
          const index = first != null ? this.clips.findIndex((c) => c.clip_id === first) : this.clips.findIndex((c) => c.start >= s.start - 1e-3);
          return h('li', {}, h('button', { type: 'button', class: 'chip segment-chip', onclick: () => this.play(Math.max(0, index)) },
            `${fmtTime(s.start)} – ${fmtTime(s.end)}`, h('span', { class: 'muted' }, ` peak ${fmtNumber(s.peak)} · ${plural(Array.isArray(s.clips) ? s.clips.length : s.clips ?? 0, 'clip')}`)));
        }))
        : h('p', { class: 'muted small' }, 'No clip of this video is above the threshold.'));
  }

  setIndex(i) {
    if (!this.shots.length) return false;
    const index = Math.max(0, Math.min(this.shots.length - 1, i));
    if (this.shots[this.index]) this.shots[this.index].tabIndex = -1;
    this.index = index;
    this.shots[index].tabIndex = 0;
    return true;
  }

  focus(i) {
    if (!this.setIndex(i)) return false;
    this.shots[this.index].focus({ preventScroll: true });
    this.shots[this.index].scrollIntoView({ block: 'nearest', inline: 'nearest' });
    return true;
  }

  play(i) {
    if (!this.setIndex(i)) return;
    const clip = this.clips[this.index];
    const handlers = {
      onPick: (id) => this.app.player.show(id, handlers),
      onClose: () => this.shots[this.index]?.focus({ preventScroll: true }),
      onLabel: (name) => this.app.navigate(`#/labels/${encodeURIComponent(name)}`),
    };
    this.app.player.show(clip.clip_id, handlers);
  }

  /** A key from keys.js (j/k, arrows, Home/End, Enter/o); false when it means nothing here. */
  action(name) {
    const open = this.app.player.open;
    switch (name) {
      case 'next': case 'prev': {
        const moved = this.focus(this.index + (name === 'next' ? 1 : -1));
        if (open) this.play(this.index);
        return moved;
      }
      case 'first': return this.focus(0);
      case 'last': return this.focus(this.shots.length - 1);
      case 'open': this.play(this.index); return true;
      case 'preview': if (open) this.app.player.togglePlay(); return open;
      default: return false;
    }
  }
}

function axisTicks(duration) {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
  const step = steps.find((s) => duration / s <= 10) || 3600;
  const ticks = [];
  for (let t = 0; t <= duration + 1e-6; t += step) ticks.push(t);
  return ticks;
}
