// Who is annotating which label, and the label's current value for each clip. Annotating
// and undoing go through here so every card showing a clip repaints at once.

import { api } from './api.js';
import { VALUE_MARK, VALUE_TEXT } from './dom.js';

const ANNOTATOR_KEY = 'va.annotator';

export const session = {
  annotator: readAnnotator(),
  team: false, // team mode: the server takes the annotator from this browser's token
  label: null, // the name of the label on screen
  values: new Map(), // clip id -> the label's current value (positive, negative, skip, unresolved)
  events: new EventTarget(), // 'change' after every stored annotation or undo
};

function readAnnotator() {
  try {
    return localStorage.getItem(ANNOTATOR_KEY) || '';
  } catch {
    return '';
  }
}

// Team mode: the name is the token's user, fixed by the server, and not saved here.
export function signedInAs(name) {
  session.team = true;
  session.annotator = name;
}

export function setAnnotator(name) {
  session.annotator = name.trim().slice(0, 64);
  try {
    localStorage.setItem(ANNOTATOR_KEY, session.annotator);
  } catch {
    // private mode: kept for this page only
  }
}

export function openLabel(name, reviewItems) {
  session.label = name;
  session.values = new Map(reviewItems.map((item) => [item.clip_id, item.value]));
}

export function setValue(clipId, value) {
  if (value) session.values.set(clipId, value);
  else session.values.delete(clipId);
  paintValue(clipId, value);
}

export function paintValue(clipId, value) {
  for (const card of document.querySelectorAll(`[data-clip="${Number(clipId)}"]`)) {
    card.dataset.value = value || '';
    const mark = card.querySelector('.mark');
    if (mark) mark.textContent = value ? `${VALUE_MARK[value]} ${VALUE_TEXT[value]}` : '';
  }
}

/** Store one annotation; the cards change at once and change back if the server refuses.
 *  startedAt: the keypress's timestamp, to measure keypress -> stored (performance 'va:annotate'). */
export async function annotate(clipIds, value, { source, modelVersion, startedAt } = {}) {
  const label = session.label;
  const before = clipIds.map((id) => session.values.get(id));
  clipIds.forEach((id) => setValue(id, value));
  try {
    const result = await api.annotate(label, {
      clip_ids: clipIds, value, annotator: session.annotator, source: source || 'web', model_version: modelVersion ?? undefined,
    });
    if (startedAt != null) performance.measure('va:annotate', { start: startedAt, end: performance.now() });
    session.events.dispatchEvent(new Event('change'));
    return result;
  } catch (error) {
    if (session.label === label) clipIds.forEach((id, i) => setValue(id, before[i]));
    throw error;
  }
}

/** Undo this annotator's latest annotation on the label; returns the clip id it touched. */
export async function undo() {
  const label = session.label;
  const event = await api.undo(label, { annotator: session.annotator });
  // The label's value aggregates every annotator's vote: ask the server what it is now.
  const clip = await api.clip(event.clip_id);
  const mine = clip.labels.find((item) => item.label === label);
  if (session.label === label) setValue(event.clip_id, mine ? mine.annotation : null);
  session.events.dispatchEvent(new Event('change'));
  return { clipId: event.clip_id, value: mine ? mine.annotation : null };
}
