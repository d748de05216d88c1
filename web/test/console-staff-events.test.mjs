// The staff events form's pure rules (web/js/staff-events-form.js): the agenda moves by whole steps with its
// focus, times are read in the event's own time zone (DST included), and the form becomes the API's body with
// each problem named by field before anything is sent.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  addItem,
  epochToZoned,
  eventToForm,
  formToBody,
  moveItem,
  parseUsernames,
  removeItem,
  slideAlt,
  slideFileProblem,
  zonedToEpoch,
} from '../js/staff-events-form.js';

const items = ['a', 'b', 'c'];

test('agenda items move up and down by one, and not past either end', () => {
  assert.deepEqual(moveItem(items, 0, 1), [['b', 'a', 'c'], 1]);
  assert.deepEqual(moveItem(items, 2, -1), [['a', 'c', 'b'], 1]);
  assert.deepEqual(moveItem(items, 0, -1), [items, 0]);
  assert.deepEqual(moveItem(items, 2, 1), [items, 2]);
  assert.deepEqual(items, ['a', 'b', 'c']); // never mutated
});

test('an item is added after the given one or at the end; removing keeps focus on a neighbour', () => {
  assert.deepEqual(addItem(items, 0, 'x'), [['a', 'x', 'b', 'c'], 1]);
  assert.deepEqual(addItem(items, -1, 'x'), [['a', 'b', 'c', 'x'], 3]);
  assert.deepEqual(removeItem(items, 2), [['a', 'b'], 1]);
  assert.deepEqual(removeItem(items, 0), [['b', 'c'], 0]);
  assert.deepEqual(removeItem(['a'], 0), [[], -1]);
});

test("a wall-clock time is read in the event's zone, whatever zone this computer is in", () => {
  assert.equal(zonedToEpoch('2026-06-01T19:00', 'Europe/Amsterdam'), Date.UTC(2026, 5, 1, 17) / 1000);
  assert.equal(zonedToEpoch('2026-01-15T19:00', 'Europe/Amsterdam'), Date.UTC(2026, 0, 15, 18) / 1000);
  assert.equal(zonedToEpoch('2026-06-01T19:00', 'America/New_York'), Date.UTC(2026, 5, 1, 23) / 1000);
  assert.equal(zonedToEpoch('2026-06-01T19:00', 'Asia/Kolkata'), Date.UTC(2026, 5, 1, 13, 30) / 1000);
  assert.equal(epochToZoned(Date.UTC(2026, 5, 1, 17) / 1000, 'Europe/Amsterdam'), '2026-06-01T19:00');
});

test('around a DST change: a skipped time moves past the jump, a repeated one is its first', () => {
  assert.equal(zonedToEpoch('2026-03-29T02:30', 'Europe/Amsterdam'), Date.UTC(2026, 2, 29, 1, 30) / 1000);
  assert.equal(zonedToEpoch('2026-10-25T02:30', 'Europe/Amsterdam'), Date.UTC(2026, 9, 25, 0, 30) / 1000);
});

test('unparseable times and unknown zones are null, not a guess', () => {
  assert.equal(zonedToEpoch('2026-06-01 19:00', 'UTC'), null);
  assert.equal(zonedToEpoch('2026-13-01T19:00', 'UTC'), null);
  assert.equal(zonedToEpoch('2026-06-01T19:00', 'Mars/Olympus'), null);
  assert.equal(epochToZoned(0, 'Mars/Olympus'), '');
});

test('usernames are split on commas and spaces, duplicates dropped, bad ones named', () => {
  assert.deepEqual(parseUsernames(' carla, mo  cap;carla '), { names: ['carla', 'mo', 'cap'], invalid: [] });
  assert.deepEqual(parseUsernames('ok <b>'), { names: ['ok'], invalid: ['<b>'] });
});

const good = {
  title: { en: ' Council ', fr: 'Conseil', nl: '', es: '   ' },
  description: { en: 'Monthly.' },
  scene: 'town-hall',
  zone: 'chamber',
  start: '2026-06-01T19:00',
  end: '2026-06-01T21:00',
  timezone: 'Europe/Amsterdam',
  capacity: '80',
  agenda: [
    { title: { en: 'Opening' }, description: {}, documents: [{ title: '', url: '' }] },
    { title: { nl: 'Begroting' }, description: { nl: 'Cijfers' }, documents: [{ title: 'Budget', url: 'https://example.org/b.pdf' }] },
  ],
  staff: { chair: 'carla', moderator: 'mo, carla', captioner: '' },
};

test('a good form becomes the API body: trimmed texts, empty languages and empty document rows left out, epoch times', () => {
  const { body, problems } = formToBody(good);
  assert.deepEqual(problems, []);
  assert.deepEqual(body, {
    title: { en: 'Council', fr: 'Conseil' },
    description: { en: 'Monthly.' },
    scene: 'town-hall',
    zone: 'chamber',
    startsAt: Date.UTC(2026, 5, 1, 17) / 1000,
    endsAt: Date.UTC(2026, 5, 1, 19) / 1000,
    timezone: 'Europe/Amsterdam',
    capacity: 80,
    agenda: [
      { title: { en: 'Opening' }, description: {}, documents: [] },
      { title: { nl: 'Begroting' }, description: { nl: 'Cijfers' }, documents: [{ title: 'Budget', url: 'https://example.org/b.pdf' }] },
    ],
    staff: { chair: ['carla'], moderator: ['mo', 'carla'], captioner: [] },
  });
  assert.equal(formToBody(good, 4).body.version, 4);
  assert.equal(formToBody({ ...good, end: '' }).body.endsAt, null);
  // An empty capacity is left out (the API's default, or unchanged); an imported 0 shows as empty.
  assert.equal('capacity' in formToBody({ ...good, capacity: ' ' }).body, false);
  assert.equal(eventToForm({ ...formToBody(good).body, capacity: 0 }).capacity, '');
});

test('every problem is named by its field before anything is sent', () => {
  const { problems } = formToBody({
    ...good,
    title: {},
    scene: '',
    timezone: 'Nowhere/Else',
    capacity: '0',
    agenda: [{ title: {}, documents: [{ title: 'x', url: 'javascript:alert(1)' }] }],
    staff: { chair: 'bad name!' },
  });
  const fields = problems.map((p) => p.field);
  for (const field of ['title.en', 'scene', 'timezone', 'start', 'end', 'capacity', 'agenda.0.title.en', 'agenda.0.documents.0.url', 'staff.chair']) {
    assert.ok(fields.includes(field), field);
  }
  const late = formToBody({ ...good, end: '2026-06-01T18:00' }).problems;
  assert.deepEqual(late.map((p) => p.key), ['console.form.endBeforeStart']);
});

test('an event from the API fills the form back, in its own zone', () => {
  const { body } = formToBody(good);
  const form = eventToForm({ ...body, version: 2 });
  assert.equal(form.start, '2026-06-01T19:00');
  assert.equal(form.end, '2026-06-01T21:00');
  assert.equal(form.staff.moderator, 'mo, carla');
  assert.deepEqual(formToBody(form).body, body);
});

test('a slide needs a text alternative and an image of an accepted type and size', () => {
  assert.equal(slideAlt({ en: '  ', fr: '' }), null);
  assert.deepEqual(slideAlt({ en: ' Map of the park ', nl: '' }), { en: 'Map of the park' });
  assert.equal(slideFileProblem(null), 'console.slides.noFile');
  assert.equal(slideFileProblem({ type: 'image/gif', size: 10 }), 'console.slides.badType');
  assert.equal(slideFileProblem({ type: 'image/png', size: 9 * 1024 * 1024 }), 'console.slides.tooBig');
  assert.equal(slideFileProblem({ type: 'image/webp', size: 1000 }), null);
});
