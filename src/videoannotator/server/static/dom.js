// Building the page safely: every piece of data becomes a text node or an attribute value,
// never markup (no innerHTML anywhere), so a label called <img onerror=...> is just text.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key === 'class') el.setAttribute('class', value);
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'props') Object.assign(el, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key.startsWith('on')) throw new Error(`refusing attribute ${key}`);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// -- formatting -------------------------------------------------------------------------
export function basename(path) {
  return String(path ?? '').split(/[\\/]/).pop();
}

export function fmtTime(seconds) {
  const s = Math.max(0, Number(seconds) || 0);
  const m = Math.floor(s / 60);
  return `${m}:${(s - m * 60).toFixed(1).padStart(4, '0')}`;
}

export function fmtSpan(clip) {
  return `${fmtTime(clip.start)} – ${fmtTime(clip.end)}`;
}

export function fmtDuration(clip) {
  return `${(clip.end - clip.start).toFixed(1)} s`;
}

export function sigmoid(x) {
  return 1 / (1 + Math.exp(-x));
}

/** A version's logit as the calibrated probability people see (Platt: sigmoid(a·logit + b));
 *  versions from before calibration have none: plain sigmoid. */
export function calibrate(logit, calibration) {
  const a = Number(calibration?.a ?? 1);
  const b = Number(calibration?.b ?? 0);
  return sigmoid(a * logit + b);
}

/** {a, b, threshold}: a version's calibration and its threshold as a calibrated probability
 *  (null when the version predates them: then p > 0.5 is the side of the threshold). */
export function calibrationOf(version) {
  const metrics = version?.metrics || {};
  const cal = metrics.calibration || {};
  return { a: cal.a ?? 1, b: cal.b ?? 0, threshold: metrics.threshold?.probability ?? null };
}

export function fmtNumber(x, digits = 2) {
  return x == null || Number.isNaN(x) ? '—' : Number(x).toFixed(digits);
}

export function fmtMs(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

export function fmtWhen(iso) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '';
  const seconds = Math.round((Date.now() - then) / 1000);
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(then).toLocaleDateString();
}

export const VALUE_TEXT = { positive: 'Positive', negative: 'Negative', skip: 'Skipped', unresolved: 'Unresolved' };
export const VALUE_MARK = { positive: '✓', negative: '✕', skip: '–', unresolved: '?' };

// -- toasts -------------------------------------------------------------------------------
export function toast(message, { kind = 'info', ms } = {}) {
  const box = document.getElementById('toasts');
  const item = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', { class: 'toast-text', text: message }),
    h('button', { class: 'toast-close', 'aria-label': 'Dismiss', onclick: () => item.remove() }, '×'));
  box.append(item);
  while (box.children.length > 4) box.firstElementChild.remove();
  setTimeout(() => item.remove(), ms ?? (kind === 'error' ? 9000 : 3500));
  return item;
}

export function isTypingTarget(el) {
  if (!el || el === document.body) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') return !['checkbox', 'radio', 'button', 'submit', 'range'].includes(el.type);
  return false;
}

/** "1 clip", "2 clips" (pass the plural when it is not word + s). */
export function plural(n, word, many) {
  const count = Number(n) || 0;
  return `${count.toLocaleString()} ${count === 1 ? word : many ?? `${word}s`}`;
}

export function fmtPercent(x, digits = 0) {
  return x == null || Number.isNaN(x) ? '—' : `${(Number(x) * 100).toFixed(digits)}%`;
}

/** 0.81 (0.62–0.93) from a value and a [low, high] pair (or low/high numbers). */
export function fmtInterval(value, low, high, digits = 2) {
  if (value == null) return '—';
  if (Array.isArray(low)) [low, high] = low;
  return low == null || high == null ? fmtNumber(value, digits) : `${fmtNumber(value, digits)} (${fmtNumber(low, digits)}–${fmtNumber(high, digits)})`;
}

/** "1:02:03" or "4:05" for a duration in seconds. */
export function fmtClock(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

const pad2 = (n) => String(n).padStart(2, '0');

/** Source timecode "HH:MM:SS.mmm" for a time in seconds from the video's start. */
export function fmtTimecode(seconds) {
  const ms = Math.max(0, Math.round((Number(seconds) || 0) * 1000));
  const s = Math.floor(ms / 1000);
  return `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}.${String(ms % 1000).padStart(3, '0')}`;
}

/** SMPTE-style non-drop-frame timecode "HH:MM:SS:FF" for a frame number at `fps`
 *  (29.97 counts 30 frames a second, as NDF timecode does). */
export function fmtFrameTimecode(frame, fps) {
  const base = Math.max(1, Math.round(Number(fps) || 25));
  const n = Math.max(0, Math.floor(Number(frame) || 0));
  const s = Math.floor(n / base);
  return `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}:${pad2(n % base)}`;
}
