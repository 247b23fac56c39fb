// @vitest-environment jsdom
import { act, cleanup, render, renderHook, screen, waitFor as rtlWaitFor } from '@testing-library/react';
import { StrictMode, useContext, useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WSEProvider as AppProvider } from './app/WSEProvider.js';
import { setEndpoint } from './app/wse/config.js';
import { received } from './app/wse/handlers/index.js';
import * as barrel from './app/wse/index.js';
import { usePresence, useTopic, useWSE, WSEContext, WSEProvider, type WSEMessage } from './app/wse/index.js';
import { call, startServer } from './helpers.js';

(globalThis as any).__testWebSocket = WebSocket;
afterEach(() => cleanup());

const until = (fn: () => void) => rtlWaitFor(fn, { timeout: 20_000, interval: 20 });

function Status() {
  const wse = useContext(WSEContext);
  return (
    <div>
      <span data-testid="state">{wse?.connectionState}</span>
      <span data-testid="topics">{wse?.activeTopics.join(',')}</span>
    </div>
  );
}

describe('React hooks', () => {
  it('the barrel re-exports the whole package', () => {
    for (const name of ['useWSE', 'usePresence', 'useTopic', 'WSEContext', 'WSEProvider', 'WSEClient', 'MessageProcessor', 'ConnectionState', 'CloseCode']) {
      expect(barrel).toHaveProperty(name);
    }
  });

  it("returns every field of the original hook's result", () => {
    const { result } = renderHook(() => useWSE(undefined, [], { endpoints: ['ws://127.0.0.1:1/wse'] }));
    const wse = result.current;
    for (const fn of ['subscribe', 'unsubscribe', 'forceReconnect', 'changeEndpoint', 'sendMessage', 'sendBatch', 'setCompression',
      'downloadDiagnostics', 'clearOfflineQueue', 'getQueueSize', 'requestSnapshot', 'debugHandlers'] as const) {
      expect(typeof wse[fn]).toBe('function');
    }
    expect(wse.connectionState).toBe('pending');
    expect(wse.connectionHealth).toBe('disconnected');
    expect(wse.activeTopics).toEqual([]);
    expect(wse.stats.messagesReceived).toBe(0);
    expect(wse.diagnostics.state).toBe('pending');
    // Not connected (token undefined): messages wait in the bounded offline queue.
    expect(wse.sendMessage('x', {})).toBe(true);
    expect(wse.getQueueSize()).toBe(1);
    wse.clearOfflineQueue();
    expect(wse.getQueueSize()).toBe(0);
  });

  it("runs the integration guide's provider: cookie token, default topics, registerAllHandlers", async () => {
    const srv = await startServer(['--recovery', '--client-subscriptions', 'any']);
    setEndpoint(srv.ws);
    function App() {
      const [auth, setAuth] = useState(false);
      return (
        <AppProvider isAuthenticated={auth}>
          <button onClick={() => setAuth((a) => !a)}>toggle</button>
          <Status />
        </AppProvider>
      );
    }
    render(<StrictMode><App /></StrictMode>);
    // Not authenticated: token undefined, no connection.
    expect(screen.getByTestId('state').textContent).toBe('pending');
    await new Promise((r) => setTimeout(r, 200));
    expect((await call(srv, '/api/connections')).count).toBe(0);

    act(() => screen.getByText('toggle').click());
    await until(() => expect(screen.getByTestId('state').textContent).toBe('connected'));
    await until(() => expect(screen.getByTestId('topics').textContent).toBe('broker_events,account_events,market_data'));
    expect((await call(srv, '/api/connections')).count).toBe(1);

    await call(srv, '/api/publish', { topic: 'market_data', data: { t: 'quote_update', p: { sym: 'ACME', px: 101.25 } } });
    await until(() => expect(received).toContainEqual({ type: 'quote_update', p: { sym: 'ACME', px: 101.25 } }));

    act(() => screen.getByText('toggle').click());
    await until(() => expect(screen.getByTestId('state').textContent).toBe('disconnected'));
    await until(async () => expect((await call(srv, '/api/connections')).count).toBe(0));
  });

  it('useTopic delivers a topic to its component and usePresence lists the members', async () => {
    const srv = await startServer(['--recovery', '--presence', '--client-subscriptions', 'any']);
    const config = { endpoints: [srv.ws], WebSocket: WebSocket as any };

    function Chat({ name }: { name: string }) {
      const [lines, setLines] = useState<string[]>([]);
      // A new handler each render must not resubscribe.
      const { subscribed } = useTopic('chat:lobby', (m: WSEMessage) => setLines((l) => [...l, `${m.p.from}: ${m.p.text}`]));
      const { members } = usePresence('chat:lobby', { data: { name } });
      return (
        <div>
          <span data-testid={`sub-${name}`}>{String(subscribed)}</span>
          <span data-testid={`members-${name}`}>{members.map((m) => m.data.name as string).sort().join(',')}</span>
          <span data-testid={`lines-${name}`}>{lines.join('|')}</span>
        </div>
      );
    }
    function Tab({ name }: { name: string }) {
      return (
        <WSEProvider token="cookie" config={config}>
          <Chat name={name} />
        </WSEProvider>
      );
    }
    const ann = render(<Tab name="ann" />);
    await until(() => expect(screen.getByTestId('sub-ann').textContent).toBe('true'));
    const bob = render(<Tab name="bob" />);
    await until(() => expect(screen.getByTestId('members-ann').textContent).toBe('ann,bob'));
    // The server announces changes only; the app sends a newcomer the current list (GET /api/presence/{topic}).
    await until(() => expect(screen.getByTestId('members-bob').textContent).toBe('bob'));
    const list = await call(srv, '/api/presence/chat:lobby');
    for (const conn_id of (await call(srv, '/api/connections')).connections) {
      await call(srv, '/api/send', { conn_id, data: { t: 'presence_snapshot', p: list } });
    }
    await until(() => expect(screen.getByTestId('members-bob').textContent).toBe('ann,bob'));

    await call(srv, '/api/publish', { topic: 'chat:lobby', data: { t: 'chat_message', p: { from: 'bob', text: 'hi' } } });
    await until(() => expect(screen.getByTestId('lines-ann').textContent).toBe('bob: hi'));
    await until(() => expect(screen.getByTestId('lines-bob').textContent).toBe('bob: hi'));

    bob.unmount();
    await until(() => expect(screen.getByTestId('members-ann').textContent).toBe('ann'));
    ann.unmount();
    await until(async () => expect((await call(srv, '/api/connections')).count).toBe(0));
  });
});

it('runs on the React major this project aliases', async () => {
  const { version } = await import('react');
  expect(['18', '19']).toContain(version.split('.')[0]);
  console.log(`React ${version}`);
});

it('hooks outside a WSEContext provider use the client of the useWSE rendered above them, also in StrictMode', async () => {
  const srv = await startServer(['--recovery', '--client-subscriptions', 'any']);
  function Lines() {
    const [lines, setLines] = useState<string[]>([]);
    useTopic('news', (m: WSEMessage) => setLines((l) => [...l, m.p.text]));
    return <span data-testid="news">{lines.join('|')}</span>;
  }
  function App() {
    useWSE('cookie', [], { endpoints: [srv.ws], WebSocket: WebSocket as any });
    return <Lines />;
  }
  render(<StrictMode><App /></StrictMode>);
  await until(async () => expect((await call(srv, '/api/topics/news')).subscribers).toBe(1));
  await call(srv, '/api/publish', { topic: 'news', data: { t: 'headline', p: { text: 'hello' } } });
  await until(() => expect(screen.getByTestId('news').textContent).toBe('hello'));
});
