// Caption console — /events/{id}/captioner: a captioner types live; Enter sends the line
// (POST /api/events/{id}/captions) and the lines sent (with the meeting's other captions, from the live
// stream) are listed newest first with their times.
//
// Invariants: the keyboard alone does everything (Enter sends, Shift+Enter is refused as a line break since
// a caption is one line); a line leaves the field only once the server has it — what was typed meanwhile
// stays — and on failure nothing typed is lost and the reason is shown in words; one send at a time.

import { captionText, CAPTION_MAX, emptyModel, reduce } from './console-state.js';
import { renderList, startStaffPage, timeOfDay } from './console-common.js';

const doc = document;
const eventId = doc.body.dataset.eventId;
const page = await startStaffPage(doc, { focusAfterSignIn: 'caption-text' });
const { i18n, announcer, write, el } = page;
const $ = (id) => doc.getElementById(id);
const base = `/api/events/${eventId}`;
const field = $('caption-text');
const error = $('caption-error');
let model = emptyModel();
let source = null;
let busy = false;

function render() {
  const lines = [...model.captions].reverse();
  $('sent-empty').hidden = lines.length > 0;
  renderList($('sent-list'), lines, (line) =>
    el('li', { className: 'caption-line' }, el('span', { className: 'caption-time' }, timeOfDay(line.at, i18n.lang)), ' ', el('span', {}, line.text)),
  );
}

function count() {
  const length = field.value.trim().length;
  $('caption-count').textContent = i18n.t('console.captioner.count', { n: length, max: CAPTION_MAX });
}

function showProblem(message) {
  error.textContent = message || '';
  if (message) field.setAttribute('aria-invalid', 'true');
  else field.removeAttribute('aria-invalid');
}

async function send() {
  if (busy) return;
  const raw = field.value;
  const checked = captionText(raw);
  if (checked.error) {
    showProblem(i18n.t(checked.error, { max: CAPTION_MAX }));
    return;
  }
  busy = true;
  $('caption-send').setAttribute('aria-disabled', 'true');
  try {
    const line = await write(`${base}/captions`, { body: { text: checked.text } });
    model = reduce(model, 'caption', line);
    // The line leaves the field; whatever was typed while it was on its way stays.
    field.value = field.value.startsWith(raw) ? field.value.slice(raw.length).trimStart() : field.value;
    showProblem(null);
    announcer.say(i18n.t('console.captioner.done'));
    render();
  } catch (failure) {
    showProblem(i18n.t('console.captioner.failed', { reason: page.describe(failure) }));
  } finally {
    busy = false;
    $('caption-send').removeAttribute('aria-disabled');
    count();
  }
}

field.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.isComposing) {
    event.preventDefault();
    if (!event.shiftKey) send();
  }
});
field.addEventListener('input', count);
$('caption-form').addEventListener('submit', (event) => {
  event.preventDefault();
  send();
  field.focus();
});

function connect() {
  source?.close();
  source = new EventSource(`${base}/live`);
  source.addEventListener('caption', (message) => {
    try {
      model = reduce(model, 'caption', JSON.parse(message.data));
      render();
    } catch {
      // an unreadable line is skipped; the next snapshot has it
    }
  });
  source.addEventListener('deleted', () => {
    source?.close(); // the meeting was deleted: reconnecting would only find it gone
    source = null;
    $('live-status').textContent = i18n.t('console.live.deleted');
    showProblem(i18n.t('console.live.deleted'));
  });
  source.addEventListener('open', () => ($('live-status').textContent = i18n.t('console.live.connected')));
  source.addEventListener('error', () => {
    const closed = source && source.readyState === EventSource.CLOSED;
    $('live-status').textContent = i18n.t(closed ? 'console.live.closed' : 'console.live.reconnecting');
  });
}

page.session.onChange((user) => {
  $('caption-form').hidden = !user;
  if (user) connect();
  else {
    source?.close();
    source = null;
  }
});
$('caption-form').hidden = true;
count();
render();
await page.restore();
doc.body.dataset.state = 'ready';
window.civicSpace = { announcer };
