import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConnectionState } from '../src/types.js';
import type { MissedData } from '../src/client.js';
import type { WebSocketConstructor } from '../src/types.js';
import { call, client, collect, startServer, waitFor } from './helpers.js';

const SECRET = 'integration-test-secret-of-at-least-32-bytes';

describe('WSEClient against wse-server', () => {
  it('connects, subscribes, receives publications and sends messages', async () => {
    const srv = await startServer(['--recovery', '--client-subscriptions', 'acl', '--client-topics', 'chat:*']);
    const c = client(srv);
    const chat = collect(c, 'chat_message');
    c.connect();
    const res = await c.subscribe(['chat:lobby', 'secret']);
    expect(res).toEqual({ granted: ['chat:lobby'], refused: [{ topic: 'secret', code: 'FORBIDDEN' }], pending: [] });
    expect(c.state).toBe(ConnectionState.CONNECTED);
    expect(c.getSnapshot().activeTopics).toEqual(['chat:lobby']);

    for (let i = 1; i <= 3; i++) await call(srv, '/api/publish', { topic: 'chat:lobby', data: { t: 'chat_message', p: { i } } });
    await waitFor('3 messages', () => chat.length === 3);
    expect(chat.map((m) => [m.tp, m.o, m.p.i])).toEqual([['chat:lobby', 1, 1], ['chat:lobby', 2, 2], ['chat:lobby', 3, 3]]);
    // A publication without a type still moves the position: no gap after it.
    await call(srv, '/api/publish', { topic: 'chat:lobby', data: {} });
    await call(srv, '/api/publish', { topic: 'chat:lobby', data: { t: 'chat_message', p: { i: 5 } } });
    await waitFor('offset 5', () => chat.length === 4);
    expect(chat[3]!.o).toBe(5);
    expect(c.stats.gapsDetected).toBe(0);

    expect(c.send('chat', { text: 'hi' }, { correlation_id: 'c-1' })).toBe(true);
    expect(c.sendBatch([{ type: 'a', payload: { i: 1 } }, { type: 'b', payload: { i: 2 } }])).toBe(true);
    const seen: any[] = [];
    await waitFor('the server to get the message and the batch', async () => {
      seen.push(...(await call(srv, '/api/events?max=100')).events.filter((e: any) => e.type === 'msg').map((e: any) => e.data));
      return seen.length >= 3;
    });
    expect(seen.map((m) => [m.t, m.p])).toEqual([['chat', { text: 'hi' }], ['a', { i: 1 }], ['b', { i: 2 }]]);
    expect(seen[0].cid).toBe('c-1');

    expect(await c.unsubscribe(['chat:lobby'])).toEqual({ unsubscribed: ['chat:lobby'], pending: [] });
    expect(c.getSnapshot().activeTopics).toEqual([]);
  });

  it('measures latency with its own pings', async () => {
    const srv = await startServer();
    const c = client(srv, { heartbeatInterval: 100 });
    c.connect();
    await waitFor('3 PONGs', () => c.stats.pongsReceived >= 3);
    const s = c.stats;
    expect(s.minLatency).toBeLessThanOrEqual(s.avgLatency);
    expect(s.avgLatency).toBeLessThanOrEqual(s.maxLatency);
    expect(s.maxLatency).toBeLessThan(10_000);
  });

  it('answers server pings, which keeps an otherwise silent connection open', async () => {
    const srv = await startServer(['--ping-interval', '400ms', '--idle-timeout', '2500ms']);
    const c = client(srv, { heartbeatInterval: 60_000 });
    const closes: number[] = [];
    c.on('close', (e) => closes.push(e.code));
    c.connect();
    await waitFor('connected', () => c.state === ConnectionState.CONNECTED);
    const deadline = Date.now() + 4000;
    await waitFor('4 s of pings', () => Date.now() > deadline || closes.length > 0, 10_000);
    expect(closes).toEqual([]);
    expect(c.stats.connects).toBe(1);
  });

  it('reconnects after a server restart and resubscribes', async () => {
    const srv = await startServer(['--recovery', '--client-subscriptions', 'any']);
    const c = client(srv);
    const got = collect(c, 'tick');
    const missed: MissedData[] = [];
    c.on('missedData', (m) => missed.push(m));
    c.connect();
    await c.subscribe(['feed']);
    await call(srv, '/api/publish', { topic: 'feed', data: { t: 'tick', p: { n: 1 } } });
    await waitFor('first tick', () => got.length === 1);

    await srv.stop('SIGTERM'); // drains: 4300
    await waitFor('reconnecting', () => c.state === ConnectionState.RECONNECTING);
    const srv2 = await startServer(['--recovery', '--client-subscriptions', 'any'], srv.port);
    await waitFor('reconnected and resubscribed', () => c.state === ConnectionState.CONNECTED && c.subscription('feed')?.state === 'subscribed');
    await call(srv2, '/api/publish', { topic: 'feed', data: { t: 'tick', p: { n: 2 } } });
    await waitFor('tick after restart', () => got.length === 2);
    expect(got[1]!.p.n).toBe(2);
    // The new server has a new epoch: the client says it cannot know what it missed.
    expect(missed.length).toBe(1);
    expect(missed[0]!.from.offset).toBe(1);
    expect(c.stats.connects).toBe(2);
  });

  it('recovers every offset exactly once, in order, across three forced disconnects', async () => {
    const srv = await startServer(['--recovery', '--client-subscriptions', 'any', '--recovery-buffer-size', '4096', '--recovery-max-messages', '4096']);
    const c = client(srv);
    const offsets: number[] = [];
    c.messageProcessor.registerHandler('tick', (m) => offsets.push(m.o!));
    const missed: MissedData[] = [];
    c.on('missedData', (m) => missed.push(m));
    c.connect();
    await c.subscribe(['feed']);

    const total = 1500;
    let published = 0;
    const publisher = (async () => {
      for (let i = 1; i <= total; i++) {
        await call(srv, '/api/publish', { topic: 'feed', data: { t: 'tick', p: { i } } });
        published = i;
      }
    })();
    // Publications made while the client was away: the replays must bring them.
    let away = 0;
    let closedAt = 0;
    c.on('close', () => { closedAt = published; });
    c.on('ready', () => { if (closedAt > 0) away += published - closedAt; });
    for (const [at, code] of [[300, 4300], [700, 4429], [1100, 4408]] as const) {
      await waitFor(`${at} published`, () => published >= at);
      await waitFor('connected', () => c.state === ConnectionState.CONNECTED);
      await call(srv, '/api/disconnect', { conn_id: c.connectionId, code });
      await waitFor('the drop to be seen', () => c.state !== ConnectionState.CONNECTED);
    }
    await publisher;
    await waitFor(`all ${total} offsets`, () => offsets.length >= total, 30_000);
    expect(offsets.length).toBe(total);
    expect(offsets).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(missed).toEqual([]);
    expect(c.stats.connects).toBe(4);
    expect(away).toBeGreaterThan(0);
    expect(c.stats.recoveryRequests).toBeGreaterThanOrEqual(4);
  });

  it('surfaces recovered:false as missed data when the buffer no longer holds what was missed', async () => {
    const srv = await startServer(['--recovery', '--client-subscriptions', 'any', '--recovery-buffer-size', '16']);
    const c = client(srv, { reconnection: { baseDelay: 2500, maxDelay: 2500, jitter: false } });
    const offsets: number[] = [];
    c.messageProcessor.registerHandler('tick', (m) => offsets.push(m.o!));
    const missed: MissedData[] = [];
    c.on('missedData', (m) => missed.push(m));
    c.connect();
    await c.subscribe(['feed']);
    await call(srv, '/api/publish', { topic: 'feed', data: { t: 'tick', p: {} } });
    await waitFor('offset 1', () => offsets.length === 1);
    await call(srv, '/api/disconnect', { conn_id: c.connectionId, code: 4300 });
    await waitFor('away', () => c.state === ConnectionState.RECONNECTING);
    await Promise.all(Array.from({ length: 40 }, () => call(srv, '/api/publish', { topic: 'feed', data: { t: 'tick', p: {} } })));
    await waitFor('back', () => c.state === ConnectionState.CONNECTED && c.subscription('feed')?.state === 'subscribed');
    expect(missed.length).toBe(1);
    expect(missed[0]!.from.offset).toBe(1);
    expect(missed[0]!.to.offset).toBe(41);
    await call(srv, '/api/publish', { topic: 'feed', data: { t: 'tick', p: {} } });
    await waitFor('live again', () => offsets.at(-1) === 42);
    expect(offsets).toEqual([1, 42]);
  });

  it('refreshes the token after 4401 and reconnects (first-message auth)', async () => {
    const srv = await startServer(['--jwt-secret', SECRET, '--auth-first-message']);
    let refreshed = 0;
    const c = client(srv, {
      token: 'not-a-valid-token',
      refreshAuthToken: async () => {
        refreshed++;
        return (await call(srv, '/api/token', { sub: 'alice', ttl_s: 60 })).token as string;
      },
    });
    const closes: number[] = [];
    c.on('close', (e) => closes.push(e.code));
    const ready = collect(c, 'server_ready');
    c.connect();
    await waitFor('connected', () => c.state === ConnectionState.CONNECTED);
    expect(closes).toEqual([4401]);
    expect(refreshed).toBe(1);
    expect(ready.at(-1)!.p.details.user_id).toBe('alice');
  });

  it('stops in error on 4401 without refreshAuthToken, and for good on 4403', async () => {
    const srv = await startServer(['--jwt-secret', SECRET, '--auth-first-message']);
    const bad = client(srv, { token: 'bad' });
    bad.connect();
    await waitFor('error state', () => bad.state === ConnectionState.ERROR);

    const token = (await call(srv, '/api/token', { sub: 'bob', ttl_s: 60 })).token as string;
    const c = client(srv, { webSocketOptions: { headers: { Cookie: `access_token=${token}` } } });
    c.connect();
    await waitFor('connected with the cookie', () => c.state === ConnectionState.CONNECTED);
    await call(srv, '/api/disconnect', { conn_id: c.connectionId, code: 4403, reason: 'kicked' });
    await waitFor('error state after 4403', () => c.state === ConnectionState.ERROR);
    await new Promise((r) => setTimeout(r, 300));
    expect(c.stats.connects).toBe(1);
    expect(c.stats.reconnectAttempts).toBe(0);
  });

  it('disconnects and reconnects cleanly while a socket is still connecting', async () => {
    const srv = await startServer();
    const c = client(srv);
    c.connect();
    c.reconnect(); // drops the connecting socket
    c.disconnect();
    c.connect();
    await waitFor('connected', () => c.state === ConnectionState.CONNECTED);
    c.disconnect();
    expect(c.state).toBe(ConnectionState.DISCONNECTED);
    await new Promise((r) => setTimeout(r, 100)); // the dropped sockets' errors, if any, come now
  });

  it('fails over to the next endpoint', async () => {
    const srv = await startServer();
    const dead = await startServer();
    await dead.stop();
    const c = client([dead.ws, srv.ws]);
    c.connect();
    await waitFor('connected to the live endpoint', () => c.state === ConnectionState.CONNECTED);
    expect(c.stats.endpoint).toBe(srv.ws);
  });

  it('encrypts end to end: everything after the key exchange is sealed', async () => {
    const srv = await startServer(['--recovery', '--client-subscriptions', 'any']);
    const sent: (string | Uint8Array)[] = [];
    class Recording extends WebSocket {
      override send(data: any, ...rest: any[]): void {
        sent.push(data);
        (super.send as any)(data, ...rest);
      }
    }
    const c = client(srv, { encryption: true, WebSocket: Recording as unknown as WebSocketConstructor, heartbeatInterval: 200 });
    const got = collect(c, 'secret_tick');
    c.connect();
    await c.subscribe(['vault']);
    expect(c.stats.encrypted).toBe(true);
    await call(srv, '/api/publish', { topic: 'vault', data: { t: 'secret_tick', p: { n: 1 } } });
    await call(srv, '/api/send', { conn_id: c.connectionId, event: true, data: { t: 'secret_tick', p: { n: 2, pad: 'x'.repeat(2000) } } });
    await waitFor('both sealed messages', () => got.length === 2);
    expect(got.map((m) => m.p.n)).toEqual([1, 2]);
    c.send('chat', { text: 'sealed' });
    await waitFor('the server to decrypt the message', async () => {
      const { events } = await call(srv, '/api/events?max=100');
      return events.some((e: any) => e.type === 'msg' && e.data.t === 'chat' && e.data.p.text === 'sealed');
    });
    await waitFor('a sealed ping', () => sent.length >= 4);
    const hello = sent.findIndex((f) => typeof f === 'string' && f.includes('"client_hello"'));
    expect(hello).toBeGreaterThanOrEqual(0);
    const after = sent.slice(hello + 1);
    expect(after.length).toBeGreaterThanOrEqual(3);
    for (const f of after) {
      expect(typeof f).not.toBe('string');
      expect(Buffer.from(f as Uint8Array).subarray(0, 2).toString()).toBe('E:');
    }
  });

  it('stops rather than continue in plaintext when the server cannot encrypt, unless told otherwise', async () => {
    const srv = await startServer(['--encryption=false']);
    const strict = client(srv, { encryption: true });
    const errors: string[] = [];
    strict.on('error', (e) => errors.push(e.code));
    strict.connect();
    await waitFor('error state', () => strict.state === ConnectionState.ERROR);
    expect(errors).toContain('KEY_EXCHANGE_FAILED');
    expect(strict.stats.connects).toBe(0);

    const lax = client(srv, { encryption: true, requireEncryption: false });
    lax.connect();
    await waitFor('connected in plaintext', () => lax.state === ConnectionState.CONNECTED);
    expect(lax.stats.encrypted).toBe(false);
  });

  it('inflates C: frames and decodes MessagePack frames', async () => {
    const srv = await startServer(['--compression-threshold', '256']);
    const c = client(srv);
    const got = collect(c, 'report');
    c.connect();
    await waitFor('connected', () => c.state === ConnectionState.CONNECTED);
    const big = 'y'.repeat(50_000);
    await call(srv, '/api/send', { conn_id: c.connectionId, event: true, data: { t: 'report', p: { big } } });
    await waitFor('the compressed event', () => got.length === 1);
    expect(got[0]!.p.big).toBe(big);
    expect(c.stats.bytesReceived).toBeLessThan(5_000);

    const m = client(srv, { format: 'msgpack' });
    const mgot = collect(m, 'report');
    m.connect();
    await waitFor('msgpack client connected', () => m.state === ConnectionState.CONNECTED);
    await call(srv, '/api/send', { conn_id: m.connectionId, event: true, data: { t: 'report', p: { n: 7, list: [1, 'a', null] } } });
    await waitFor('the MessagePack event', () => mgot.length === 1);
    expect(mgot[0]!.p).toEqual({ n: 7, list: [1, 'a', null] });
    expect(typeof mgot[0]!.seq).toBe('number');
  });

  it('tracks presence joins and leaves', async () => {
    const srv = await startServer(['--presence', '--client-subscriptions', 'any']);
    const a = client(srv);
    const b = client(srv);
    a.connect();
    b.connect();
    await a.subscribe(['room'], { presence: { name: 'A' } });
    await b.subscribe(['room'], { presence: { name: 'B' } });
    await waitFor('A to see B', () => a.presence('room').snapshot().some((m) => m.data.name === 'B'));
    b.disconnect();
    await waitFor('A to see B leave', () => !a.presence('room').snapshot().some((m) => m.data.name === 'B'));
    expect(a.presence('room').snapshot().map((m) => m.data.name)).toEqual(['A']);
  });
});
