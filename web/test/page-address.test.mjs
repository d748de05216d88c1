// The scene page's address (web/js/page-address.js): which scene and which room instance it asks for.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MAX_INSTANCE, instanceFromSearch, sceneIdFromLocation } from '../js/page-address.js';

test('the scene id comes from /scenes/{id}, decoded, with or without a trailing slash', () => {
  assert.equal(sceneIdFromLocation({ pathname: '/scenes/town-hall', search: '' }), 'town-hall');
  assert.equal(sceneIdFromLocation({ pathname: '/scenes/town-hall/', search: '?scene=other' }), 'town-hall');
  assert.equal(sceneIdFromLocation({ pathname: '/scenes/pla%C3%A7a', search: '' }), 'plaça');
});

test('elsewhere the scene id comes from ?scene=, or there is none', () => {
  assert.equal(sceneIdFromLocation({ pathname: '/static/scene.html', search: '?scene=square' }), 'square');
  assert.equal(sceneIdFromLocation({ pathname: '/scenes/a/b', search: '' }), null);
  assert.equal(sceneIdFromLocation({ pathname: '/', search: '' }), null);
});

test('the room instance is 1 unless the address names a valid one', () => {
  assert.equal(instanceFromSearch(''), 1);
  assert.equal(instanceFromSearch('?instance=3'), 3);
  assert.equal(instanceFromSearch('?instance=abc'), 1);
  assert.equal(instanceFromSearch('?instance=0'), 1);
});

test('the room instance is clamped to the range the server accepts', () => {
  assert.equal(instanceFromSearch('?instance=-5'), 1);
  assert.equal(instanceFromSearch('?instance=100000'), MAX_INSTANCE);
  assert.equal(instanceFromSearch('?instance=2.9'), 2);
});
