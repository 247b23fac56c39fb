// Bundle size (min+gzip) of the core and of the React hooks, as an app's
// bundler would ship them: esbuild, ESM, browser, minified; React external.
//
//   node bench/size.mjs
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';

async function size(entry) {
  const r = await build({
    entryPoints: [entry], bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022',
    write: false, external: ['react'], logLevel: 'silent',
  });
  const code = r.outputFiles[0].contents;
  return { min: code.byteLength, gz: gzipSync(code, { level: 9 }).byteLength };
}

const kb = (n) => (n / 1024).toFixed(1) + ' KB';
const core = await size('src/core.ts');
const all = await size('src/index.ts');
const hooks = { min: all.min - core.min, gz: all.gz - core.gz };
console.log('| bundle | minified | min+gzip |');
console.log('|---|---|---|');
console.log(`| core (\`wse-client/core\`) | ${kb(core.min)} | ${kb(core.gz)} |`);
console.log(`| core + React hooks (\`wse-client\`) | ${kb(all.min)} | ${kb(all.gz)} |`);
console.log(`| hooks alone (difference) | ${kb(hooks.min)} | ${kb(hooks.gz)} |`);
