// Live counts: keeps the header's figures and the open label's state true while the page is open.
// One cheap GET /api/info every POLL_MS while the tab is visible (none while it is hidden, one at
// once when it shows again). Each answer that changes the clip or video count, or the text
// model's state, is sent to the page as a window event `va:counts` ({detail: {info, before}}):
// labelpage.js listens, and says what changed ("7 new clips since v3").

import { api } from './api.js';
import { plural } from './dom.js';

const POLL_MS = 5000;
const FIRST_POLL_MS = 1500; // the page's own first requests go first: they compete for the server

/** The latest /api/info (null until the first answer). */
export const live = { info: null };

let timer = null;
let inflight = null;

/** Ask /api/info now (one request at a time); resolves to the info, or null if the server failed. */
export function refreshInfo() {
  inflight ??= api.info().then(apply, () => null).finally(() => {
    inflight = null;
  });
  return inflight;
}

/** The text model's state: "ready" | "loading" | "cold"; a server that does not say is ready. */
export function textModelState(info = live.info) {
  return info?.text_model ?? 'ready';
}

function apply(info) {
  const before = live.info;
  live.info = info;
  const header = document.getElementById('workspace-info');
  if (header) {
    header.textContent = `${plural(info.clips, 'clip')} · ${plural(info.videos, 'video')}`;
    header.dataset.clips = String(info.clips);
  }
  const changed = !before || before.clips !== info.clips || before.videos !== info.videos
    || textModelState(before) !== textModelState(info);
  if (changed) window.dispatchEvent(new CustomEvent('va:counts', { detail: { info, before } }));
  return info;
}

function schedule(ms = POLL_MS) {
  clearTimeout(timer);
  timer = document.hidden ? null : setTimeout(tick, ms);
}

async function tick() {
  await refreshInfo();
  schedule();
}

document.addEventListener('visibilitychange', () => {
  if (document.hidden) {
    clearTimeout(timer);
    timer = null;
  } else {
    schedule(0);
  }
});

schedule(FIRST_POLL_MS);
