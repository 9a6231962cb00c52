// Every keyboard shortcut, in one table: the dispatcher reads it, the help overlay (?) shows it.

export const BINDINGS = [
  { group: 'Move', show: ['j', '→'], keys: ['j', 'ArrowRight'], action: 'next', does: 'Next clip' },
  { group: 'Move', show: ['k', '←'], keys: ['k', 'ArrowLeft'], action: 'prev', does: 'Previous clip' },
  { group: 'Move', show: ['↓', '↑'], keys: ['ArrowDown'], action: 'down', does: 'Clip below / above' },
  { group: 'Move', keys: ['ArrowUp'], action: 'up' },
  { group: 'Move', show: ['Home', 'End'], keys: ['Home'], action: 'first', does: 'First / last clip loaded' },
  { group: 'Move', keys: ['End'], action: 'last' },
  { group: 'Annotate', show: ['p'], keys: ['p'], action: 'positive', does: 'Positive, then next clip' },
  { group: 'Annotate', show: ['n'], keys: ['n'], action: 'negative', does: 'Negative, then next clip' },
  { group: 'Annotate', show: ['s'], keys: ['s'], action: 'skip', does: 'Skip (unsure: kept out of training)' },
  { group: 'Annotate', show: ['x'], keys: ['x'], action: 'flip', does: 'Flip positive ⇄ negative' },
  { group: 'Annotate', show: ['u', 'Ctrl+Z'], keys: ['u'], ctrl: ['z'], action: 'undo', does: 'Undo your last annotation' },
  { group: 'Look', show: ['Enter', 'o'], keys: ['Enter', 'o'], action: 'open', does: 'Larger player with context' },
  { group: 'Look', show: ['Space'], keys: [' '], action: 'preview', does: 'Play / pause the clip (card or player)' },
  { group: 'Look', show: ['m'], keys: ['m'], action: 'similar', does: 'More like this clip' },
  { group: 'Look', show: ['c'], keys: ['c'], action: 'clipPage', does: 'Clip page: every label on the clip' },
  { group: 'Steps', show: ['/'], keys: ['/'], action: 'search', does: 'Step 1: back to the last search' },
  { group: 'Steps', show: ['b'], keys: ['b'], action: 'build', does: 'Build the model' },
  { group: 'Steps', show: ['l'], keys: ['l'], action: 'learn', does: 'Step 2: the four feeds' },
  { group: 'Steps', show: ['r'], keys: ['r'], action: 'review', does: 'Step 3: review' },
  { group: 'Steps', show: ['f', 'Shift+F'], keys: ['f'], action: 'nextTab', does: 'Next / previous feed or filter' },
  { group: 'Steps', keys: ['F'], action: 'prevTab' },
  { group: 'Steps', show: ['1 … 7'], keys: ['1', '2', '3', '4', '5', '6', '7'], action: 'tab', does: 'Feed or filter by number' },
  { group: 'App', show: ['?'], keys: ['?'], action: 'help', does: 'Show / hide this help' },
  { group: 'App', show: ['Esc'], keys: ['Escape'], action: 'escape', does: 'Close; leave a text box' },
];

const byKey = new Map();
const byCtrlKey = new Map();
for (const binding of BINDINGS) {
  for (const key of binding.keys || []) byKey.set(key, binding);
  for (const key of binding.ctrl || []) byCtrlKey.set(key, binding);
}

/** The binding a keydown event means, or null. `arg` is the digit for 'tab'. */
export function bindingFor(event) {
  if (event.altKey || event.metaKey) return null;
  const binding = event.ctrlKey ? byCtrlKey.get(event.key.toLowerCase()) : byKey.get(event.key);
  if (!binding) return null;
  return { action: binding.action, arg: binding.action === 'tab' ? Number(event.key) : undefined };
}
