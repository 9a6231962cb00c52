// The JSON API, one function per route. Failures throw ApiError carrying the server's
// {"error": {"code", "message"}} so the page can show the message as it is.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function request(method, path, body) {
  const init = { method, headers: { accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'The server does not answer. Is `va serve` still running?');
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data && data.error;
    throw new ApiError(response.status, error?.code || `http_${response.status}`,
      error?.message || `${response.status} ${response.statusText || 'error'}`);
  }
  return data;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== false) q.set(key, String(value));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

const label = (name) => `/api/labels/${encodeURIComponent(name)}`;

export const api = {
  meta: () => request('GET', '/api/meta'),
  me: () => request('GET', '/api/me'),
  info: () => request('GET', '/api/info'),
  videos: () => request('GET', '/api/videos'),
  // the library (routes/production.py): label cards with their figures, a video's strip of shots
  libraryLabels: () => request('GET', '/api/library/labels'),
  videoShots: (videoId, n) => request('GET', `/api/videos/${Number(videoId)}/shots${query({ n })}`),
  labels: () => request('GET', '/api/labels'),
  label: (name) => request('GET', label(name)),
  createLabel: (body) => request('POST', '/api/labels', body),
  updateLabel: (name, body) => request('PATCH', label(name), body),
  search: ({ q, k, offset, label: name, hideAnnotated }) =>
    request('GET', `/api/search${query({ q, k, offset, label: name, hide_annotated: hideAnnotated && name ? 'true' : null })}`),
  similar: (clipId, { k, offset, label: name, hideAnnotated }) =>
    request('GET', `/api/clips/${clipId}/similar${query({ k, offset, label: name, hide_annotated: hideAnnotated && name ? 'true' : null })}`),
  clip: (clipId) => request('GET', `/api/clips/${clipId}`),
  annotate: (name, body) => request('POST', `${label(name)}/annotations`, body),
  undo: (name, body) => request('POST', `${label(name)}/undo`, body),
  build: (name, body) => request('POST', `${label(name)}/build`, body),
  feed: (name, feed, { n, offset, seed }) => request('GET', `${label(name)}/feeds/${feed}${query({ n, offset, seed })}`),
  review: (name, filter) => request('GET', `${label(name)}/review${query({ filter })}`),
  histogram: (name, bins) => request('GET', `${label(name)}/histogram${query({ bins })}`),
  // production (issue 11): the registry, the model card, the production feed, monitoring, timelines
  versions: (name) => request('GET', `${label(name)}/versions`),
  deploy: (name, body) => request('POST', `${label(name)}/deploy`, body),
  rollback: (name, body = {}) => request('POST', `${label(name)}/rollback`, body),
  card: (name) => request('GET', `${label(name)}/card`),
  productionFeed: (name, { n, seed }) => request('GET', `${label(name)}/production-feed${query({ n, seed })}`),
  monitor: (name) => request('GET', `/api/monitor${query({ label: name })}`),
  timeline: (videoId) => request('GET', `/api/videos/${videoId}/timeline`),
  timelinePng: (videoId) => `/api/videos/${videoId}/timeline.png`,
  exportUrl: (name, what, format) =>
    what === 'model' ? `${label(name)}/export/model` : `${label(name)}/export/annotations${query({ format })}`,
};

export const media = {
  thumb: (clipId) => `/media/clips/${clipId}/thumb.jpg`,
  preview: (clipId) => `/media/clips/${clipId}/preview.webm`,
  player: (clipId) => `/media/clips/${clipId}/player.webm`, // 640 px, with sound
};
