// Staff events — /staff/events: hosts and admins list public meetings, create one, edit it (titles and
// descriptions in four languages, scene and zone from the catalog, times in the meeting's own time zone,
// capacity, an ordered agenda with document links, duties), add and delete its slides (each with a required
// text alternative) and delete a meeting. Pure rules live in staff-events-form.js.
//
// Invariants: the form is plain HTML controls, every one labelled; agenda items move by buttons (keyboard),
// and focus follows the moved item; problems are listed with links to their fields before anything is sent;
// an edit made against an old version is never lost silently: the conflict says so and offers to load the
// other version or to save this one over it; a delete names the version it deletes.

import { getJSON } from './api.js';
import { button, startStaffPage } from './console-common.js';
import {
  DUTIES,
  LANGS,
  addItem,
  emptyItem,
  eventToForm,
  formToBody,
  moveItem,
  removeItem,
  slideAlt,
  slideFileProblem,
} from './staff-events-form.js';

const doc = document;
const page = await startStaffPage(doc);
const { i18n, announcer, write, act, el } = page;
const $ = (id) => doc.getElementById(id);
const HOST_ROLES = ['host', 'admin'];

let scenes = [];
const zonesOf = new Map(); // scene id → [{id, name}]
let editing = null; // {id, version, slides} of the event in the form; {id: null} for a new one
let agenda = [];
let pendingBody = null; // the body a conflict stopped

const say = (key, vars) => announcer.say(i18n.t(key, vars));

// --- list ------------------------------------------------------------------------------------------------------

async function loadList() {
  const { events } = await getJSON('/api/events?when=all');
  const list = $('event-list');
  $('events-empty').hidden = events.length > 0;
  list.replaceChildren(...events.map(eventRow));
}

function when(event) {
  const options = { timeZone: event.timezone, dateStyle: 'full', timeStyle: 'short' };
  try {
    return `${new Intl.DateTimeFormat(i18n.lang, options).format(new Date(event.startsAt * 1000))} (${event.timezone})`;
  } catch {
    return new Date(event.startsAt * 1000).toISOString();
  }
}

function eventRow(event) {
  const title = i18n.pickWithLang(event.title);
  const heading = el('h3', { className: 'event-row-title' }, title.text || `#${event.id}`);
  if (title.lang !== i18n.lang) heading.lang = title.lang;
  const links = el(
    'p',
    { className: 'console-actions' },
    button(doc, i18n.t('console.events.edit'), `edit:${event.id}`, () => openEditor(event.id)),
    el('a', { href: `/events/${event.id}/console`, className: 'button button-small button-quiet' }, i18n.t('console.chair.link')),
    el('a', { href: `/events/${event.id}/captioner`, className: 'button button-small button-quiet' }, i18n.t('console.captioner.link')),
    el('a', { href: event.url || `/events/${event.id}`, className: 'button button-small button-quiet' }, i18n.t('console.publicPage')),
    button(doc, i18n.t('console.events.delete'), `delete:${event.id}`, () => deleteEvent(event), 'button button-small button-danger'),
  );
  return el(
    'li',
    { className: 'event-row' },
    heading,
    el('p', { className: 'console-note' }, i18n.t('console.events.meta', { state: i18n.t(`console.stateName.${event.state}`), when: when(event) })),
    links,
  );
}

async function deleteEvent(summary) {
  const title = i18n.pick(summary.title);
  const current = await act(() => getJSON(`/api/events/${summary.id}`));
  if (!current) return;
  if (!confirm(i18n.t('console.events.confirmDelete', { title, version: current.version }))) return;
  try {
    await write(`/api/events/${summary.id}?version=${current.version}`, { method: 'DELETE' });
    page.clearError();
    if (editing?.id === summary.id) closeEditor(false);
    say('console.events.deleted', { title });
    await loadList();
    $('events-heading').focus();
  } catch (error) {
    if (error.status === 409) page.showError(i18n.t('console.events.deleteConflict', { title }));
    else page.showError(error);
    await loadList().catch(() => {});
  }
}

// --- catalog ----------------------------------------------------------------------------------------------------

async function loadScenes() {
  const index = await getJSON('/api/scenes');
  scenes = index.scenes ?? [];
  $('scene').replaceChildren(...scenes.map((scene) => el('option', { value: scene.id }, i18n.pick(scene.title) || scene.id)));
}

async function fillZones(sceneId, chosen = '') {
  const select = $('zone');
  if (!zonesOf.has(sceneId)) {
    const scene = await getJSON(`/api/scenes/${encodeURIComponent(sceneId)}`);
    zonesOf.set(sceneId, (scene.zones ?? []).map((zone) => ({ id: zone.id, name: i18n.pick(zone.name) || zone.id })));
  }
  const zones = zonesOf.get(sceneId);
  select.replaceChildren(el('option', { value: '' }, i18n.t('console.form.noZone')), ...zones.map((zone) => el('option', { value: zone.id }, zone.name)));
  select.value = zones.some((zone) => zone.id === chosen) ? chosen : '';
}

$('scene').addEventListener('change', () => act(() => fillZones($('scene').value)));

function fillTimeZones() {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  $('timezones').replaceChildren(...zones.map((zone) => el('option', { value: zone })));
}

// --- agenda -----------------------------------------------------------------------------------------------------

function itemField(index, kind, lang) {
  return $(`item-${index}-${kind}-${lang}`);
}

/** The agenda as the form holds it now (read before any change, so nothing typed is lost). */
function readAgenda() {
  agenda = agenda.map((item, index) => ({
    ...item,
    title: Object.fromEntries(LANGS.map((lang) => [lang, itemField(index, 'title', lang)?.value ?? ''])),
    description: Object.fromEntries(LANGS.map((lang) => [lang, itemField(index, 'description', lang)?.value ?? ''])),
    documents: (item.documents ?? []).map((_, d) => ({
      title: $(`item-${index}-doc-${d}-title`)?.value ?? '',
      url: $(`item-${index}-doc-${d}-url`)?.value ?? '',
    })),
  }));
  return agenda;
}

function languageInputs(index, kind, item, multiline) {
  const fieldset = el('fieldset', { className: 'console-fieldset' }, el('legend', {}, i18n.t(`console.form.item.${kind}`)));
  for (const lang of LANGS) {
    const id = `item-${index}-${kind}-${lang}`;
    const input = multiline
      ? el('textarea', { id, className: 'text-input', rows: 2, maxLength: 4000, value: item[kind]?.[lang] ?? '' })
      : el('input', { id, className: 'text-input', type: 'text', maxLength: 200, value: item[kind]?.[lang] ?? '' });
    input.lang = lang;
    const label = el('label', { htmlFor: id }, el('span', { lang }, languageName(lang)));
    fieldset.append(el('p', { className: 'form-field' }, label, input));
  }
  return fieldset;
}

function languageName(lang) {
  return $(`title-${lang}`).labels[0].textContent.trim();
}

function renderAgenda(focusKey = null) {
  const list = $('agenda-items');
  $('agenda-empty').hidden = agenda.length > 0;
  list.replaceChildren(
    ...agenda.map((item, index) => {
      const n = index + 1;
      const documents = el('ul', { className: 'console-list' });
      (item.documents ?? []).forEach((document_, d) => {
        const titleId = `item-${index}-doc-${d}-title`;
        const urlId = `item-${index}-doc-${d}-url`;
        documents.append(
          el(
            'li',
            { className: 'document-row' },
            el('p', { className: 'form-field' }, el('label', { htmlFor: titleId }, i18n.t('console.form.docTitle', { n: d + 1 })), el('input', { id: titleId, className: 'text-input', type: 'text', maxLength: 200, value: document_.title ?? '' })),
            el('p', { className: 'form-field' }, el('label', { htmlFor: urlId }, i18n.t('console.form.docUrl', { n: d + 1 })), el('input', { id: urlId, className: 'text-input', type: 'url', maxLength: 500, value: document_.url ?? '', placeholder: 'https://' })),
            el('p', {}, button(doc, i18n.t('console.form.removeDoc', { n: d + 1, item: n }), `doc-remove:${index}:${d}`, () => changeAgenda(() => {
              agenda[index].documents.splice(d, 1);
              return `doc-add:${index}`;
            }), 'button button-small button-quiet')),
          ),
        );
      });
      return el(
        'li',
        { className: 'agenda-item' },
        el(
          'fieldset',
          { className: 'console-fieldset' },
          el('legend', {}, i18n.t('console.form.itemLegend', { n, count: agenda.length })),
          languageInputs(index, 'title', item, false),
          languageInputs(index, 'description', item, true),
          el('fieldset', { className: 'console-fieldset' }, el('legend', {}, i18n.t('console.form.documents')), documents,
            el('p', {}, button(doc, i18n.t('console.form.addDoc', { n }), `doc-add:${index}`, () => changeAgenda(() => {
              agenda[index].documents = [...(agenda[index].documents ?? []), { title: '', url: '' }];
              return `#item-${index}-doc-${agenda[index].documents.length - 1}-title`;
            })))),
          el(
            'p',
            { className: 'console-actions' },
            button(doc, i18n.t('console.form.moveUp', { n }), `up:${index}`, () => move(index, -1)),
            button(doc, i18n.t('console.form.moveDown', { n }), `down:${index}`, () => move(index, 1)),
            button(doc, i18n.t('console.form.removeItem', { n }), `remove:${index}`, () => remove(index), 'button button-small button-danger'),
          ),
        ),
      );
    }),
  );
  for (const node of list.querySelectorAll('[data-key^="up:"], [data-key^="down:"]')) {
    const [kind, at] = node.dataset.key.split(':');
    const edge = kind === 'up' ? Number(at) === 0 : Number(at) === agenda.length - 1;
    node.setAttribute('aria-disabled', String(edge));
  }
  if (focusKey) {
    const target = focusKey.startsWith('#') ? doc.querySelector(focusKey) : list.querySelector(`[data-key="${focusKey}"]`);
    (target || $('add-item')).focus();
  }
}

function changeAgenda(change) {
  readAgenda();
  renderAgenda(change());
}

function move(index, delta) {
  readAgenda();
  const [next, at] = moveItem(agenda, index, delta);
  if (at === index) {
    say(delta < 0 ? 'console.form.atTop' : 'console.form.atBottom', { n: index + 1 });
    return;
  }
  agenda = next;
  renderAgenda(`${delta < 0 ? 'up' : 'down'}:${at}`);
  say('console.form.moved', { from: index + 1, to: at + 1 });
}

function remove(index) {
  readAgenda();
  const [next, focus] = removeItem(agenda, index);
  agenda = next;
  renderAgenda(focus >= 0 ? `remove:${focus}` : null);
  if (focus < 0) $('add-item').focus();
  say('console.form.removed', { n: index + 1 });
}

$('add-item').addEventListener('click', () => {
  readAgenda();
  const [next, at] = addItem(agenda, -1, emptyItem());
  if (at < 0) return say('console.form.tooManyItems');
  agenda = next;
  renderAgenda(`#item-${at}-title-${i18n.lang}`);
  say('console.form.added', { n: at + 1 });
});

// --- the form ---------------------------------------------------------------------------------------------------

function readForm() {
  return {
    title: Object.fromEntries(LANGS.map((lang) => [lang, $(`title-${lang}`).value])),
    description: Object.fromEntries(LANGS.map((lang) => [lang, $(`description-${lang}`).value])),
    scene: $('scene').value,
    zone: $('zone').value,
    start: $('start').value,
    end: $('end').value,
    timezone: $('timezone').value.trim(),
    capacity: $('capacity').value,
    agenda: readAgenda(),
    staff: Object.fromEntries(DUTIES.map((duty) => [duty, $(`duty-${duty}`).value])),
  };
}

async function fillForm(values) {
  for (const lang of LANGS) {
    $(`title-${lang}`).value = values.title[lang] ?? '';
    $(`description-${lang}`).value = values.description[lang] ?? '';
  }
  $('scene').value = values.scene || scenes[0]?.id || '';
  await fillZones($('scene').value, values.zone);
  $('start').value = values.start;
  $('end').value = values.end;
  $('timezone').value = values.timezone;
  $('capacity').value = String(values.capacity);
  for (const duty of DUTIES) $(`duty-${duty}`).value = values.staff[duty] ?? '';
  agenda = values.agenda.map((item) => ({ ...item, documents: [...(item.documents ?? [])] }));
  renderAgenda();
}

function fieldId(field) {
  const parts = field.split('.');
  if (parts[0] === 'title' || parts[0] === 'description') return `${parts[0]}-${parts[1]}`;
  if (parts[0] === 'staff') return `duty-${parts[1]}`;
  if (parts[0] === 'agenda') {
    if (parts[2] === 'documents') return parts.length > 4 ? `item-${parts[1]}-doc-${parts[3]}-${parts[4]}` : `item-${parts[1]}-title-en`;
    return `item-${parts[1]}-${parts[2]}-${parts[3] ?? 'en'}`;
  }
  return parts[0];
}

function showProblems(problems) {
  for (const node of doc.querySelectorAll('#event-form [aria-invalid]')) node.removeAttribute('aria-invalid');
  const box = $('form-problems');
  box.hidden = problems.length === 0;
  $('form-problem-list').replaceChildren(
    ...problems.map((problem) => {
      const id = fieldId(problem.field);
      $(id)?.setAttribute('aria-invalid', 'true');
      const link = el('a', { href: `#${id}` }, i18n.t(problem.key, problem));
      link.addEventListener('click', (event) => {
        event.preventDefault();
        $(id)?.focus();
      });
      return el('li', {}, link);
    }),
  );
  if (problems.length) box.focus();
}

async function openEditor(eventId = null) {
  page.clearError();
  showProblems([]);
  $('form-conflict').hidden = true;
  if (eventId == null) {
    editing = { id: null, version: null, slides: [] };
    const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    await fillForm({ title: {}, description: {}, scene: scenes[0]?.id ?? '', zone: '', start: '', end: '', timezone, capacity: 100, agenda: [], staff: {} });
    $('editor-heading').textContent = i18n.t('console.events.newHeading');
  } else {
    const view = await act(() => getJSON(`/api/events/${eventId}/staff-view`));
    if (!view) return;
    await loadEvent(view);
  }
  $('editor-section').hidden = false;
  $('editor-heading').focus();
}

async function loadEvent(view) {
  editing = { id: view.id, version: view.version, slides: view.slides ?? [] };
  await fillForm(eventToForm(view));
  $('editor-heading').textContent = i18n.t('console.events.editHeading', { title: i18n.pick(view.title) });
  renderSlides();
}

function closeEditor(focusList = true) {
  editing = null;
  $('editor-section').hidden = true;
  $('slides-editor').hidden = true;
  if (focusList) $('events-heading').focus();
}

$('new-event').addEventListener('click', () => openEditor(null));
$('cancel-edit').addEventListener('click', () => closeEditor());

$('event-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const { body, problems } = formToBody(readForm(), editing.id == null ? null : editing.version);
  showProblems(problems);
  if (problems.length) return;
  await save(body);
});

async function save(body) {
  const creating = editing.id == null;
  try {
    const saved = await write(creating ? '/api/events' : `/api/events/${editing.id}`, { method: creating ? 'POST' : 'PATCH', body });
    page.clearError();
    $('form-conflict').hidden = true;
    editing = { id: saved.id, version: saved.version, slides: saved.slides ?? editing.slides };
    $('editor-heading').textContent = i18n.t('console.events.editHeading', { title: i18n.pick(saved.title) });
    renderSlides();
    say(creating ? 'console.events.created' : 'console.events.saved', { title: i18n.pick(saved.title) });
    await loadList();
  } catch (error) {
    if (error.status === 409 && error.code === 'version_conflict') return showConflict(body);
    page.showError(error);
  }
}

async function showConflict(body) {
  pendingBody = body;
  const view = await act(() => getJSON(`/api/events/${editing.id}/staff-view`));
  if (!view) return;
  pendingBody.theirs = view;
  $('conflict-text').textContent = i18n.t('console.form.conflictText', { version: view.version });
  $('form-conflict').hidden = false;
  $('conflict-theirs').focus();
}

$('conflict-theirs').addEventListener('click', async () => {
  const theirs = pendingBody?.theirs;
  $('form-conflict').hidden = true;
  if (theirs) await loadEvent(theirs);
  pendingBody = null;
  say('console.form.loadedTheirs');
  $('editor-heading').focus();
});
$('conflict-mine').addEventListener('click', async () => {
  if (!pendingBody) return;
  const { theirs, ...body } = pendingBody;
  pendingBody = null;
  $('form-conflict').hidden = true;
  editing.version = theirs.version;
  await save({ ...body, version: theirs.version });
});

// --- slides -----------------------------------------------------------------------------------------------------

function renderSlides() {
  const section = $('slides-editor');
  section.hidden = editing?.id == null;
  if (section.hidden) return;
  const slides = editing.slides;
  $('slides-empty').hidden = slides.length > 0;
  $('slides-editor-list').replaceChildren(
    ...slides.map((slide, index) => {
      const alt = i18n.pickWithLang(slide.alt);
      const img = el('img', { src: slide.url, alt: alt.text, width: 160, height: Math.round((160 * slide.height) / Math.max(1, slide.width)), loading: 'lazy' });
      if (alt.lang !== i18n.lang) img.lang = alt.lang;
      const text = el('span', {}, alt.text);
      if (alt.lang !== i18n.lang) text.lang = alt.lang;
      return el(
        'li',
        { className: 'slide-row' },
        img,
        el('span', {}, `${i18n.t('console.slides.number', { n: index + 1 })}: `, text),
        button(doc, i18n.t('console.slides.delete', { n: index + 1 }), `slide-delete:${slide.id}`, () => deleteSlide(slide, index), 'button button-small button-danger'),
      );
    }),
  );
}

async function refreshSlides() {
  const view = await getJSON(`/api/events/${editing.id}`);
  editing.slides = view.slides ?? [];
  editing.version = view.version;
  renderSlides();
}

async function deleteSlide(slide, index) {
  if (!confirm(i18n.t('console.slides.confirmDelete', { n: index + 1 }))) return;
  const done = await act(() => write(`/api/events/${editing.id}/slides/${slide.id}`, { method: 'DELETE' }), i18n.t('console.slides.deleted', { n: index + 1 }));
  if (done) await act(refreshSlides);
  $('slide-file').focus();
}

$('slide-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = $('slide-error');
  const file = $('slide-file').files[0] ?? null;
  const alt = slideAlt(Object.fromEntries(LANGS.map((lang) => [lang, $(`slide-alt-${lang}`).value])));
  const problem = slideFileProblem(file) || (alt ? null : 'console.slides.altMissing');
  error.textContent = problem ? i18n.t(problem) : '';
  $('slide-file').toggleAttribute('aria-invalid', problem != null && problem !== 'console.slides.altMissing');
  if (problem) {
    (problem === 'console.slides.altMissing' ? $(`slide-alt-${i18n.lang}`) : $('slide-file')).focus();
    return;
  }
  const form = new FormData();
  form.append('image', file, file.name);
  form.append('alt', JSON.stringify(alt));
  try {
    await write(`/api/events/${editing.id}/slides`, { body: form });
    error.textContent = '';
    $('slide-form').reset();
    say('console.slides.uploaded');
    await refreshSlides();
    $('slide-file').focus();
  } catch (failure) {
    error.textContent = page.describe(failure);
  }
});

// --- start ------------------------------------------------------------------------------------------------------

page.session.onChange(async (user) => {
  const host = Boolean(user && HOST_ROLES.includes(user.role));
  $('events-section').hidden = !host;
  if (!host) {
    closeEditor(false);
    if (user) page.showError(i18n.t('console.events.needHost'));
    return;
  }
  page.clearError();
  await act(() => Promise.all([loadList(), scenes.length ? null : loadScenes()]));
});

fillTimeZones();
await page.restore();
doc.body.dataset.state = 'ready';
window.civicSpace = { announcer };
