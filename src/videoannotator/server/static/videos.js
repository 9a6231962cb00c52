// The videos (#/videos) and one video (#/videos/ID): its strip of shots, proportional to
// their duration, and one track per deployed label below it — each clip's calibrated
// probability as a bar, the segments above the threshold highlighted, the threshold drawn.
// A click on a shot or a bar, or Enter on a shot, plays the clip in the player.

import { api, media } from './api.js';
import { basename, clear, fmtClock, fmtNumber, fmtSpan, fmtTime, fmtWhen, h, plural } from './dom.js';

export async function showVideos(view, app) {
  document.title = 'Videos · Video Annotator';
  clear(view, h('div', { class: 'loading muted' }, 'Loading videos…'));
  const { videos } = await api.videos();
  const rows = videos.map((v) => h('tr', { dataset: { video: v.id } },
    h('th', { scope: 'row', class: 'video-cell' },
      h('a', { class: 'video-link', href: `#/videos/${v.id}`, title: v.path }, basename(v.path))),
    h('td', { class: 'num' }, fmtClock(v.duration)),
    h('td', { class: 'num' }, plural(v.clips, 'clip')),
    h('td', { class: 'muted', title: v.ingested_at || '' }, v.ingested_at ? fmtWhen(v.ingested_at) : '—')));
  clear(view, h('div', { class: 'page-wide videos-page' },
    h('h1', { class: 'page-title' }, 'Videos'),
    h('p', { class: 'muted lead' }, `${plural(videos.length, 'video')} in this workspace. Open one to see its shots and what every deployed label finds in it.`),
    videos.length
      ? h('table', { class: 'data-table videos-table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'video'), h('th', { class: 'num' }, 'duration'), h('th', { class: 'num' }, 'clips'), h('th', {}, 'ingested'))),
        h('tbody', {}, rows))
      : h('div', { class: 'empty-state small-empty' }, h('p', {}, 'No videos yet: `va ingest PATH` adds some.'))));
  view.querySelector('.video-link')?.focus();
  return null;
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
