// Test harness: a real wse-server (built from this checkout) on random
// loopback ports, and Debian's Chromium driven by playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const work = mkdtempSync(join(tmpdir(), 'wse-web-test-'));

/** Builds wse-server once per test process; WSE_SERVER_BIN skips the build. */
let binary = process.env.WSE_SERVER_BIN ?? '';
function serverBinary() {
  if (binary === '') {
    binary = join(work, 'wse-server');
    execFileSync('go', ['build', '-o', binary, './cmd/wse-server'], { cwd: repo, stdio: 'inherit' });
  }
  return binary;
}

/** Deadline of every wait, generous for a loaded 2-core machine. */
export const TIMEOUT = 20_000;

/**
 * Starts wse-server with args (plus random loopback ports) and resolves
 * once it has printed where it listens: {demoURL, wsURL, apiURL, stop()}.
 */
export async function startServer(args = []) {
  const proc = spawn(serverBinary(), ['--port', '0', '--api-addr', '127.0.0.1:0', '--log-level', 'warn', ...args], {
    cwd: work,
    env: { PATH: process.env.PATH ?? '', HOME: work },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: proc.stdout });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wse-server did not start within ${TIMEOUT} ms: ${stderr}`)), TIMEOUT);
    proc.once('exit', (code) => reject(new Error(`wse-server exited with ${code}: ${stderr}`)));
    const policy = [];
    lines.on('line', (line) => {
      const m = /^wse-server: WebSocket (ws:\/\/\S+?),.* control API (http:\/\/\S+)$/.exec(line);
      if (m) policy.push(m);
      else if (policy.length === 1 && line.startsWith('wse-server: ')) {
        clearTimeout(timer);
        resolve({ wsURL: policy[0][1], apiURL: policy[0][2], policy: line });
      }
    });
  });
  const stop = async () => {
    if (proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  };
  const demoURL = ready.wsURL.replace(/^ws:/, 'http:').replace(/\/wse$/, '/');
  return { ...ready, demoURL, stop, stderr: () => stderr };
}

/**
 * Launches headless Chromium from Debian with a fresh profile and returns
 * its browser context (pages of one context are tabs of one browser).
 */
export async function launchBrowser() {
  const profile = mkdtempSync(join(work, 'chromium-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/** Removes the test process's scratch directory. */
export function cleanup() {
  rmSync(work, { recursive: true, force: true });
}

/** The repository root. */
export const repoRoot = repo;
