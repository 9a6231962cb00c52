// The model panel: version, counts, cross-validated AP with its interval, the score
// histogram over the whole corpus, diversity, and what the last build changed.

import { calibrate, calibrationOf, fmtMs, plural, fmtNumber, fmtWhen, h } from './dom.js';

const STAGES = ['gather', 'fit', 'score', 'cv', 'clusters', 'diversity', 'feeds'];

/** `clips`: how many clips the workspace holds now (live.js), to say how many the version missed. */
export function modelPanel({ label, histogram, timings, clips = null }) {
  const versions = label.versions || [];
  const latest = versions[versions.length - 1];
  if (!latest) {
    return h('section', { class: 'panel model-panel empty-model' },
      h('h2', { class: 'panel-title' }, 'Model'),
      h('p', { class: 'muted' }, noModelText(label.counts || {})));
  }
  const m = latest.metrics || {};
  const fresh = clips == null ? 0 : clips - latest.clips_scored;
  return h('section', { class: 'panel model-panel', 'aria-label': 'Model' },
    h('div', { class: 'panel-head' },
      h('h2', { class: 'panel-title' }, 'Model ', h('span', { class: 'version' }, `v${latest.version}`)),
      h('span', { class: 'muted small', title: latest.created_at }, `built ${fmtWhen(latest.created_at)}`)),
    h('p', { class: 'muted small scored' }, `Trained on ${m.n_positive ?? 0} positive and ${plural(m.n_negative, 'negative clip')}` +
      ` · ${plural(latest.clips_scored, 'clip')} scored` + (fresh > 0 ? ` (${plural(fresh, 'new clip')} since)` : '')),
    apBlock(m.cv || {}),
    histogramBlock(histogram, calibrationOf(latest)),
    diversityBlock(m.diversity),
    changeBlock(m.change, latest.version),
    timings ? timingBlock(timings) : null,
    historyBlock(versions));
}

/** What the label lacks for its first model, from its counts: "3 positives, no negative yet". */
function noModelText(counts) {
  const pos = counts.positive ?? 0;
  const neg = counts.negative ?? 0;
  if (pos && neg) return `No model yet: ${plural(pos, 'positive')} and ${plural(neg, 'negative')} are ready. Build (b) makes v1.`;
  const need = !pos && !neg ? 'one positive and one negative clip' : pos ? 'one negative clip' : 'one positive clip';
  const have = !pos && !neg ? '' : ` (${pos ? plural(pos, 'positive') : plural(neg, 'negative')} so far)`;
  return `No model yet. Mark at least ${need}${have}, then Build (b).`;
}

function apBlock(cv) {
  if (cv.ap == null) {
    return h('div', { class: 'metric ap' },
      h('div', { class: 'metric-name' }, 'Cross-validated AP'),
      h('div', { class: 'metric-value muted' }, '—'),
      h('p', { class: 'muted small reason' }, cv.reason || 'not measured'));
  }
  const bar = h('div', { class: 'interval', title: `95% bootstrap interval ${fmtNumber(cv.ap_low)}–${fmtNumber(cv.ap_high)}` },
    h('span', { class: 'interval-range' }), h('span', { class: 'interval-point' }),
    h('span', { class: 'interval-base', title: `a random ranking gets ${fmtNumber(cv.prevalence)}` }));
  bar.style.setProperty('--low', cv.ap_low ?? cv.ap);
  bar.style.setProperty('--high', cv.ap_high ?? cv.ap);
  bar.style.setProperty('--point', cv.ap);
  bar.style.setProperty('--base', cv.prevalence ?? 0);
  return h('div', { class: 'metric ap' },
    h('div', { class: 'metric-name' }, 'Cross-validated AP'),
    h('div', { class: 'metric-value' }, h('strong', { class: 'ap-value' }, fmtNumber(cv.ap)),
      h('span', { class: 'muted small' }, ` 95% interval ${fmtNumber(cv.ap_low)}–${fmtNumber(cv.ap_high)}`)),
    bar,
    h('p', { class: 'muted small' }, `${cv.n_splits}-fold, out-of-fold scores; random ranking ≈ ${fmtNumber(cv.prevalence)}`));
}

function histogramBlock(histogram, calibration) {
  if (!histogram) return null;
  const canvas = h('canvas', { class: 'histogram', role: 'img', width: 300, height: 120 });
  const total = histogram.clips.reduce((a, b) => a + b, 0);
  const above = histogram.clips.reduce((sum, count, i) => sum + (histogram.edges[i] >= histogram.threshold ? count : 0), 0);
  canvas.setAttribute('aria-label', `Score histogram of ${total} clips; about ${above} above the threshold`);
  requestAnimationFrame(() => drawHistogram(canvas, histogram, calibration));
  return h('div', { class: 'metric histogram-block' },
    h('div', { class: 'metric-name' }, 'Scores over the corpus'),
    canvas,
    h('div', { class: 'legend small' },
      h('span', { class: 'key key-clips' }, 'all clips'),
      h('span', { class: 'key key-positive' }, 'your positives'),
      h('span', { class: 'key key-negative' }, 'your negatives'),
      h('span', { class: 'key key-threshold' }, `threshold (p ${fmtNumber(calibrate(histogram.threshold, calibration))})`)));
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export function drawHistogram(canvas, hist, calibration = null) {
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 300;
  const height = canvas.clientHeight || 120;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  const ctx = canvas.getContext('2d');
  ctx.scale(dpr, dpr);
  const colours = { clips: cssVar('--hist'), pos: cssVar('--positive'), neg: cssVar('--negative'),
    axis: cssVar('--border'), text: cssVar('--muted'), threshold: cssVar('--text') };
  const bins = hist.clips.length;
  const lo = hist.edges[0];
  const hi = hist.edges[bins];
  const pad = { left: 4, right: 4, top: 6, bottom: 30 };
  const strip = 16; // the annotated clips, under the axis
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom - strip;
  const x = (v) => pad.left + ((v - lo) / (hi - lo)) * plotW;
  const barW = plotW / bins;
  const maxClips = Math.max(1, ...hist.clips);
  // sqrt keeps a few clips in the tails visible next to a tall mode
  const yClips = (c) => (Math.sqrt(c) / Math.sqrt(maxClips)) * plotH;
  ctx.fillStyle = colours.clips;
  hist.clips.forEach((c, i) => {
    if (!c) return;
    const bh = Math.max(1, yClips(c));
    ctx.fillRect(pad.left + i * barW + 0.5, pad.top + plotH - bh, Math.max(1, barW - 1), bh);
  });
  ctx.fillStyle = colours.axis;
  ctx.fillRect(pad.left, pad.top + plotH, plotW, 1);
  const maxAnn = Math.max(1, ...hist.positive, ...hist.negative);
  const half = Math.max(1, barW / 2 - 1);
  hist.positive.forEach((c, i) => {
    if (!c) return;
    const bh = Math.max(2, (c / maxAnn) * (strip - 3));
    ctx.fillStyle = colours.pos;
    ctx.fillRect(pad.left + i * barW + 0.5, pad.top + plotH + 2, half, bh);
  });
  hist.negative.forEach((c, i) => {
    if (!c) return;
    const bh = Math.max(2, (c / maxAnn) * (strip - 3));
    ctx.fillStyle = colours.neg;
    ctx.fillRect(pad.left + i * barW + half + 0.5, pad.top + plotH + 2, half, bh);
  });
  const tx = Math.round(x(hist.threshold)) + 0.5;
  ctx.strokeStyle = colours.threshold;
  ctx.setLineDash([3, 3]);
  ctx.beginPath();
  ctx.moveTo(tx, pad.top);
  ctx.lineTo(tx, pad.top + plotH + strip);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = colours.text;
  ctx.font = '10px system-ui, sans-serif';
  ctx.textBaseline = 'bottom';
  const baseline = height - 2;
  ctx.textAlign = 'left';
  ctx.fillText(`p ${calibrate(lo, calibration).toFixed(2)}`, pad.left, baseline);
  ctx.textAlign = 'right';
  ctx.fillText(`p ${calibrate(hi, calibration).toFixed(2)}`, width - pad.right, baseline);
  ctx.textAlign = 'center';
  ctx.fillText('negative ← model score → positive', width / 2, baseline);
}

function diversityBlock(diversity) {
  if (!diversity) return null;
  const row = (name, spread) => h('tr', {},
    h('th', { scope: 'row' }, name),
    h('td', {}, spread?.count ? `${spread.clusters} of ${diversity.k}` : '—'),
    h('td', {}, fmtNumber(spread?.coverage)),
    h('td', {}, fmtNumber(spread?.entropy)));
  return h('div', { class: 'metric diversity' },
    h('div', { class: 'metric-name', title: 'How widely the annotations spread over the corpus clusters (k-means). ' +
      'Negatives bunched in a few clusters: look at the random feed.' }, 'Diversity'),
    h('table', { class: 'mini-table' },
      h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, 'clusters'), h('th', {}, 'coverage'), h('th', {}, 'entropy'))),
      h('tbody', {}, row('positives', diversity.positive), row('negatives', diversity.negative), row('all', diversity.all))));
}

function changeBlock(change, version) {
  if (!change) {
    return h('div', { class: 'metric change' }, h('div', { class: 'metric-name' }, 'Since the last build'),
      h('p', { class: 'muted small' }, `v${version} is the first model of this label.`));
  }
  const delta = change.ap_delta;
  const deltaText = delta == null ? 'AP not comparable' : `AP ${delta >= 0 ? '+' : '−'}${Math.abs(delta).toFixed(3)}`;
  return h('div', { class: 'metric change' },
    h('div', { class: 'metric-name' }, `Since v${change.previous_version}`),
    h('ul', { class: 'change-list' },
      h('li', { class: delta == null ? '' : delta >= 0 ? 'up' : 'down' }, deltaText),
      h('li', {}, `${change.new_annotations >= 0 ? '+' : '−'}${plural(Math.abs(change.new_annotations), 'annotation')}`),
      h('li', {}, `${plural(change.clips_flipped, 'clip')} changed side`)));
}

function timingBlock(timings) {
  const total = timings.total || STAGES.reduce((s, k) => s + (timings[k] || 0), 0);
  const bar = h('div', { class: 'build-stages', role: 'img', 'aria-label': `Last build by stage: ${STAGES.filter((s) => timings[s]).map((s) => `${s} ${fmtMs(timings[s])}`).join(', ')}` });
  for (const stage of STAGES) {
    if (!timings[stage]) continue;
    const part = h('span', { class: `build-stage build-stage-${stage}`, title: `${stage} ${fmtMs(timings[stage])}` });
    part.style.setProperty('--share', (timings[stage] / total).toFixed(4));
    bar.append(part);
  }
  const top = STAGES.filter((s) => timings[s]).sort((a, b) => timings[b] - timings[a]).slice(0, 3);
  return h('div', { class: 'metric timings' },
    h('div', { class: 'metric-name' }, `Last build: ${fmtMs(total)}`), bar,
    h('p', { class: 'muted small' }, top.map((s) => h('span', { class: 'stage-key' },
      h('i', { class: `swatch build-stage-${s}`, 'aria-hidden': 'true' }), `${s} ${timings[s] < 1 ? '<1 ms' : fmtMs(timings[s])}`))));
}

function historyBlock(versions) {
  if (versions.length < 2) return null;
  const rows = versions.slice(-6).reverse().map((v) => h('tr', {},
    h('td', {}, `v${v.version}`),
    h('td', {}, `${(v.metrics?.n_positive ?? 0) + (v.metrics?.n_negative ?? 0)}`),
    h('td', {}, fmtNumber(v.metrics?.cv?.ap)),
    h('td', { class: 'muted' }, fmtWhen(v.created_at))));
  return h('details', { class: 'metric history' },
    h('summary', { class: 'metric-name' }, `Versions (${versions.length})`),
    h('table', { class: 'mini-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'version'), h('th', {}, 'annotations'), h('th', {}, 'AP'), h('th', {}, 'built'))),
      h('tbody', {}, rows)));
}
