// Receive throughput of one Node process through WSEClient (recovery on:
// every message is stamped, checked for duplicates and gaps, parsed and
// dispatched to a handler; and once more with end-to-end encryption, every
// frame opened with Web Crypto), against a bare `ws` client that only
// parses the JSON, in the same run and against the same Go feed
// (bench/feed).
//
//   node bench/throughput.mjs [messages=300000] [rounds=3]
//
// Wall-clock messages/s depend on what else the machine runs; the CPU time
// the Node process spends per message (process.cpuUsage) much less so, and
// 1e6 / (CPU µs per message) is the rate one core could sustain. Prints a
// markdown table; figures go to bench/RESULTS.md by hand.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { WSEClient } from '../dist/core.js';

const N = Number(process.argv[2] ?? 300_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const SIZE = 100;
const WINDOW = 20_000;
const ACK_EVERY = 5_000;

const dir = mkdtempSync(join(tmpdir(), 'wse-ts-bench-'));
const bin = join(dir, 'feed');
execFileSync(process.env.GO ?? 'go', ['build', '-o', bin, './clients/ts/bench/feed'], { cwd: resolve(import.meta.dirname, '../../..'), stdio: 'inherit' });
const feed = spawn(bin, ['-maxtime', '10m'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((ok, fail) => {
  let out = '';
  feed.stdout.on('data', (d) => {
    out += d;
    const m = /feed: (ws:\/\/\S+)/.exec(out);
    if (m) ok(m[1]);
  });
  feed.once('exit', (c) => fail(new Error(`feed exited ${c}`)));
});

function deadline(what) {
  return setTimeout(() => { console.error(`bench: ${what} took too long`); process.exit(1); }, 120_000);
}

/** raw: a `ws` client that parses each frame and counts it. */
function rawRound() {
  return new Promise((done) => {
    const ws = new WebSocket(url);
    let n = 0, t0 = 0, c0;
    const timer = deadline('raw round');
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.t === 'server_ready') {
        ws.send(JSON.stringify({ t: 'subscription_update', p: { action: 'subscribe', topics: ['bench'] } }));
        return;
      }
      if (m.t === 'subscription_update') {
        ws.send(JSON.stringify({ t: 'start', p: { n: N, size: SIZE, window: WINDOW } }));
        return;
      }
      if (m.t !== 'tick') return;
      if (n === 0) { t0 = performance.now(); c0 = process.cpuUsage(); }
      n++;
      if (n % ACK_EVERY === 0) ws.send(JSON.stringify({ t: 'ack', p: { n } }));
      if (n === N) {
        const s = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(c0);
        clearTimeout(timer);
        ws.close();
        done({ rate: N / s, cpu: (cpu.user + cpu.system) / N });
      }
    });
  });
}

/** wse: WSEClient with recovery, a handler per message type; `encryption` seals every frame (E2E). */
function wseRound(encryption = false) {
  return new Promise((done) => {
    const c = new WSEClient({ endpoints: [url], WebSocket, encryption });
    let n = 0, t0 = 0, c0;
    const timer = deadline('WSEClient round');
    c.messageProcessor.registerHandler('tick', () => {
      if (n === 0) { t0 = performance.now(); c0 = process.cpuUsage(); }
      n++;
      if (n % ACK_EVERY === 0) c.send('ack', { n });
      if (n === N) {
        const s = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(c0);
        const st = c.stats;
        clearTimeout(timer);
        c.disconnect();
        if (st.gapsDetected || st.duplicatesDropped || st.missedData) console.error('bench: unexpected', st);
        done({ rate: N / s, cpu: (cpu.user + cpu.system) / N });
      }
    });
    c.connect();
    c.subscribe(['bench']).then(() => c.send('start', { n: N, size: SIZE, window: WINDOW }));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const raw = [], wse = [], e2e = [];
const load0 = loadavg()[0];
for (let r = 0; r < ROUNDS; r++) {
  raw.push(await rawRound());
  wse.push(await wseRound());
  e2e.push(await wseRound(true));
}
feed.kill();
rmSync(dir, { recursive: true, force: true });
const fmt = (x) => Math.round(x).toLocaleString('en-US');
console.log(`node ${process.version}, ${cpus()[0].model} × ${cpus().length}, load average ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}`);
console.log(`${N} messages of ${SIZE} bytes (+ recovery stamp) per round, ${ROUNDS} rounds, median`);
console.log('');
const rates = (xs) => xs.map((x) => x.rate), cpus_ = (xs) => xs.map((x) => x.cpu);
const row = (name, xs, base) => {
  const r = median(rates(xs)), u = median(cpus_(xs));
  return `| ${name} | ${fmt(r)} | ${rates(xs).map(fmt).join(', ')} | ${u.toFixed(2)} | ${fmt(1e6 / u)} | ${(median(cpus_(base)) / u).toFixed(2)} |`;
};
console.log('| receiver | messages/s (median, wall) | rounds | CPU µs/message (median) | messages/s per core (1e6/CPU µs) | ratio to bare ws (CPU) |');
console.log('|---|---|---|---|---|---|');
console.log(row('bare `ws` + JSON.parse', raw, raw));
console.log(row('WSEClient (recovery on)', wse, raw));
console.log(row('WSEClient (recovery on, E2E encrypted)', e2e, raw));
