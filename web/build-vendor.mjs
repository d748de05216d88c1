// Builds web/vendor/three.js: ONE minified ES module re-exporting all of three.js plus
// GLTFLoader and MeshoptDecoder, so pages import it by relative path (no import map:
// the strict CSP forbids inline scripts). Run with `npm run build`; web/vendor/ is git-ignored.
// Also web/vendor/opus-decoder.js: the WebAssembly Opus decoder (npm `opus-decoder`, its WASM inlined) that the
// stage audio loads only in browsers without WebCodecs' AudioDecoder (web/js/audio-playback.js).
import { build } from 'esbuild';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outfile = join(here, 'vendor', 'three.js');
mkdirSync(dirname(outfile), { recursive: true });

const entry = [
  "export * from 'three';",
  "export { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';",
  "export { MeshoptDecoder } from 'three/examples/jsm/libs/meshopt_decoder.module.js';",
].join('\n');

await build({
  stdin: { contents: entry, resolveDir: here, sourcefile: 'vendor-entry.js', loader: 'js' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  platform: 'browser',
  legalComments: 'eof',
  outfile,
  logLevel: 'warning',
});

console.log(`built ${outfile} (${statSync(outfile).size} bytes)`);

const opusFile = join(here, 'vendor', 'opus-decoder.js');
await build({
  stdin: { contents: "export { OpusDecoder } from 'opus-decoder';", resolveDir: here, sourcefile: 'opus-entry.js', loader: 'js' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  platform: 'browser',
  legalComments: 'eof',
  outfile: opusFile,
  logLevel: 'warning',
});
console.log(`built ${opusFile} (${statSync(opusFile).size} bytes)`);
