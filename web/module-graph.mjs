// Module graph — writes the scene page's preload lists from its imports, so no one keeps them by hand:
//   - web/scene.html: a <link rel="modulepreload"> for each static import of boot.js (and theirs), read by
//     the browser with the page's <head>;
//   - web/js/boot.js: APP_MODULES, the static imports of app.js (and theirs) that boot.js does not already
//     have, which boot.js preloads all at once AFTER starting three.js (the critical path on a slow link),
//     instead of the browser discovering them one import level per round trip.
//
//   node web/module-graph.mjs          rewrite both lists (between their markers)
//   node web/module-graph.mjs --check  exit 1 when a list is not what the imports say (web/test runs it)
//
// Invariants: dynamic `import()`s (three.js, the viewer, the avatars, the editor: 3D-only or staff-only) are
// not followed, so text mode never preloads anything 3D; the order is the order of first discovery
// (depth-first), so the same imports always give the same lists.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const STATIC_IMPORT = /^\s*(?:import|export)\s[^;]*?\sfrom\s*['"](\.{1,2}\/[^'"]+)['"]|^\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/gm;
const readWeb = (path) => readFileSync(join(here, path), 'utf8');

/** The relative specifiers a module's source imports statically (`import … from`, `export … from`, `import '…'`). */
export function staticImports(source) {
  return [...source.matchAll(STATIC_IMPORT)].map((match) => match[1] || match[2]);
}

/** Every module reachable by static imports from `entry` (paths relative to web/), the entry excluded. */
export function moduleGraph(entry, read = readWeb) {
  const seen = new Set([entry]);
  const order = [];
  const visit = (path) => {
    for (const specifier of staticImports(read(path))) {
      const target = posix.normalize(posix.join(posix.dirname(path), specifier));
      if (seen.has(target)) continue;
      seen.add(target);
      order.push(target);
      visit(target);
    }
  };
  visit(entry);
  return order;
}

/** `text` with the lines between the line holding `begin` and the line holding `end` replaced by `lines`. */
export function replaceBlock(text, begin, end, lines) {
  const start = text.indexOf(begin);
  const stop = text.indexOf(end, start);
  if (start < 0 || stop < 0) throw new Error(`the markers "${begin}" … "${end}" are missing`);
  const afterBegin = text.indexOf('\n', start) + 1;
  const lineOfEnd = text.lastIndexOf('\n', stop) + 1;
  return text.slice(0, afterBegin) + lines.map((line) => `${line}\n`).join('') + text.slice(lineOfEnd);
}

/** {path: wanted text} for the two files that carry a generated list. */
export function generated(read = readWeb) {
  const boot = moduleGraph('js/boot.js', read);
  const app = moduleGraph('js/app.js', read).filter((path) => !boot.includes(path));
  const name = (path) => posix.basename(path, '.js');
  return {
    'scene.html': replaceBlock(
      read('scene.html'),
      '<!-- modulepreload: generated',
      '<!-- /modulepreload -->',
      boot.map((path) => `  <link rel="modulepreload" href="/static/${path}">`),
    ),
    'js/boot.js': replaceBlock(
      read('js/boot.js'),
      '// APP_MODULES: generated',
      '// /APP_MODULES',
      ['const APP_MODULES = [', ...app.map((path) => `  '${name(path)}',`), '];'],
    ),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = false;
  for (const [path, wanted] of Object.entries(generated())) {
    if (wanted === readWeb(path)) continue;
    stale = true;
    if (check) console.error(`web/${path}: the preload list is out of date; run \`node web/module-graph.mjs\``);
    else writeFileSync(join(here, path), wanted);
    if (!check) console.log(`rewrote the preload list in web/${path}`);
  }
  if (check && stale) process.exit(1);
}
