// Proposal status text (web/js/proposal-status.js): a custom platform state reads in its own words (resident's
// language, then English, then the first given) instead of "Not stated"; a removed proposal reads as removed;
// machine translations are recognised for the language actually shown.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Hotspots } from '../js/hotspots.js';
import { isGone, isMachineTranslated, pickText, proposalStatusText } from '../js/proposal-status.js';

const t = (key) => `«${key}»`;

test('a known status is the UI string of that status, in the page language', () => {
  assert.deepEqual(proposalStatusText({ status: 'accepted' }, 'fr', t), { text: '«proposal.status.accepted»', lang: 'fr' });
});

test('a custom state shows its own title in the resident language, else English, else the first given', () => {
  const label = { ca: 'En curs', en: 'In progress', fr: 'En cours' };
  assert.deepEqual(proposalStatusText({ status: null, statusLabel: label }, 'fr', t), { text: 'En cours', lang: 'fr' });
  assert.deepEqual(proposalStatusText({ status: null, statusLabel: label }, 'nl', t), { text: 'In progress', lang: 'en' });
  assert.deepEqual(proposalStatusText({ status: null, statusLabel: { ca: 'En curs', es: '' } }, 'nl', t), { text: 'En curs', lang: 'ca' });
});

test('a state with no usable title is "not stated", never an empty line', () => {
  for (const proposal of [{ status: null }, { status: null, statusLabel: {} }, { status: null, statusLabel: { en: '' } }, { status: 'weird' }, null]) {
    assert.deepEqual(proposalStatusText(proposal, 'es', t), { text: '«proposal.status.unknown»', lang: 'es' });
  }
});

test('a removed proposal reads as removed, whatever label it had', () => {
  const gone = { status: 'gone', statusLabel: { en: 'In progress' }, supports: null };
  assert.equal(isGone(gone), true);
  assert.deepEqual(proposalStatusText(gone, 'en', t), { text: '«proposal.status.gone»', lang: 'en' });
  assert.equal(isGone({ status: 'open', stale: true }), false); // an outage is not a removal
});

test('a machine translation is marked for the language shown, original text is not', () => {
  const proposal = { title: { en: 'More trees', ca: 'Més arbres' }, machineTranslated: true, machineTranslatedLocales: ['en'] };
  assert.equal(isMachineTranslated(proposal, 'en'), true);
  assert.equal(isMachineTranslated(proposal, 'ca'), false);
  // machineTranslated speaks of the first entry: a page whose language is missing shows that one.
  assert.equal(isMachineTranslated({ ...proposal, machineTranslatedLocales: [] }, 'en'), true);
  assert.equal(isMachineTranslated({ title: { en: 'Trees' }, machineTranslated: false, machineTranslatedLocales: [] }, 'en'), false);
  assert.equal(isMachineTranslated({ title: { en: 'Trees' } }, 'en'), false); // older servers send neither field
});

test('pickText never throws on odd input', () => {
  assert.deepEqual(pickText(null, 'fr'), { text: '', lang: 'fr' });
  assert.deepEqual(pickText('text', 'fr'), { text: '', lang: 'fr' });
  assert.deepEqual(pickText({ fr: 3, en: 'Yes' }, 'fr'), { text: 'Yes', lang: 'en' });
});

test('a pushed proposal event keeps the custom state title, the machine translation marks and "gone"', () => {
  const store = new Hotspots({ sceneId: 'town-hall', storage: null });
  const ref = 'decidim:https://city.example/processes/p/f/7/proposals/1';
  store.applyEvent({ action: 'upsert', hotspot: { id: 1, version: 1, position: [0, 1, 0], proposalRef: ref } });
  const seen = [];
  store.on('proposal', (proposal) => seen.push(proposal));
  store.applyProposal({
    ref, source: 'decidim', title: { en: 'More trees' }, status: null, statusLabel: { en: 'In progress' },
    machineTranslated: true, machineTranslatedLocales: ['en'], supports: 3, stale: false,
  });
  assert.deepEqual(seen[0].statusLabel, { en: 'In progress' });
  assert.equal(seen[0].machineTranslated, true);
  assert.deepEqual(seen[0].machineTranslatedLocales, ['en']);
  store.applyProposal({ ref, source: 'decidim', title: { en: 'More trees' }, status: 'gone', supports: null, comments: null });
  assert.equal(isGone(store.cachedProposal(ref)), true);
  assert.equal(store.cachedProposal(ref).supports, null);
});
