import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startServer, waitFor } from './helpers.js';

// The core in headless Chromium (Debian's), with the browser's own
// WebSocket, DecompressionStream and Web Crypto: no polyfill, no `ws`.
let browser: BrowserContext;
let profile: string;
let bundle: string;

beforeAll(async () => {
  const out = await build({
    entryPoints: [new URL('../src/core.ts', import.meta.url).pathname],
    bundle: true, format: 'iife', globalName: 'WSE', platform: 'browser', target: 'es2022', write: false,
  });
  bundle = out.outputFiles[0]!.text;
  profile = mkdtempSync(join(tmpdir(), 'wse-chromium-'));
  // A fresh profile directory per run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
});

/** page serves an empty page from 127.0.0.1 (a secure context, so crypto.subtle exists) with the bundle loaded. */
async function page() {
  const http = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><title>wse</title>');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const p = await browser.newPage();
  await p.goto(origin + '/');
  await p.addScriptTag({ content: bundle });
  return { p, origin, close: async () => { await p.close(); http.close(); } };
}

describe('WSEClient in Chromium', () => {
  it('encrypts with Web Crypto, recovers after a forced disconnect, inflates C: frames with DecompressionStream', async () => {
    const { p, origin, close } = await page();
    try {
      const srv = await startServer(['--recovery', '--client-subscriptions', 'any', '--compression-threshold', '256', '--allowed-origins', origin]);
      await p.evaluate(async (url) => {
        const w = window as any;
        w.got = { enc: [], plain: [] };
        for (const name of ['enc', 'plain']) {
          const c = new w.WSE.WSEClient({ endpoints: [url], encryption: name === 'enc', reconnection: { baseDelay: 50 } });
          c.messageProcessor.registerHandler('*', (m: any) => { if (m.t === 'tick' || m.t === 'report') w.got[name].push(m); });
          c.connect();
          await c.subscribe(['feed']);
          w[name] = c;
        }
      }, srv.ws);
      const stats = (name: string) => p.evaluate((n) => (window as any)[n].stats, name);
      const count = (name: string) => p.evaluate((n) => (window as any).got[n].length, name);
      expect((await stats('enc')).encrypted).toBe(true);
      expect((await stats('plain')).encrypted).toBe(false);

      // A large send_event: sealed for the encrypted client, "C:" + zlib for the other.
      for (const name of ['enc', 'plain']) {
        await call(srv, '/api/send', { conn_id: (await stats(name)).connectionId, event: true, data: { t: 'report', p: { big: 'z'.repeat(5000) } } });
      }
      await call(srv, '/api/publish', { topic: 'feed', data: { t: 'tick', p: { n: 1 } } });
      await waitFor('two messages each', async () => (await count('enc')) === 2 && (await count('plain')) === 2);
      expect((await stats('plain')).bytesReceived).toBeLessThan(2500); // the 5 KB event came compressed

      // A forced disconnect with publications in between: replayed once, in order.
      await call(srv, '/api/disconnect', { conn_id: (await stats('enc')).connectionId, code: 4429 });
      for (let n = 2; n <= 6; n++) await call(srv, '/api/publish', { topic: 'feed', data: { t: 'tick', p: { n } } });
      await waitFor('replay in the page', async () => (await count('enc')) === 7);
      const got = await p.evaluate(() => (window as any).got.enc.map((m: any) => (m.t === 'tick' ? m.o : m.p.big.length)));
      expect(got).toEqual([5000, 1, 2, 3, 4, 5, 6]);
      const s = await stats('enc');
      expect(s.connects).toBe(2);
      expect(s.missedData).toBe(0);
      await p.evaluate(() => { (window as any).enc.disconnect(); (window as any).plain.disconnect(); });
    } finally {
      await close();
    }
  });
});
