/**
 * React hooks for `wse-client` (React 18 and 19): `useWSE` owns one client
 * per component (put it in a provider, as in the integration guide),
 * `usePresence` and `useTopic` read that client from {@link WSEContext}.
 * External state is read with useSyncExternalStore, so renders never tear;
 * callbacks are kept in refs, so a new function each render does not
 * resubscribe.
 *
 * @module
 */
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import { WSEClient, type MissedData, type SendOptions } from '../client.js';
import type { MessageProcessor } from '../message_processor.js';
import type { PresenceMember, TopicPresence } from '../presence.js';
import {
  ConnectionState,
  type ConnectionStats,
  type RefusedTopic,
  type SubscribeOptions,
  type WSEClientConfig,
  type WSEMessage,
} from '../types.js';

/**
 * Configuration of {@link useWSE}: every {@link WSEClientConfig} field
 * (all optional here), plus the React-side ones of the original package.
 * Fields are read when the hook first runs, except `refreshAuthToken` and
 * `onMissedData` (always the latest) and `endpoints` (used from the next
 * connection attempt when they change).
 */
export interface UseWSEConfig extends Partial<Omit<WSEClientConfig, 'token'>> {
  /** Registers the app's handlers once, on the new client's message processor (the guide's `registerAllHandlers`). */
  registerHandlers?: (messageProcessor: MessageProcessor) => void;
  /** Called when a topic's messages were lost for good (the server could not replay them). */
  onMissedData?: (missed: MissedData) => void;
  /** The original package's security block; `encryptionEnabled` is read as `encryption`. */
  security?: { encryptionEnabled?: boolean; [key: string]: unknown };
  /** Accepted for compatibility with the original package; not used. */
  queryClient?: unknown;
  /** Accepted for compatibility with the original package; not used. */
  criticalHandlers?: unknown;
  /** Accepted for compatibility with the original package; not used. */
  eventThrottleMs?: number;
  /** Accepted for compatibility with the original package; not used. */
  performance?: Record<string, unknown>;
  /** Accepted for compatibility with the original package; not used. */
  offline?: Record<string, unknown>;
  /** Accepted for compatibility with the original package; not used. */
  diagnostics?: Record<string, unknown>;
}

/** A coarse health grade from the state and the last ping round trip. */
export type ConnectionHealth = 'excellent' | 'good' | 'fair' | 'poor' | 'disconnected';

/** What {@link useWSE} returns. The object is the same between renders until something in it changes. */
export interface UseWSEResult {
  /** The client itself. */
  client: WSEClient;
  /** Connection state. */
  connectionState: ConnectionState;
  /** Whether the connection is ready. */
  isConnected: boolean;
  /** Topics the server granted. */
  activeTopics: readonly string[];
  /** Topics the server refused, with reasons. */
  refusedTopics: readonly RefusedTopic[];
  /** Health grade. */
  connectionHealth: ConnectionHealth;
  /** Statistics, refreshed whenever the state, the topics or the latency change. */
  stats: ConnectionStats;
  /** Handlers by message type. */
  messageProcessor: MessageProcessor;
  /** Subscribes to topics (kept across reconnects). */
  subscribe: (topics: string[], options?: SubscribeOptions) => void;
  /** Leaves topics. */
  unsubscribe: (topics: string[]) => void;
  /** Sends `{t: type, p: payload}`; false when neither sent nor queued. */
  sendMessage: (type: string, payload?: unknown, options?: SendOptions) => boolean;
  /** Drops the connection and connects again now. */
  forceReconnect: () => void;
  /** Switches to another endpoint. */
  changeEndpoint: (url: string) => void;
  /** Sends several messages in one `batch` frame. */
  sendBatch: (messages: { type: string; payload?: unknown }[], options?: SendOptions) => boolean;
  /** Asks the application for snapshots (`sync_request` with `include_snapshots`) of topics (default: the active ones). */
  requestSnapshot: (topics?: string[]) => boolean;
  /** Accepted for compatibility: the server decides compression; the client sends JSON text. */
  setCompression: (enabled: boolean) => void;
  /** State, statistics, topics and registered handler types, for a bug report. */
  diagnostics: WSEDiagnostics;
  /** In a browser, downloads {@link UseWSEResult.diagnostics} as a JSON file. */
  downloadDiagnostics: () => void;
  /** The message types with registered handlers. */
  debugHandlers: () => string[];
  /** Messages waiting for a connection. */
  getQueueSize: () => number;
  /** Drops the messages waiting for a connection. */
  clearOfflineQueue: () => void;
}

/** What {@link UseWSEResult.diagnostics} holds. */
export interface WSEDiagnostics {
  /** Connection state. */
  state: ConnectionState;
  /** Statistics. */
  stats: ConnectionStats;
  /** Topics the server granted. */
  activeTopics: readonly string[];
  /** Topics the server refused. */
  refusedTopics: readonly RefusedTopic[];
  /** Message types with handlers. */
  handlers: string[];
  /** Messages waiting for a connection. */
  queuedMessages: number;
}

/** The context the provider fills with {@link useWSE}'s result; {@link usePresence} and {@link useTopic} read it. */
export const WSEContext = createContext<UseWSEResult | null>(null);

/** The client of the most recently created useWSE, for hooks rendered outside a WSEContext provider. */
let defaultClient: WSEClient | null = null;

/** defaultEndpoints is `ws(s)://<this host>/wse` in a browser. */
function defaultEndpoints(): string[] {
  const loc = (globalThis as { location?: Location }).location;
  if (!loc) throw new Error('wse: useWSE needs config.endpoints outside a browser');
  return [`${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/wse`];
}

/** Topics held per client by hooks, so that two components on one topic do not unsubscribe each other. */
const holds = new WeakMap<WSEClient, Map<string, number>>();

function retain(client: WSEClient, topics: string[], options?: SubscribeOptions): void {
  let m = holds.get(client);
  if (!m) {
    m = new Map();
    holds.set(client, m);
  }
  const fresh: string[] = [];
  for (const t of topics) {
    const n = m.get(t) ?? 0;
    m.set(t, n + 1);
    if (n === 0 || options?.presence) fresh.push(t);
  }
  if (fresh.length > 0) void client.subscribe(fresh, options);
}

function release(client: WSEClient, topics: string[]): void {
  const m = holds.get(client);
  if (!m) return;
  const gone: string[] = [];
  for (const t of topics) {
    const n = (m.get(t) ?? 0) - 1;
    if (n <= 0) {
      m.delete(t);
      gone.push(t);
    } else {
      m.set(t, n);
    }
  }
  if (gone.length > 0) void client.unsubscribe(gone);
}

function health(state: ConnectionState, latency: number): ConnectionHealth {
  if (state !== ConnectionState.CONNECTED) return 'disconnected';
  if (latency === 0 || latency < 100) return 'excellent';
  if (latency < 300) return 'good';
  if (latency < 1000) return 'fair';
  return 'poor';
}

/**
 * useWSE creates a client, connects while `token` is defined (`'cookie'`
 * for HttpOnly-cookie auth, a JWT string for first-message auth, undefined
 * = not connected), keeps `initialTopics` subscribed, and disconnects on
 * unmount.
 */
export function useWSE(token?: string, initialTopics?: string[], config?: UseWSEConfig): UseWSEResult {
  const cfgRef = useRef(config);
  cfgRef.current = config;
  const [client] = useState(() => {
    const c = config ?? {};
    const { registerHandlers, onMissedData: _m, security, queryClient: _q, criticalHandlers: _h, eventThrottleMs: _e,
      performance: _p, offline: _o, diagnostics: _d, ...rest } = c;
    const made = new WSEClient({
      ...rest,
      endpoints: c.endpoints && c.endpoints.length > 0 ? c.endpoints : defaultEndpoints(),
      token,
      encryption: c.encryption ?? security?.encryptionEnabled ?? false,
      refreshAuthToken: () => {
        const refresh = cfgRef.current?.refreshAuthToken;
        if (!refresh) throw new Error('no refreshAuthToken in the config');
        return refresh();
      },
    });
    registerHandlers?.(made.messageProcessor);
    return made;
  });
  // Set while rendering (not in the initializer, which StrictMode runs twice
  // and whose second result React drops), so that children rendered after
  // this component see the client React keeps.
  defaultClient = client;

  const endpointsKey = (config?.endpoints ?? []).join('\n');
  useEffect(() => {
    const e = cfgRef.current?.endpoints;
    if (e && e.length > 0) client.setEndpoints(e);
  }, [client, endpointsKey]);

  useEffect(() => client.on('missedData', (m) => cfgRef.current?.onMissedData?.(m)), [client]);

  useEffect(() => {
    if (token === undefined) return;
    client.setToken(token);
    client.connect();
    return () => client.disconnect();
  }, [client, token]);

  const topicsKey = (initialTopics ?? []).join('\n');
  useEffect(() => {
    const topics = topicsKey === '' ? [] : topicsKey.split('\n');
    if (topics.length === 0) return;
    retain(client, topics);
    return () => release(client, topics);
  }, [client, topicsKey]);

  const snap = useSyncExternalStore(client.subscribeSnapshot, client.getSnapshot, client.getSnapshot);
  return useMemo<UseWSEResult>(() => {
    const stats = client.stats;
    const diagnostics: WSEDiagnostics = {
      state: snap.state, stats, activeTopics: snap.activeTopics, refusedTopics: snap.refusedTopics,
      handlers: client.messageProcessor.getRegisteredTypes(), queuedMessages: client.queuedMessages,
    };
    return {
      client,
      connectionState: snap.state,
      isConnected: snap.state === ConnectionState.CONNECTED,
      activeTopics: snap.activeTopics,
      refusedTopics: snap.refusedTopics,
      connectionHealth: health(snap.state, snap.latency),
      stats,
      messageProcessor: client.messageProcessor,
      subscribe: (topics, options) => { void client.subscribe(topics, options); },
      unsubscribe: (topics) => { void client.unsubscribe(topics); },
      sendMessage: (type, payload, options) => client.send(type, payload, options),
      forceReconnect: () => client.reconnect(),
      changeEndpoint: (url) => client.changeEndpoint(url),
      sendBatch: (messages, options) => client.sendBatch(messages, options),
      requestSnapshot: (topics) => client.send('sync_request', {
        topics: topics ?? [...snap.activeTopics], include_snapshots: true, include_history: false, last_sequence: 0,
      }),
      setCompression: () => undefined,
      diagnostics,
      downloadDiagnostics: () => downloadJSON(`wse-diagnostics-${Date.now()}.json`, diagnostics),
      debugHandlers: () => client.messageProcessor.getRegisteredTypes(),
      getQueueSize: () => client.queuedMessages,
      clearOfflineQueue: () => client.clearOfflineQueue(),
    };
  }, [client, snap]);
}

/** downloadJSON saves a value as a JSON file in a browser; elsewhere it does nothing. */
function downloadJSON(name: string, value: unknown): void {
  const doc = (globalThis as { document?: Document }).document;
  if (!doc || typeof URL.createObjectURL !== 'function') return;
  const url = URL.createObjectURL(new Blob([JSON.stringify(value, null, 2)], { type: 'application/json' }));
  const a = doc.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

/** Props of {@link WSEProvider}: the arguments of {@link useWSE}. */
export interface WSEProviderProps {
  /** Token mode (see useWSE). */
  token?: string;
  /** Topics to keep subscribed. */
  topics?: string[];
  /** Client configuration. */
  config?: UseWSEConfig;
  /** The app. */
  children?: ReactNode;
}

/** WSEProvider runs {@link useWSE} and puts its result into {@link WSEContext} for the components below. */
export function WSEProvider(props: WSEProviderProps): ReactNode {
  const wse = useWSE(props.token, props.topics, props.config);
  return createElement(WSEContext.Provider, { value: wse }, props.children);
}

/** useWSEContext returns the provider's useWSE result; it throws outside a provider. */
export function useWSEContext(): UseWSEResult {
  const v = useContext(WSEContext);
  if (!v) throw new Error('wse: useWSEContext must be used inside a WSEContext provider');
  return v;
}

function useClient(explicit?: WSEClient): WSEClient {
  const ctx = useContext(WSEContext);
  const c = explicit ?? ctx?.client ?? defaultClient;
  if (!c) throw new Error('wse: no client: render inside a WSEContext provider, or pass options.client');
  return c;
}

/** Options of {@link usePresence}. */
export interface UsePresenceOptions {
  /** Join the topic with this data (subscribes with presence). Without it the hook only watches. */
  data?: Record<string, unknown>;
  /** The client to use instead of the context's. */
  client?: WSEClient;
}

/** What {@link usePresence} returns. */
export interface UsePresenceResult {
  /** Members known to be present (see {@link TopicPresence} for what "known" means). */
  members: readonly PresenceMember[];
  /** Number of members. */
  count: number;
  /** The topic's presence object (reset it with a list loaded elsewhere). */
  presence: TopicPresence;
}

/** usePresence returns the members of a topic and re-renders on presence_join, presence_leave and presence_update. */
export function usePresence(topic: string, options: UsePresenceOptions = {}): UsePresenceResult {
  const client = useClient(options.client);
  const tp = client.presence(topic);
  const dataKey = options.data === undefined ? '' : JSON.stringify(options.data);
  useEffect(() => {
    if (dataKey === '') return;
    const data = JSON.parse(dataKey) as Record<string, unknown>;
    retain(client, [topic], { presence: data });
    return () => release(client, [topic]);
  }, [client, topic, dataKey]);
  const subscribe = useCallback((fn: () => void) => tp.subscribe(fn), [tp]);
  const snapshot = useCallback(() => tp.snapshot(), [tp]);
  const members = useSyncExternalStore(subscribe, snapshot, snapshot);
  return { members, count: members.length, presence: tp };
}

/** Options of {@link useTopic}. */
export interface UseTopicOptions extends SubscribeOptions {
  /** The client to use instead of the context's. */
  client?: WSEClient;
}

/** What {@link useTopic} returns. */
export interface UseTopicResult {
  /** Whether the server granted the topic. */
  subscribed: boolean;
  /** The refusal code when the server refused it, else ''. */
  refusedCode: string;
}

/**
 * useTopic keeps a topic subscribed while the component is mounted and
 * calls handler with each of its messages: publications stamped with this
 * topic (`tp`, on servers with recovery) and unstamped application
 * messages whose payload names it (`p.topic`); protocol messages (`c` =
 * `WSE`) and presence messages are not passed.
 */
export function useTopic(topic: string, handler: (message: WSEMessage) => void, options: UseTopicOptions = {}): UseTopicResult {
  const client = useClient(options.client);
  const ref = useRef(handler);
  useEffect(() => {
    ref.current = handler;
  });
  const recover = options.recover;
  useEffect(() => {
    retain(client, [topic], recover === undefined ? undefined : { recover });
    const off = client.on('message', (m) => {
      if (m.tp === topic || (m.tp === undefined && m.c !== 'WSE' && !m.t.startsWith('presence_') && (m.p as { topic?: unknown } | undefined)?.topic === topic)) ref.current(m);
    });
    return () => {
      off();
      release(client, [topic]);
    };
  }, [client, topic, recover]);
  const snap = useSyncExternalStore(client.subscribeSnapshot, client.getSnapshot, client.getSnapshot);
  const refused = snap.refusedTopics.find((r) => r.topic === topic);
  return { subscribed: snap.activeTopics.includes(topic), refusedCode: refused?.code ?? '' };
}
