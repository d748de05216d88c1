// The proposal line of a hotspot in the list (web/js/hotspot-view.js `proposalLineParts`): the same words as the
// server's template (web/scene.html) in the page's language, the live status and support count as facts, a
// fallback-language title marked with its language, the "may be out of date" note only when stale.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { proposalLineParts } from '../js/hotspot-view.js';

const t = (key) => ({ 'proposal.label': 'Proposition', 'proposal.status': 'Statut', 'proposal.supports': 'Soutiens',
  'proposal.stale': '— peut-être plus à jour', 'proposal.status.accepted': 'Acceptée' })[key] ?? `«${key}»`;
const text = (parts) => parts.map((part) => (typeof part === 'string' ? part : part.text)).join('');
const fact = (parts, name) => parts.find((part) => part.fact === name);

test('a local proposal reads like the server line: title, status and supports in the page language', () => {
  const parts = proposalLineParts({ title: { en: 'Trees', fr: 'Arbres' }, status: 'accepted', supports: 3 }, 'fr', t);
  assert.equal(text(parts), 'Proposition: Arbres · Statut: Acceptée · Soutiens: 3');
  assert.deepEqual(fact(parts, 'status'), { text: 'Acceptée', lang: 'fr', fact: 'status' });
  assert.deepEqual(fact(parts, 'supports'), { text: '3', lang: 'fr', fact: 'supports' });
});

test('a title missing in the page language comes in English, marked as such', () => {
  const parts = proposalLineParts({ title: { en: 'Trees' }, status: 'open', supports: 0 }, 'fr', t);
  assert.deepEqual(parts[1], { text: 'Trees', lang: 'en' });
  assert.equal(fact(parts, 'supports').text, '0');
});

test('an unknown count leaves the supports out; a stale value says it may be out of date', () => {
  const parts = proposalLineParts({ title: { en: 'Bench' }, status: null, statusLabel: { en: 'In review' }, supports: null, stale: true }, 'fr', t);
  assert.equal(text(parts), 'Proposition: Bench · Statut: In review — peut-être plus à jour');
  assert.equal(fact(parts, 'supports'), undefined);
  assert.equal(parts.at(-1).stale, true);
});

test('any input gives a line without throwing', () => {
  for (const proposal of [null, {}, { supports: 'many', title: 'x' }]) {
    assert.match(text(proposalLineParts(proposal, 'fr', t)), /^Proposition: .* · Statut: «proposal\.status\.unknown»$/);
  }
});
