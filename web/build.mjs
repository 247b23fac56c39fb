// Bundles the demo chat and the admin dashboard (src/) into the scripts
// that wse-server embeds (../server/web/dist). The output is committed, so
// that `go build` needs only Go; `node build.mjs --check` rebuilds into a
// temporary directory and fails when the committed files differ.
import { build } from 'esbuild';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'server', 'web', 'dist');
const check = process.argv.includes('--check');

/** Builds every entry into outdir. */
async function bundle(outdir) {
  await build({
    entryPoints: { chat: join(here, 'src', 'chat.ts'), admin: join(here, 'src', 'admin.ts') },
    outdir,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'warning',
    // The chat is built on the TypeScript client of this repository
    // (clients/ts), bundled from its sources.
    alias: { 'wse-client': join(here, '..', 'clients', 'ts', 'src', 'core.ts') },
  });
}

if (!check) {
  await bundle(dist);
  console.log(`web: built ${(await readdir(dist)).join(', ')} into server/web/dist`);
} else {
  const tmp = await mkdtemp(join(tmpdir(), 'wse-web-'));
  try {
    await bundle(tmp);
    const fresh = (await readdir(tmp)).sort();
    const committed = (await readdir(dist)).sort();
    const stale = [];
    if (fresh.join() !== committed.join()) stale.push(`files ${committed.join(', ')} != ${fresh.join(', ')}`);
    for (const f of fresh) {
      const a = await readFile(join(tmp, f));
      const b = await readFile(join(dist, f)).catch(() => Buffer.alloc(0));
      if (!a.equals(b)) stale.push(f);
    }
    if (stale.length > 0) {
      console.error(`web: server/web/dist is stale (${stale.join('; ')}): run \`make web-build\` and commit the result`);
      process.exit(1);
    }
    console.log('web: server/web/dist matches the sources');
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
