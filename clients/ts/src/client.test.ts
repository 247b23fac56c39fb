// The client's state machine against a scripted in-memory socket, for what
// a real wse-server does not produce on demand: every close code, the
// PROTOCOL.md reply shape, frames that need async decoding in between
// plain ones. Behaviour against the real server is in test/.
import { deflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { WSEClient } from './client.js';
import { ConnectionState, type WebSocketConstructor, type WSEClientConfig } from './types.js';

/** FakeSocket is a WebSocket whose server side the test scripts. */
class FakeSocket {
  static last: FakeSocket | undefined;
  static all: FakeSocket[] = [];
  binaryType = 'blob';
  readyState = 0;
  bufferedAmount = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly sent: string[] = [];

  constructor(readonly url: string) {
    FakeSocket.last = this;
    FakeSocket.all.push(this);
  }

  send(data: string | Uint8Array): void {
    this.sent.push(typeof data === 'string' ? data : `<binary ${data.byteLength}>`);
  }

  close(code = 1000, reason = ''): void {
    this.serverClose(code, reason);
  }

  /** open completes the handshake; ready also sends server_ready. */
  open(features: Record<string, unknown> = {}): void {
    this.readyState = 1;
    this.onopen?.({});
    this.push({ c: 'WSE', t: 'server_ready', p: { details: { connection_id: 'c1', features } }, v: 1 });
  }

  push(m: unknown): void {
    this.onmessage?.({ data: typeof m === 'string' ? m : JSON.stringify(m) });
  }

  pushBinary(b: Uint8Array): void {
    this.onmessage?.({ data: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) });
  }

  serverClose(code: number, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  types(): string[] {
    return this.sent.filter((s) => s.startsWith('{')).map((s) => JSON.parse(s).t as string);
  }
}

const clients: WSEClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
  FakeSocket.all = [];
});

function make(config: Partial<WSEClientConfig> = {}): WSEClient {
  const c = new WSEClient({
    endpoints: ['ws://fake/wse'],
    WebSocket: FakeSocket as unknown as WebSocketConstructor,
    reconnection: { baseDelay: 5, maxDelay: 5 },
    ...config,
  });
  clients.push(c);
  return c;
}

const tick = () => new Promise((r) => setTimeout(r, 0));
/** until polls cond; it always yields once first, so pending microtasks (async frame work) settle as between socket events. */
async function until(cond: () => boolean): Promise<void> {
  await tick();
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(cond()).toBe(true);
}

describe('handshake', () => {
  it('sends the JWT first, then client_hello and subscriptions only after server_ready', async () => {
    const c = make({ token: 'jwt-abc' });
    c.subscribe(['a']).catch(() => undefined);
    c.connect();
    const ws = FakeSocket.last!;
    ws.readyState = 1;
    ws.onopen?.({});
    expect(ws.types()).toEqual(['auth']);
    expect(JSON.parse(ws.sent[0]!).p.token).toBe('jwt-abc');
    ws.push({ c: 'WSE', t: 'server_ready', p: { details: { connection_id: 'c1', features: {} } } });
    await until(() => c.state === ConnectionState.CONNECTED);
    expect(ws.types()).toEqual(['auth', 'client_hello', 'subscription_update']);
    expect(ws.url).toContain('protocol_version=1');
  });

  it('does not connect without a token', () => {
    const c = make({ token: undefined });
    c.connect();
    expect(FakeSocket.all.length).toBe(0);
    expect(c.state).toBe(ConnectionState.PENDING);
  });
});

describe('encryption failures', () => {
  it('stops with KEY_EXCHANGE_FAILED when the server key is unusable', async () => {
    const c = make({ encryption: true });
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    c.connect();
    const ws = FakeSocket.last!;
    ws.open({ encryption: true });
    await until(() => ws.types().includes('client_hello'));
    ws.push({ c: 'WSE', t: 'server_hello', p: { encryption_public_key: 'AAAA' } });
    await until(() => c.state === ConnectionState.ERROR);
    expect(errors).toContain('KEY_EXCHANGE_FAILED');
    expect(ws.types()).not.toContain('subscription_update');
  });
});

describe('close-code policy', () => {
  const cases: [number, ConnectionState][] = [
    [1000, ConnectionState.DISCONNECTED],
    [1001, ConnectionState.DISCONNECTED],
    [4403, ConnectionState.ERROR],
    [4401, ConnectionState.ERROR], // no refreshAuthToken
    [4300, ConnectionState.RECONNECTING],
    [4408, ConnectionState.RECONNECTING],
    [4429, ConnectionState.RECONNECTING],
    [1006, ConnectionState.RECONNECTING],
    [1011, ConnectionState.RECONNECTING],
  ];
  for (const [code, state] of cases) {
    it(`${code} → ${state}`, async () => {
      const c = make();
      c.connect();
      FakeSocket.last!.open();
      await until(() => c.state === ConnectionState.CONNECTED);
      FakeSocket.last!.serverClose(code);
      expect(c.state).toBe(state);
      if (state === ConnectionState.RECONNECTING) await until(() => FakeSocket.all.length === 2);
      else {
        await new Promise((r) => setTimeout(r, 30));
        expect(FakeSocket.all.length).toBe(1);
      }
    });
  }

  it('4401 calls refreshAuthToken and reconnects with the new token', async () => {
    let calls = 0;
    const c = make({ token: 'old', refreshAuthToken: async () => { calls++; return 'new'; } });
    c.connect();
    FakeSocket.last!.readyState = 1;
    FakeSocket.last!.onopen?.({});
    FakeSocket.last!.serverClose(4401);
    await until(() => FakeSocket.all.length === 2);
    expect(calls).toBe(1);
    const ws = FakeSocket.last!;
    ws.readyState = 1;
    ws.onopen?.({});
    expect(JSON.parse(ws.sent[0]!).p.token).toBe('new');
  });

  it('fails over to the next endpoint after a failed attempt and on 4300', async () => {
    const c = make({ endpoints: ['ws://one/wse', 'ws://two/wse'] });
    c.connect();
    FakeSocket.last!.serverClose(1006); // never opened
    await until(() => FakeSocket.all.length === 2);
    expect(FakeSocket.last!.url).toContain('ws://two/');
    FakeSocket.last!.open();
    await until(() => c.state === ConnectionState.CONNECTED);
    FakeSocket.last!.serverClose(4300);
    await until(() => FakeSocket.all.length === 3);
    expect(FakeSocket.last!.url).toContain('ws://one/');
  });

  it('gives up after maxAttempts', async () => {
    const c = make({ reconnection: { baseDelay: 1, maxDelay: 1, maxAttempts: 2 } });
    c.connect();
    for (let i = 1; i <= 3; i++) {
      await until(() => FakeSocket.all.length === i);
      FakeSocket.last!.serverClose(1006);
    }
    await until(() => c.state === ConnectionState.ERROR);
    expect(FakeSocket.all.length).toBe(3);
  });
});

describe('dispatch order', () => {
  it('keeps arrival order when a compressed frame needs async inflating', async () => {
    const c = make();
    const got: number[] = [];
    c.messageProcessor.registerHandler('n', (m) => got.push(m.p.i));
    c.connect();
    const ws = FakeSocket.last!;
    ws.open();
    await until(() => c.state === ConnectionState.CONNECTED);
    ws.push({ t: 'n', p: { i: 1 } });
    const z = deflateSync(Buffer.from(JSON.stringify({ t: 'n', p: { i: 2 } })));
    ws.pushBinary(new Uint8Array([0x43, 0x3a, ...z]));
    ws.push({ t: 'n', p: { i: 3 } });
    ws.pushBinary(new TextEncoder().encode(JSON.stringify({ t: 'n', p: { i: 4 } })));
    ws.push({ t: 'n', p: { i: 5 } });
    await until(() => got.length === 5);
    expect(got).toEqual([1, 2, 3, 4, 5]);
  });

  it('drops unstamped duplicates by id and expands batches', async () => {
    const c = make();
    const got: string[] = [];
    c.messageProcessor.registerHandler('*', (m) => { if (m.t !== 'server_ready') got.push(`${m.t}:${m.id ?? ''}`); });
    c.connect();
    const ws = FakeSocket.last!;
    ws.open();
    await until(() => c.state === ConnectionState.CONNECTED);
    ws.push({ t: 'x', id: 'a' });
    ws.push({ t: 'x', id: 'a' });
    ws.push({ t: 'batch', p: { messages: [{ t: 'y', id: 'b' }, { t: 'z', id: 'c' }, { t: 'y', id: 'b' }] } });
    expect(got).toEqual(['x:a', 'y:b', 'z:c']);
    expect(c.stats.duplicatesDropped).toBe(2);
  });

  it('answers server pings with PONG and swallows both', async () => {
    const c = make();
    const got: string[] = [];
    c.messageProcessor.registerHandler('*', (m) => got.push(m.t));
    c.connect();
    const ws = FakeSocket.last!;
    ws.open();
    await until(() => c.state === ConnectionState.CONNECTED);
    ws.push('{"c":"WSE","t":"ping","p":{"server_time":"2026-01-01T00:00:00Z"},"v":1}');
    expect(ws.types().at(-1)).toBe('PONG');
    ws.push({ c: 'WSE', t: 'PONG', p: { client_timestamp: Date.now() - 7 } });
    expect(c.stats.pongsReceived).toBe(1);
    expect(c.stats.latency).toBeGreaterThanOrEqual(7);
    expect(got).toEqual([]); // server_ready reaches only a handler registered for it by name
  });
});

describe('subscription replies', () => {
  it("reads PROTOCOL.md's shape ({topic, code} objects) as well as docs/protocol.md's", async () => {
    const c = make();
    c.connect();
    const ws = FakeSocket.last!;
    ws.open();
    await until(() => c.state === ConnectionState.CONNECTED);
    const first = c.subscribe(['a', 'b']);
    ws.push({ c: 'WSE', t: 'subscription_update', p: { action: 'subscribe', success: true, success_topics: ['a'], failed_topics: [{ topic: 'b', code: 'LIMIT' }] } });
    expect(await first).toEqual({ granted: ['a'], refused: [{ topic: 'b', code: 'LIMIT' }], pending: [] });
    const second = c.subscribe(['d']);
    ws.push({ c: 'WSE', t: 'subscription_update', p: { action: 'subscribe', success: true, success_topics: [], failed_topics: ['d'], failed_codes: { d: 'FORBIDDEN' } } });
    expect(await second).toEqual({ granted: [], refused: [{ topic: 'd', code: 'FORBIDDEN' }], pending: [] });
    expect(c.getSnapshot().activeTopics).toEqual(['a']);
    expect(c.getSnapshot().refusedTopics).toEqual([{ topic: 'b', code: 'LIMIT' }, { topic: 'd', code: 'FORBIDDEN' }]);
  });

  it('resubscribes wanted topics after a reconnect with their positions, not refused ones', async () => {
    const c = make();
    c.connect();
    let ws = FakeSocket.last!;
    ws.open({ recovery: true });
    await until(() => c.state === ConnectionState.CONNECTED);
    const p = c.subscribe(['a', 'b']);
    ws.push({ c: 'WSE', t: 'subscription_update', p: { action: 'subscribe', success: true, success_topics: ['a'], failed_topics: ['b'], failed_codes: { b: 'FORBIDDEN' }, recovery: { a: { epoch: 'e1', offset: 4, recovered: false } } } });
    await p;
    ws.push('{"tp":"a","e":"e1","o":5,"t":"x"}');
    ws.serverClose(4429);
    await until(() => FakeSocket.all.length === 2);
    ws = FakeSocket.last!;
    ws.open({ recovery: true });
    await until(() => c.state === ConnectionState.CONNECTED);
    const req = ws.sent.map((s) => JSON.parse(s)).find((m) => m.t === 'subscription_update');
    expect(req.p).toEqual({ action: 'subscribe', topics: ['a'], recover: true, recovery: { a: { epoch: 'e1', offset: 5 } } });
  });

  it('answers waiting subscriptions with pending when stopped for good, and on timeout', async () => {
    const c = make();
    c.connect();
    FakeSocket.last!.open();
    await until(() => c.state === ConnectionState.CONNECTED);
    const p = c.subscribe(['a']);
    await tick();
    FakeSocket.last!.serverClose(4403);
    expect(await p).toEqual({ granted: [], refused: [], pending: ['a'] });

    const slow = make({ subscribeTimeout: 20 });
    slow.connect();
    FakeSocket.last!.open();
    await until(() => slow.state === ConnectionState.CONNECTED);
    expect(await slow.subscribe(['b'])).toEqual({ granted: [], refused: [], pending: ['b'] });
    expect(slow.subscription('b')?.wanted).toBe(true); // still requested
  });
});
