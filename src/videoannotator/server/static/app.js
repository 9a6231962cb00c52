// The page: routes (#/, #/new, #/labels/NAME/STEP[/ARG], #/clips/ID, #/videos[/ID],
// #/monitor[?label=NAME]), the header, the
// dialogs (annotator name, help, player) and the one keyboard dispatcher.

import { api } from './api.js';
import { clear, h, isTypingTarget, toast } from './dom.js';
import { BINDINGS, bindingFor } from './keys.js';
import { LabelPage, useNames } from './labelpage.js';
import { refreshInfo } from './live.js';
import { MonitorView } from './monitor.js';
import { clipDetail, loadClip, PlayerDialog } from './player.js';
import { annotate, session, setAnnotator, signedInAs } from './session.js';
import { labelCards, showVideos, VideoView } from './videos.js';

const view = document.getElementById('view');
const labelSelect = document.getElementById('label-select');
const helpDialog = document.getElementById('help-dialog');
const annotatorDialog = document.getElementById('annotator-dialog');
const annotatorButton = document.getElementById('annotator-button');

const app = {
  page: null, // the LabelPage on screen, if any
  routed: null, // the address last shown
  labels: [],
  player: new PlayerDialog(document.getElementById('player-dialog')),
  navigate,
  error: showError,
  ensureAnnotator,
};

function showError(error) {
  toast(error?.message || String(error), { kind: 'error' });
}

// -- routes ---------------------------------------------------------------------------------
function parse(hash) {
  const [path, search] = hash.replace(/^#/, '').split('?');
  let parts;
  try {
    parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { view: 'missing' };
  }
  const params = new URLSearchParams(search || '');
  if (parts.length === 0) return { view: 'home' };
  if (parts[0] === 'new' && parts.length === 1) return { view: 'home', create: true };
  if (parts[0] === 'labels' && parts[1]) return { view: 'label', name: parts[1], step: parts[2] || null, arg: parts[3] || null, params };
  if (parts[0] === 'clips' && /^\d+$/.test(parts[1] || '')) return { view: 'clip', id: Number(parts[1]) };
  if (parts[0] === 'videos' && parts.length === 1) return { view: 'videos' };
  if (parts[0] === 'videos' && /^\d+$/.test(parts[1] || '') && parts.length === 2) return { view: 'video', id: Number(parts[1]) };
  if (parts[0] === 'monitor' && parts.length === 1) return { view: 'monitor', label: params.get('label') };
  return { view: 'missing' };
}

function navigate(hash, { replace = false, startedAt } = {}) {
  if (hash === location.hash) return route({ startedAt });
  if (replace) history.replaceState(null, '', hash);
  else history.pushState(null, '', hash);
  return route({ startedAt });
}

let routing = Promise.resolve();

function route(options = {}) {
  routing = routing.then(() => show(options)).catch(showError);
  return routing;
}

async function show({ startedAt } = {}) {
  const hash = location.hash || '#/';
  if (hash === app.routed) return;
  app.routed = hash;
  const where = parse(hash);
  if (where.view !== 'label' || (app.page && app.page.name !== where.name && app.page.label?.id !== Number(where.name))) {
    app.page?.destroy();
    app.page = null;
  }
  if (where.view !== 'label') app.player.close();
  if (where.view !== 'clip') app.clipView = null;
  app.videoView = null;
  app.monitorView?.destroy();
  app.monitorView = null;
  setSection(where.view);
  if (where.view === 'home') return showHome(where);
  if (where.view === 'videos') return showVideos(view, app).catch((error) => cannotShow('Cannot list the videos', error));
  if (where.view === 'video') return showVideo(where.id);
  if (where.view === 'monitor') return showMonitor(where);
  if (where.view === 'clip') return showClip(where.id);
  if (where.view === 'missing') return clear(view, h('div', { class: 'empty-state' }, h('h2', {}, 'Nothing here'), h('a', { href: '#/' }, 'All labels')));
  const firstLoad = !app.page;
  const t0 = startedAt ?? (app.started ? performance.now() : 0);
  app.started = true;
  if (firstLoad) {
    const page = new LabelPage(where.name, app);
    app.page = page;
    clear(view, h('div', { class: 'loading muted' }, 'Loading label…'));
    try {
      await page.load();
    } catch (error) {
      app.page = null;
      clear(view, h('div', { class: 'empty-state' }, h('h2', {}, 'Cannot open this label'),
        h('p', { class: 'error-text' }, error.message), h('a', { class: 'button', href: '#/' }, 'All labels')));
      return;
    }
    if (app.page !== page) return;
    clear(view, page.el);
    if (page.name !== where.name) { // opened by id: show the name in the address
      history.replaceState(null, '', `#/labels/${encodeURIComponent(page.name)}${where.step ? `/${where.step}` : ''}`);
      app.routed = location.hash;
    }
    if (!app.labels.some((label) => label.name === page.name)) refreshLabels().catch(showError);
    labelSelect.value = page.name;
    document.title = `${page.name} · Video Annotator`;
  }
  await app.page.show(where, { startedAt: firstLoad ? undefined : startedAt });
  if (firstLoad) performance.measure('va:label-ready', { start: t0, end: performance.now(), detail: { label: where.name } });
}

// -- production: videos, one video's timeline, monitoring ------------------------------------
function cannotShow(title, error) {
  clear(view, h('div', { class: 'empty-state' }, h('h2', {}, title),
    h('p', { class: 'error-text' }, error.message), h('a', { class: 'button', href: '#/' }, 'All labels')));
}

async function showVideo(id) {
  const videoView = new VideoView(id, app);
  app.videoView = videoView;
  try {
    await videoView.render(view);
  } catch (error) {
    if (app.videoView === videoView) cannotShow(`Cannot show video #${id}`, error);
  }
}

async function showMonitor({ label }) {
  labelSelect.value = '';
  const monitor = new MonitorView(app, { label });
  app.monitorView = monitor;
  try {
    await monitor.render(view);
  } catch (error) {
    if (app.monitorView === monitor) cannotShow('Cannot show monitoring', error);
  }
}

/** The header's section links: which one is on screen. */
function setSection(name) {
  const section = name === 'video' ? 'videos' : name;
  for (const link of document.querySelectorAll('.section-link')) {
    const on = link.dataset.section === section;
    link.classList.toggle('active', on);
    if (on) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

// -- home: the labels, and a new one ---------------------------------------------------------
async function refreshLabels() {
  const { labels } = await api.labels();
  app.labels = labels;
  clear(labelSelect, h('option', { value: '' }, labels.length ? 'Choose a label…' : 'No labels yet'),
    labels.map((label) => h('option', { value: label.name }, label.name)));
  labelSelect.value = app.page?.name || '';
  return labels;
}

async function showHome({ create }) {
  document.title = 'Video Annotator';
  labelSelect.value = '';
  // the cards' figures (counts, AP, live version) come with the library's list of labels
  const [labels, cards] = await Promise.all([refreshLabels(), api.libraryLabels().then((data) => data.labels, (error) => {
    showError(error);
    return null;
  })]);
  const name = h('input', { name: 'name', required: true, maxlength: 64, autocomplete: 'off', placeholder: 'e.g. establishing-shot' });
  const description = h('textarea', { name: 'description', rows: 4, maxlength: 5000,
    placeholder: 'What counts as positive, e.g. “A wide shot that shows where the scene takes place.”' });
  const keywords = h('input', { name: 'keywords', maxlength: 2000, autocomplete: 'off', placeholder: 'comma, separated — the first search' });
  const problem = h('p', { class: 'form-error', role: 'alert' });
  const form = h('form', { class: 'panel create-label', 'aria-label': 'New label' },
    h('h2', { class: 'panel-title' }, 'New label'),
    h('label', {}, 'Name', name),
    h('label', {}, 'Description (the guideline annotators read)', description),
    h('label', {}, 'Keywords', keywords),
    problem,
    h('button', { class: 'button primary', type: 'submit' }, 'Create label'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    problem.textContent = '';
    try {
      const label = await api.createLabel({ name: name.value, description: description.value, keywords: keywords.value });
      await refreshLabels();
      navigate(`#/labels/${encodeURIComponent(label.name)}/search`);
    } catch (error) {
      problem.textContent = error.message;
    }
  });
  const tiles = labels.length
    ? labelCards(cards || labels)
    : h('div', { class: 'empty-state small-empty' }, h('p', {}, 'No labels yet. A label is one yes/no question about a clip, like “establishing shot” or “car chase”: create the first one.'));
  clear(view, h('div', { class: 'home' },
    h('section', { class: 'home-labels' },
      h('h1', { class: 'page-title' }, 'Labels'),
      h('p', { class: 'muted lead' }, 'Each label is one binary classifier you build yourself: search for examples, annotate, build, and let the four feeds show you what to annotate next.'),
      tiles),
    form));
  if (create || !labels.length) name.focus();
  else view.querySelector('.label-tile')?.focus();
}

// -- the clip page (every label's score on one clip) ------------------------------------------
async function showClip(id) {
  clear(view, h('div', { class: 'loading muted' }, 'Loading clip…'));
  let data;
  try {
    data = await loadClip(id);
  } catch (error) {
    clear(view, h('div', { class: 'empty-state' }, h('h2', {}, `Cannot show clip #${id}`),
      h('p', { class: 'error-text' }, error.message), h('a', { class: 'button', href: '#/' }, 'All labels')));
    return;
  }
  const back = session.label ? `#/labels/${encodeURIComponent(session.label)}` : '#/';
  const onAnnotate = session.label ? async (value) => {
    if (!ensureAnnotator()) return;
    try {
      await annotate([id], value, { source: 'clip-page', startedAt: performance.now() });
      toast(`Clip #${id}: ${value} for ${session.label}`);
    } catch (error) {
      showError(error);
    }
  } : null;
  // Any label's row of the clip's table annotates that label (player.js labelsTable renders the
  // buttons): resolves to the label's value for the clip as the server now has it, or null
  // when nothing was stored (no annotator name yet, or the server refused: said in a toast).
  const onAnnotateLabel = async (labelName, value) => {
    if (!ensureAnnotator()) return null;
    try {
      if (labelName === session.label) await annotate([id], value, { source: 'clip-page', startedAt: performance.now() });
      else await api.annotate(labelName, { clip_ids: [id], value, annotator: session.annotator, source: 'clip-page' });
      const now = await api.clip(id);
      toast(`Clip #${id}: ${value} for ${labelName}`);
      return now.labels.find((item) => item.label === labelName)?.annotation ?? null;
    } catch (error) {
      showError(error);
      return null;
    }
  };
  app.clipView = { id, action: (name) => {
    if (!['positive', 'negative', 'skip'].includes(name) || !onAnnotate) return false;
    onAnnotate(name);
    return true;
  } };
  clear(view, h('div', { class: 'clip-page' },
    h('nav', { class: 'crumbs' }, h('a', { href: back }, `← ${session.label || 'All labels'}`),
      h('span', { class: 'muted' }, ` / clip #${id}`)),
    clipDetail(data, { onAnnotate, onAnnotateLabel, onPick: (other) => navigate(`#/clips/${other}`) })));
  document.title = `Clip #${id} · Video Annotator`;
}

// -- dialogs ---------------------------------------------------------------------------------
function renderHelp() {
  const groups = new Map();
  for (const binding of BINDINGS) {
    if (!binding.show) continue;
    if (!groups.has(binding.group)) groups.set(binding.group, []);
    groups.get(binding.group).push(binding);
  }
  clear(helpDialog,
    h('div', { class: 'dialog-head' }, h('h2', {}, 'Keyboard'),
      h('button', { class: 'dialog-close', type: 'button', 'aria-label': 'Close', onclick: () => helpDialog.close() }, '×')),
    h('div', { class: 'help-groups' }, [...groups].map(([group, bindings]) => h('section', { class: 'help-group' },
      h('h3', {}, group),
      h('dl', {}, bindings.map((b) => [
        h('dt', {}, b.show.map((k, i) => [i ? ' ' : '', h('kbd', {}, k)])),
        h('dd', {}, b.does)]))))),
    h('p', { class: 'muted small' }, 'Everything also works with the mouse: the buttons on each card, the tabs, Build.'));
}

function toggleHelp() {
  if (helpDialog.open) helpDialog.close();
  else {
    renderHelp();
    helpDialog.showModal();
  }
}

function showSignedIn() {
  const form = h('form', { class: 'annotator-form', method: 'dialog' },
    h('h2', {}, `Signed in as ${session.annotator}`),
    h('p', { class: 'muted' }, 'This workspace is in team mode: the server records every annotation, undo, deploy and label edit you make under the name of your token. To annotate as someone else, open the page with their link.'),
    h('div', { class: 'form-actions' }, h('button', { class: 'button primary', type: 'submit' }, 'Close')));
  annotatorDialog.oncancel = null;
  clear(annotatorDialog, form);
  annotatorDialog.showModal();
}

function askAnnotator({ required = false } = {}) {
  if (session.team) return showSignedIn();
  const input = h('input', { name: 'annotator', required: true, maxlength: 64, autocomplete: 'name', placeholder: 'Your name' });
  input.value = session.annotator;
  const form = h('form', { class: 'annotator-form' },
    h('h2', {}, 'Who is annotating?'),
    h('p', { class: 'muted' }, 'Your name is saved in this browser and recorded with every annotation you make.'),
    input,
    h('div', { class: 'form-actions' },
      required ? null : h('button', { class: 'button ghost', type: 'button', onclick: () => annotatorDialog.close() }, 'Cancel'),
      h('button', { class: 'button primary', type: 'submit' }, 'Continue')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!input.value.trim()) return;
    setAnnotator(input.value);
    renderAnnotator();
    annotatorDialog.close();
  });
  annotatorDialog.oncancel = (event) => {
    if (!session.annotator) event.preventDefault();
  };
  clear(annotatorDialog, form);
  annotatorDialog.showModal();
  input.focus();
}

function ensureAnnotator() {
  if (session.annotator) return true;
  askAnnotator({ required: true });
  return false;
}

function renderAnnotator() {
  annotatorButton.title = session.team ? `Signed in as ${session.annotator} (team mode)` : 'Change the annotator name';
  clear(annotatorButton, h('span', { class: 'avatar', 'aria-hidden': 'true' }, (session.annotator || '?').slice(0, 1).toUpperCase()),
    h('span', { class: 'annotator-name' }, session.annotator || 'Set your name'));
}

// -- keys --------------------------------------------------------------------------------------
function onKey(event) {
  if (event.defaultPrevented || event.isComposing) return;
  if (annotatorDialog.open) return; // typing a name
  const target = event.target;
  if (isTypingTarget(target)) {
    if (event.key === 'Escape' && !target.closest('dialog')) {
      target.blur();
      app.page?.activeGrid()?.focusCurrent();
      event.preventDefault();
    }
    return;
  }
  const binding = bindingFor(event);
  if (!binding) return;
  // Enter and Space on a button or link do what the button or link does.
  if ((event.key === 'Enter' || event.key === ' ') && target.closest?.('button, a, summary, select')) return;
  if (helpDialog.open) {
    if (binding.action === 'help' || binding.action === 'escape') {
      helpDialog.close();
      event.preventDefault();
    }
    return;
  }
  if (binding.action === 'help') {
    toggleHelp();
    event.preventDefault();
    return;
  }
  if (binding.action === 'escape') return; // dialogs close themselves on Esc
  if (app.player.open && ['search', 'learn', 'review', 'nextTab', 'prevTab', 'tab', 'build'].includes(binding.action)) app.player.close();
  const handler = app.routed?.startsWith('#/labels/') ? app.page : app.routed?.startsWith('#/clips/') ? app.clipView
    : app.routed?.startsWith('#/videos/') ? app.videoView : app.routed?.startsWith('#/monitor') ? app.monitorView : null;
  if (handler && handler.action(binding.action, binding.arg, event) !== false) event.preventDefault();
}

// -- start -------------------------------------------------------------------------------------
async function start() {
  document.addEventListener('keydown', onKey);
  window.addEventListener('popstate', () => route());
  window.addEventListener('hashchange', () => route());
  document.getElementById('help-button').addEventListener('click', toggleHelp);
  annotatorButton.addEventListener('click', () => askAnnotator());
  document.getElementById('new-label').addEventListener('click', () => navigate('#/new'));
  labelSelect.addEventListener('change', () => {
    if (!labelSelect.value) return;
    labelSelect.blur(); // the keys belong to the grid again
    navigate(`#/labels/${encodeURIComponent(labelSelect.value)}`);
  });
  const me = await api.me().catch(() => null);
  if (me?.team && me.name) signedInAs(me.name);
  renderAnnotator();
  if (!session.annotator) askAnnotator({ required: true });
  useNames(await api.meta());
  await route();
  // The header's figures (#workspace-info) are live.js's, which keeps them true while the page is
  // open; they are asked for once the page itself is on screen (both compete for the server).
  refreshInfo();
  if (!app.labels.length) refreshLabels().catch(showError);
}

start();
