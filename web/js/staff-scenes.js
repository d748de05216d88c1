// Staff scenes — /staff/scenes: admins see every scene with its state (ready, being prepared N %, failed and why),
// upload a city's model (file, id, title, units, up axis) and follow it: the upload in bytes, then the import in
// percent (a <progress> and a polite announcement at each quarter), then the report as a list (source size,
// triangles, materials, textures, validator findings, what was changed, budgets met or not), then the scene's
// preparation until it can be opened.
//
// Invariants: plain HTML controls, each labelled, usable by keyboard alone; problems in the form are listed with
// links to their fields before anything is sent; the upload uses XMLHttpRequest (fetch cannot report upload
// progress) with the session's CSRF token; every refusal is shown in words (console-common.js); nothing is polled
// unless an import or a preparation is under way; the importer's stages (English, from the server) are shown in
// the page's language when known, else as sent, marked lang="en". Scenes are named by their title (the one given
// in the form, else the catalog's), their id only when neither is known; a scene being prepared can be opened (its
// page says how the preparation goes). Announcements say the figure the bar shows, each as a sentence.

import { ApiError, errorFromResponse, getJSON } from './api.js';
import { renderList, startStaffPage } from './console-common.js';

const doc = document;
const page = await startStaffPage(doc, { focusAfterSignIn: 'import-heading' });
const { i18n, announcer, el, act } = page;
const $ = (id) => doc.getElementById(id);
const SCENE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const MODEL_SUFFIX = /\.(glb|gltf|obj|zip)$/i;
const POLL_MS = 700;
const LIST_MS = 2000;

let admin = false;
let job = null; // the import this page follows: its last known state
let spokenQuarter = -1; // the last quarter of the import announced (0..4)
let pollTimer = 0;
const titles = new Map(); // scene id -> its title in the page's language, from the scene list

const say = (key, vars) => announcer.say(i18n.t(key, vars));

/** An error in words: this page's own codes in the page's language, else as console-common.js says it. */
function showError(error) {
  const key = `imports.errors.${error?.code}`;
  if (error instanceof ApiError && i18n.has(key)) page.showError(i18n.t('console.error', { message: i18n.t(key), code: error.code }));
  else page.showError(error);
}

const number = (n) => new Intl.NumberFormat(i18n.lang).format(n);
const percent = (fraction) => new Intl.NumberFormat(i18n.lang, { style: 'percent', maximumFractionDigits: 0 }).format(fraction);

/** A byte count in the page's language and units (kB, ko, MB, Mo…). */
function size(bytes) {
  const units = [
    [1 << 30, 'gigabyte'],
    [1 << 20, 'megabyte'],
    [1 << 10, 'kilobyte'],
    [1, 'byte'],
  ];
  const [factor, unit] = units.find(([threshold]) => bytes >= threshold) ?? units[3];
  return new Intl.NumberFormat(i18n.lang, { style: 'unit', unit, maximumFractionDigits: 1 }).format(bytes / factor);
}

// --- the scenes and recent imports ------------------------------------------------------------------------------

function sceneStatus(scene) {
  if (scene.status === 'ready') return i18n.t('imports.status.ready');
  if (scene.status === 'preparing') return i18n.t('imports.status.preparing', { percent: percent(scene.progress ?? 0) });
  return i18n.t('imports.status.failed', { message: scene.message || '' });
}

/** What to call the scene an import writes: the title given in the form, else the catalog's, else its id. */
const sceneName = (current) => current.title || titles.get(current.sceneId) || current.sceneId;

function sceneRow(scene) {
  const title = i18n.pickWithLang(scene.title);
  const name = el('span', { className: 'console-name' }, title.text || scene.id);
  if (title.lang !== i18n.lang) name.lang = title.lang;
  const status = el('span', { className: `scene-status scene-status-${scene.status}` }, sceneStatus(scene));
  const row = el('li', { className: 'scene-row' }, el('p', {}, name, ' ', i18n.t('imports.sceneId', { id: scene.id }), ' ', status));
  if (scene.status === 'ready' || scene.status === 'preparing') {
    const link = el('a', { href: scene.url, className: 'button button-small button-quiet' }, i18n.t('imports.open', { title: title.text || scene.id }));
    link.dataset.key = `open:${scene.id}`;
    row.append(el('p', {}, link));
  }
  return row;
}

function jobRow(item) {
  const when = new Date(item.created * 1000).toLocaleString(i18n.lang, { dateStyle: 'medium', timeStyle: 'short' });
  const state = item.state === 'failed' ? i18n.t('imports.job.failed', { message: item.error?.message ?? '' }) : i18n.t(`imports.job.${item.state}`);
  return el('li', {}, el('p', {}, i18n.t('imports.job.line', { file: item.file, scene: item.sceneId, when, who: item.staff, size: size(item.bytes) }), ' ', el('strong', {}, state)));
}

let listTimer = 0;

/** The scenes and recent imports; asked again every LIST_MS while a scene is being prepared. */
async function loadLists() {
  clearTimeout(listTimer);
  const [{ scenes }, { jobs }] = await Promise.all([getJSON('/api/scenes'), getJSON('/api/scene-imports')]);
  for (const scene of scenes) titles.set(scene.id, i18n.pickWithLang(scene.title).text || scene.id);
  renderList($('scene-list'), scenes, sceneRow);
  $('jobs-empty').hidden = jobs.length > 0;
  renderList($('job-list'), jobs.slice(0, 10), jobRow);
  if (admin && scenes.some((scene) => scene.status === 'preparing')) listTimer = setTimeout(() => act(loadLists), LIST_MS);
  return { scenes, jobs };
}

// --- the form ---------------------------------------------------------------------------------------------------

function problems() {
  const found = [];
  const file = $('import-file').files[0] ?? null;
  if (!file) found.push(['import-file', 'imports.problem.noFile']);
  else if (!MODEL_SUFFIX.test(file.name)) found.push(['import-file', 'imports.problem.fileType']);
  else if (file.size === 0) found.push(['import-file', 'imports.problem.empty']);
  const id = $('import-id').value.trim();
  if (id && !SCENE_ID.test(id)) found.push(['import-id', 'imports.problem.id']);
  return found;
}

function showProblems(found) {
  for (const id of ['import-file', 'import-id']) $(id).removeAttribute('aria-invalid');
  $('form-problems').hidden = found.length === 0;
  $('form-problem-list').replaceChildren(
    ...found.map(([field, key]) => {
      $(field).setAttribute('aria-invalid', 'true');
      const link = el('a', { href: `#${field}` }, i18n.t(key));
      link.addEventListener('click', (event) => {
        event.preventDefault();
        $(field).focus();
      });
      return el('li', {}, link);
    }),
  );
  if (found.length) $('form-problems').focus();
}

/** Resolves to the job the server made; rejects with an ApiError. `onProgress(sent, total)` as bytes go out. */
function send(form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/scene-imports');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('X-CSRF-Token', page.session.csrf || '');
    xhr.responseType = 'text';
    xhr.upload.addEventListener('progress', (event) => onProgress(event.loaded, event.lengthComputable ? event.total : 0));
    xhr.addEventListener('error', () => reject(new ApiError('network_error', i18n.t('imports.networkError'))));
    xhr.addEventListener('load', async () => {
      const response = new Response(xhr.responseText, { status: xhr.status, statusText: xhr.statusText });
      if (xhr.status === 202) {
        try {
          resolve(JSON.parse(xhr.responseText));
        } catch {
          reject(new ApiError('bad_response', xhr.statusText, xhr.status));
        }
        return;
      }
      if (xhr.status === 401) page.session.set(null, null);
      reject(await errorFromResponse(response));
    });
    xhr.send(form);
  });
}

$('import-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if ($('import-submit').getAttribute('aria-disabled') === 'true') return;
  const found = problems();
  showProblems(found);
  if (found.length) return;
  const file = $('import-file').files[0];
  const form = new FormData();
  for (const name of ['id', 'title', 'units', 'up']) {
    const value = $(`import-${name}`).value.trim();
    if (value) form.append(name, value);
  }
  form.append('file', file, file.name); // after the fields: the server checks them before the long part
  page.clearError();
  startProgress(file.size);
  $('import-submit').setAttribute('aria-disabled', 'true');
  let lastSaid = -1;
  try {
    job = await send(form, (sent, total) => {
      const whole = total || file.size;
      $('upload-progress').value = whole ? Math.round((100 * sent) / whole) : 0;
      $('upload-text').textContent = i18n.t('imports.uploaded', { sent: size(sent), total: size(whole) });
      const quarter = whole ? Math.floor((4 * sent) / whole) : 0;
      if (quarter > lastSaid && quarter < 4) {
        lastSaid = quarter;
        if (quarter > 0) say('imports.uploadAnnounce', { percent: percent(Math.round((100 * sent) / whole) / 100) }); // as the bar
      }
    });
    $('upload-progress').value = 100;
    $('upload-text').textContent = i18n.t('imports.uploadDone', { total: size(file.size) });
    say('imports.uploadFinished');
    showJob(job);
    schedulePoll();
  } catch (error) {
    $('upload-text').textContent = i18n.t('imports.uploadFailed');
    showError(error);
    $('import-submit').removeAttribute('aria-disabled');
    $('import-file').focus();
  }
});

// --- following an import ----------------------------------------------------------------------------------------

function startProgress(bytes) {
  $('progress-section').hidden = false;
  $('upload-progress').value = 0;
  $('upload-text').textContent = i18n.t('imports.uploaded', { sent: size(0), total: size(bytes) });
  $('import-progress').value = 0;
  $('import-text').textContent = '';
  $('import-stage').textContent = '';
  $('scene-state').replaceChildren();
  $('report').hidden = true;
  spokenQuarter = 0;
  say('imports.uploadStarted');
}

/** The importer's stage in the page's language when it is one we know. */
function stageText(stage) {
  const level = /^level (\d+): ([\d,]+) triangles$/.exec(stage);
  if (level) return { text: i18n.t('imports.stage.level', { n: level[1], triangles: number(Number(level[2].replaceAll(',', ''))) }) };
  const validating = /^level (\d+): validating$/.exec(stage);
  if (validating) return { text: i18n.t('imports.stage.levelValidating', { n: validating[1] }) };
  const key = `imports.stage.${stage.replaceAll(' ', '-')}`;
  return i18n.has(key) ? { text: i18n.t(key) } : { text: stage, lang: 'en' };
}

function showJob(current) {
  const fraction = current.progress ?? 0;
  $('import-progress').value = Math.round(100 * fraction);
  $('import-text').textContent = percent(fraction);
  const stage = stageText(current.stage || '');
  const stageNode = el('span', {}, stage.text);
  if (stage.lang && stage.lang !== i18n.lang) stageNode.lang = stage.lang;
  $('import-stage').replaceChildren(i18n.t('imports.stageLabel'), ' ', stageNode);
  if (current.state === 'running' || current.state === 'queued') {
    const quarter = Math.floor(4 * fraction);
    if (quarter > spokenQuarter && quarter < 4) {
      spokenQuarter = quarter;
      if (quarter > 0) say('imports.importAnnounce', { percent: percent(Math.round(100 * fraction) / 100) }); // as the bar
    }
  }
}

function schedulePoll() {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(poll, POLL_MS);
}

async function poll() {
  if (!job || !admin) return;
  let current;
  try {
    current = await getJSON(`/api/scene-imports/${encodeURIComponent(job.id)}`);
  } catch (error) {
    showError(error);
    if (error.status === 401 || error.status === 403) return;
    schedulePoll();
    return;
  }
  const was = job.state;
  job = current;
  showJob(current);
  if (current.state === 'done' && was !== 'done') finished(current);
  if (current.state === 'failed' && was !== 'failed') failed(current);
  if (current.state === 'done') showScene(current);
  const settled = current.state === 'failed' || (current.state === 'done' && ['ready', 'failed'].includes(current.scene?.status));
  await act(loadLists);
  if (!settled) schedulePoll();
  else $('import-submit').removeAttribute('aria-disabled');
}

function finished(current) {
  spokenQuarter = 4;
  renderReport(current.report);
  $('report').hidden = false;
  if (current.report.unchanged) say('imports.unchangedAnnounce', { scene: sceneName(current) });
  else say(current.report.budgetsMet ? 'imports.doneAnnounce' : 'imports.doneOverBudgetAnnounce', { scene: sceneName(current) });
  $('report-heading').focus();
}

function failed(current) {
  // The importer's message names the problem in English (file names, figures): marked as such for screen readers.
  const [before, after] = i18n.t('imports.failed', { code: current.error?.code ?? '' }).split('{message}');
  const message = el('span', { lang: 'en' }, current.error?.message ?? '');
  $('console-error').replaceChildren(el('p', {}, before ?? '', message, after ?? ''));
  $('import-stage').replaceChildren(i18n.t('imports.failedShort'));
  $('import-submit').removeAttribute('aria-disabled');
  $('import-file').focus();
}

let lastSceneStatus = null;

function showScene(current) {
  const scene = current.scene ?? { status: 'waiting' };
  const box = $('scene-state');
  const key = `${scene.status}:${Math.round(100 * (scene.progress ?? 0))}`;
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  const open = () => el('a', { href: scene.url, className: 'button button-small' }, i18n.t('imports.openNew', { scene: sceneName(current) }));
  if (scene.status === 'ready') {
    box.replaceChildren(el('span', {}, i18n.t('imports.sceneReady')), ' ', open());
  } else if (scene.status === 'failed') {
    box.replaceChildren(i18n.t('imports.sceneFailed', { message: scene.message ?? '' }));
  } else if (scene.status === 'preparing') {
    const text = el('span', {}, i18n.t('imports.scenePreparing', { percent: percent(scene.progress ?? 0) }));
    box.replaceChildren(...(scene.url ? [text, ' ', open()] : [text]));
  } else {
    box.replaceChildren(i18n.t('imports.sceneWaiting'));
  }
  if (scene.status !== lastSceneStatus && ['ready', 'failed'].includes(scene.status)) {
    say(scene.status === 'ready' ? 'imports.sceneReadyAnnounce' : 'imports.sceneFailedAnnounce', { scene: sceneName(current) });
  }
  lastSceneStatus = scene.status;
}

function renderReport(report) {
  const items = [];
  const item = (...children) => items.push(el('li', {}, ...children));
  if (report.unchanged) {
    item(i18n.t('imports.report.unchanged'));
    $('report-list').replaceChildren(...items);
    return;
  }
  item(i18n.t('imports.report.source', { name: report.source.name, size: size(report.source.bytes) }));
  item(i18n.t('imports.report.contents', { triangles: number(report.triangles), materials: number(report.materials), textures: number(report.textures) }));
  if (report.validator) {
    const v = report.validator;
    const findings = el('ul', {}, ...v.messages.map((m) => el('li', { lang: 'en' }, `${m.code}: ${m.message}${m.pointer ? ` (${m.pointer})` : ''}`)));
    item(i18n.t('imports.report.validator', { errors: number(v.errors), warnings: number(v.warnings), infos: number(v.infos) }), ...(v.messages.length ? [findings] : []));
  } else {
    item(i18n.t('imports.report.noValidator'));
  }
  const changes = el('ul', {}, ...report.changes.map((change) => el('li', { lang: 'en' }, change)));
  item(i18n.t('imports.report.changes', { n: number(report.changes.length) }), ...(report.changes.length ? [changes] : []));
  const levels = el(
    'ul',
    {},
    ...report.levels.map((level, index) =>
      el('li', {}, i18n.t('imports.report.level', { n: index, triangles: number(level.triangles), size: size(level.bytes), error: number(level.error) })),
    ),
  );
  item(i18n.t('imports.report.levels', { n: number(report.levels.length) }), levels);
  item(i18n.t('imports.report.walkable', { cell: number(report.walkable.cell), size: size(report.walkable.bytes) }));
  const budgets = el(
    'ul',
    {},
    ...report.budgets.map((budget) =>
      el(
        'li',
        { className: budget.met ? 'budget-met' : 'budget-missed' },
        el('strong', {}, i18n.t(budget.met ? 'imports.report.met' : 'imports.report.notMet')),
        ' ',
        el('span', { lang: 'en' }, `${budget.name}: ${budget.figure}`),
      ),
    ),
  );
  item(i18n.t(report.budgetsMet ? 'imports.report.budgetsMet' : 'imports.report.budgetsNotMet'), budgets);
  item(i18n.t('imports.report.time', { seconds: number(report.seconds) }));
  $('report-list').replaceChildren(...items);
}

// --- start ------------------------------------------------------------------------------------------------------

page.session.onChange(async (user) => {
  admin = Boolean(user && user.role === 'admin');
  for (const id of ['import-section', 'scenes-section']) $(id).hidden = !admin;
  $('not-admin').hidden = !user || admin;
  // Signed in by the dialog without the admin role: the note saying why nothing is here takes focus (read out),
  // once the dialog has closed (its own focus goes to the import form, hidden for this user).
  const dialog = user && !admin ? doc.querySelector('dialog[open]') : null;
  if (dialog) dialog.addEventListener('close', () => $('not-admin').focus(), { once: true });
  if (!admin) {
    clearTimeout(pollTimer);
    clearTimeout(listTimer);
    $('progress-section').hidden = true;
    return;
  }
  page.clearError();
  const lists = await act(loadLists);
  const running = lists?.jobs.find((item) => item.state === 'queued' || item.state === 'running');
  if (!job && running) follow(running); // an import still under way (this page was reloaded meanwhile)
  if (job) schedulePoll();
});

/** Follows an import whose upload ended before this page was opened. */
function follow(current) {
  job = current;
  $('progress-section').hidden = false;
  $('upload-progress').value = 100;
  $('upload-text').textContent = i18n.t('imports.uploadDone', { total: size(current.bytes) });
  spokenQuarter = Math.floor(4 * (current.progress ?? 0));
  showJob(current);
  $('import-submit').setAttribute('aria-disabled', 'true');
}

await page.restore();
doc.body.dataset.state = 'ready';
window.civicSpace = { announcer };
