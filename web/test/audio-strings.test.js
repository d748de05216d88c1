// Every stage-audio string the pages use exists in the four languages, with the same placeholders.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const web = new URL('../', import.meta.url);
const read = (path) => readFileSync(new URL(path, web), 'utf8');
const SOURCES = ['js/audio-controls.js', 'js/event-wall.js', 'console.html', 'event.html'];
// Keys built from a value at run time: prefix -> the values it takes.
const DYNAMIC = {
  'audio.state.': ['idle', 'connecting', 'live', 'blocked', 'reconnecting', 'ended', 'banned', 'removed', 'not_found', 'version', 'unsupported'],
  'audio.speaker.': ['chair', 'host', 'floor'],
  'audio.announce.': ['chair', 'host'],
  'audio.wall.': ['chair', 'host'],
  'audio.micError.': ['denied', 'unsupported', 'not_allowed', 'failed'],
  'audio.cutoff.': ['floor_taken', 'floor_expired', 'not_live', 'not_allowed'],
};

function usedKeys() {
  const used = new Set();
  for (const source of SOURCES) {
    for (const match of read(source).matchAll(/['"`](audio\.[A-Za-z]+(?:\.[A-Za-z_]+)*)['"`]/g)) used.add(match[1]);
  }
  for (const [prefix, values] of Object.entries(DYNAMIC)) for (const value of values) used.add(prefix + value);
  return used;
}

const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('every audio string a page uses is in English', () => {
  const english = JSON.parse(read('locales/en.json'));
  const used = usedKeys();
  assert.ok(used.size > 40, `${used.size} keys found: the scan is broken`);
  assert.deepEqual([...used].filter((key) => !(key in english)), []);
});

for (const lang of ['fr', 'es', 'nl']) {
  test(`every audio string is translated in ${lang} with the same placeholders`, () => {
    const english = JSON.parse(read('locales/en.json'));
    const other = JSON.parse(read(`locales/${lang}.json`));
    for (const [key, text] of Object.entries(english)) {
      if (!key.startsWith('audio.')) continue;
      assert.ok(other[key]?.trim(), `${lang}: ${key} missing`);
      assert.deepEqual(placeholders(other[key]), placeholders(text), `${lang}: ${key}`);
    }
  });
}
