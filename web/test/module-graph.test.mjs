// The scene page's preload lists (web/module-graph.mjs): derived from the imports, and kept in step.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { generated, moduleGraph, replaceBlock, staticImports } from '../module-graph.mjs';

const web = new URL('../', import.meta.url);

test('static imports and re-exports are followed; dynamic import() and bare names are not', () => {
  const source = [
    "import { a } from './a.js';",
    'import {',
    '  b,',
    "} from '../b.js';",
    "export { c } from './c.js';",
    "import './d.js';",
    "const e = await import('./e.js');",
    "import { f } from 'three';",
  ].join('\n');
  assert.deepEqual(staticImports(source), ['./a.js', '../b.js', './c.js', './d.js']);
});

test('the graph is every module reachable from the entry, once each, in first-seen order', () => {
  const files = {
    'js/app.js': "import './x.js';\nimport './y.js';",
    'js/x.js': "import './y.js';\nimport './app.js';",
    'js/y.js': "import '../vendor/z.js';",
    'vendor/z.js': '',
  };
  assert.deepEqual(moduleGraph('js/app.js', (path) => files[path]), ['js/x.js', 'js/y.js', 'vendor/z.js']);
});

test('a block between markers is replaced, the markers kept', () => {
  const text = 'a\n  <!-- begin -->\n  old\n  <!-- end -->\nb\n';
  assert.equal(replaceBlock(text, '<!-- begin', '<!-- end', ['  new']), 'a\n  <!-- begin -->\n  new\n  <!-- end -->\nb\n');
  assert.throws(() => replaceBlock('no markers', '<!-- begin', '<!-- end', []));
});

test('the page never preloads three.js or other 3D-only modules (text mode fetches nothing 3D)', () => {
  const all = [...moduleGraph('js/boot.js'), ...moduleGraph('js/app.js')];
  for (const path of ['vendor/three.js', 'js/viewer.js', 'js/scene-loader.js', 'js/avatars.js', 'js/hotspot-markers.js', 'js/editor.js']) {
    assert.ok(!all.includes(path), `${path} is reached by a static import`);
  }
});

test('scene.html and boot.js carry the preload lists the imports give (run `node web/module-graph.mjs`)', () => {
  for (const [path, wanted] of Object.entries(generated())) {
    assert.equal(readFileSync(new URL(path, web), 'utf8'), wanted, `web/${path} is out of date`);
  }
});
