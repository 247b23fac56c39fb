import { spawn, type ChildProcess } from 'node:child_process';
import { inject, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { WSEClient } from '../src/client.js';
import type { WebSocketConstructor, WSEClientConfig, WSEMessage } from '../src/types.js';

/** A wse-server process started for one test. */
export interface ServerProc {
  /** WebSocket URL. */
  ws: string;
  /** Control API base URL. */
  api: string;
  /** WebSocket port (to restart on the same one). */
  port: number;
  /** Stops the process with a signal and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const READY = /WebSocket (ws:\/\/[^\s,]+), .*control API (http:\/\/[^\s,]+)/;

/** startServer runs the built wse-server with args on random loopback ports (or `port`) and waits until it listens. */
export async function startServer(args: string[] = [], port = 0): Promise<ServerProc> {
  const bin = inject('wseServerBin');
  const proc: ChildProcess = spawn(bin, ['--port', String(port), '--api-addr', '127.0.0.1:0', '--log-level', 'warn', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const urls = await new Promise<[string, string]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wse-server did not start: ${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = READY.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve([m[1]!, m[2]!]);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`wse-server exited with ${code}: ${out}`)); });
  });
  let stopped = false;
  const stop = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (stopped) return;
    stopped = true;
    proc.kill(signal);
    await exited;
  };
  onTestFinished(() => stop());
  return { ws: urls[0], api: urls[1], port: Number(new URL(urls[0]).port), stop };
}

/** call posts (or gets, without body) a control API path and returns the JSON answer; it throws on a non-2xx status. */
export async function call(srv: ServerProc, path: string, body?: unknown): Promise<any> {
  const res = await fetch(srv.api + path, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** waitFor polls cond until it holds or the deadline passes. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** client makes a WSEClient over the `ws` package, with quick retries, disconnected when the test ends. */
export function client(srv: ServerProc | string[], config: Partial<WSEClientConfig> = {}): WSEClient {
  const c = new WSEClient({
    endpoints: Array.isArray(srv) ? srv : [srv.ws],
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    reconnection: { baseDelay: 50, maxDelay: 500 },
    ...config,
  });
  onTestFinished(() => c.disconnect());
  return c;
}

/** collect records every message of a type that a client delivers. */
export function collect(c: WSEClient, type: string): WSEMessage[] {
  const got: WSEMessage[] = [];
  c.messageProcessor.registerHandler(type, (m) => got.push(m));
  return got;
}
