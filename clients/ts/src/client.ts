/**
 * WSEClient: the connection state machine of the client.
 *
 * One client keeps one WebSocket to one of its endpoints. It waits for
 * `server_ready`, sends `client_hello` (with its ECDH key when encrypting,
 * then waits for `server_hello`), subscribes to every wanted topic with its
 * recovery position, answers server pings and sends its own, and on a lost
 * connection reconnects with jittered exponential backoff as the close code
 * says (see {@link closeAction}). Frames are handled strictly in arrival
 * order, also when some of them need asynchronous work (inflating `C:`,
 * opening `E:`).
 *
 * All methods are meant to be called from one thread (the browser's main
 * thread or one Node event loop); listeners and handlers run synchronously
 * inside the socket's message callback and should not block.
 *
 * @module
 */
import { backoffDelay, exhausted, resolveReconnection, type ResolvedReconnection } from './backoff.js';
import { decodeBinary, encodeText, isPublication, normalize, parseJSON, type DecodedFrame } from './codec.js';
import { ClientCloseCode, CloseCode, closeAction, ErrorCode, WSEError } from './codes.js';
import { E2ESession, KeyExchange } from './crypto.js';
import { Emitter } from './emitter.js';
import { MessageProcessor } from './message_processor.js';
import { TopicPresence, type PresenceChange } from './presence.js';
import { IdWindow, Subscription, type Publication, type TrackerContext, type TrackerSink } from './subscription.js';
import { openWebSocket, resolveWebSocket, type Transport } from './transport_websocket.js';
import {
  ConnectionState,
  type ConnectionStats,
  type RecoveryResult,
  type RefusedTopic,
  type ServerFeatures,
  type StreamPosition,
  type SubscribeOptions,
  type SubscribeResult,
  type TokenMode,
  type UnsubscribeResult,
  type WSEClientConfig,
  type WSEMessage,
} from './types.js';

/** The client version sent in the upgrade URL and `client_hello`. */
export const CLIENT_VERSION = '0.1.0';
/** Protocol version this client speaks. */
export const PROTOCOL_VERSION = 1;

const DEFAULTS = {
  heartbeatInterval: 15_000,
  heartbeatTimeout: 45_000,
  handshakeTimeout: 10_000,
  subscribeTimeout: 10_000,
  recoveryTimeout: 10_000,
  maxMessageSize: 1 << 20,
  offlineQueueBytes: 1 << 20,
  maxPendingBytes: 64 << 20,
};
/** Consecutive 4401 closes after which the client stops trying. */
const MAX_AUTH_RETRIES = 3;

/** Offsets a topic will never deliver: from `from` (exclusive) to `to` (inclusive). */
export interface MissedData {
  /** The topic. */
  topic: string;
  /** The last position delivered before the loss. */
  from: StreamPosition;
  /** The position the stream continues after. */
  to: StreamPosition;
}

/** A close of the socket, as the client saw it. */
export interface CloseInfo {
  /** Close code (1006 for a network loss). */
  code: number;
  /** Close reason. */
  reason: string;
  /** Whether the client will reconnect. */
  willReconnect: boolean;
}

/** The client's events and their listener signatures. */
export interface WSEClientEvents {
  /** The connection state changed. */
  state: (state: ConnectionState, previous: ConnectionState) => void;
  /** The connection is ready (after `server_ready`, and `server_hello` when encrypting). */
  ready: (info: { connectionId: string; endpoint: string; features: ServerFeatures }) => void;
  /** The socket closed. */
  close: (info: CloseInfo) => void;
  /** Every message handed to the application, in order (after the message processor's handlers). */
  message: (message: WSEMessage) => void;
  /** A binary frame that is not a WSE message (the server's `send_bytes`). */
  binary: (data: Uint8Array) => void;
  /** Messages of a topic that will never arrive: the server could not replay them. */
  missedData: (missed: MissedData) => void;
  /** A topic's presence changed. */
  presence: (change: PresenceChange) => void;
  /** The server sent an `error`, or a frame could not be decoded. */
  error: (error: WSEError) => void;
  /** The snapshot (state, topics, latency) changed. */
  change: () => void;
}

/** An immutable view of the client for renderers, replaced whenever something in it changes. */
export interface ClientSnapshot {
  /** Connection state. */
  state: ConnectionState;
  /** Topics the server granted. */
  activeTopics: readonly string[];
  /** Topics the server refused, with reasons. */
  refusedTopics: readonly RefusedTopic[];
  /** The server's id of the current connection ('' when not connected). */
  connectionId: string;
  /** Last ping round trip, in ms. */
  latency: number;
  /** Whether the connection is end-to-end encrypted. */
  encrypted: boolean;
  /** Endpoint in use. */
  endpoint: string;
}

/** Options of {@link WSEClient.send}. */
export interface SendOptions {
  /** Correlation id, sent as `cid`. */
  correlationId?: string;
  /** The original package's name for `correlationId`. */
  correlation_id?: string;
  /** Send only if connected now (no offline queue). Default false. */
  noQueue?: boolean;
  /** The original package's switch: `offline: false` = `noQueue: true`. */
  offline?: boolean;
  /** Accepted for compatibility (messages go out in call order); sent as `pri` when set. */
  priority?: number;
}

/** The server's verdict on one topic of a request, or 'pending' when none came. */
interface Verdict {
  topic: string;
  status: 'granted' | 'refused' | 'pending';
  code: string;
}

interface Waiter {
  unsubscribe: boolean;
  done: (status: Verdict['status'], code: string) => void;
}

function randomId(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  if (c?.getRandomValues) c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** category returns the `c` of a message the client sends. */
function category(type: string): string {
  if (type === 'client_hello' || type === 'subscription_update' || type === 'ping' || type === 'PONG') return 'WSE';
  if (type === 'sync_request' || type.startsWith('request_')) return 'S';
  return 'U';
}

function newStats(): ConnectionStats {
  return {
    messagesReceived: 0, messagesSent: 0, framesReceived: 0, bytesReceived: 0,
    duplicatesDropped: 0, gapsDetected: 0, recoveryRequests: 0, missedData: 0, decodeErrors: 0,
    connects: 0, reconnectAttempts: 0, pongsReceived: 0,
    latency: 0, avgLatency: 0, minLatency: 0, maxLatency: 0,
    endpoint: '', connectionId: '', encrypted: false, connectedAt: 0,
  };
}

/**
 * WSEClient connects to a WSE server and keeps the connection, its
 * subscriptions and their positions alive. Construct it, register handlers
 * on {@link WSEClient.messageProcessor}, then call {@link WSEClient.connect}.
 */
export class WSEClient extends Emitter<WSEClientEvents> {
  /** Handlers by message type. */
  readonly messageProcessor = new MessageProcessor();

  private readonly config: WSEClientConfig;
  private readonly policy: ResolvedReconnection;
  private endpoints: string[];
  private token: TokenMode;
  private _state: ConnectionState = ConnectionState.PENDING;
  private readonly _stats = newStats();
  private latencyTotal = 0;
  private latencyCount = 0;
  private _features: ServerFeatures = {};
  private snap: ClientSnapshot;

  // Connection.
  private gen = 0;
  private transport: Transport | undefined;
  private endpointIndex = 0;
  private attempts = 0;
  private authFailures = 0;
  private stopped = true;
  private ready = false;
  private readyOnce = false;
  private recoverable = false;
  private session: E2ESession | undefined;
  private kx: KeyExchange | undefined;
  private lastReceived = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;

  // Ordering of asynchronous frame work, and of sealed output.
  private chain: Promise<void> = Promise.resolve();
  private asyncPending = 0;
  private pendingBytes = 0;
  private outChain: Promise<void> = Promise.resolve();

  // Topics.
  private readonly subs = new Map<string, Subscription>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly presences = new Map<string, TopicPresence>();
  private readonly ids = new IdWindow();
  private readonly ctx: TrackerContext;

  // Messages sent while disconnected.
  private offline: string[] = [];
  private offlineBytes = 0;

  /** Creates a client; it does not connect until {@link WSEClient.connect}. */
  constructor(config: WSEClientConfig) {
    super();
    if (!config.endpoints || config.endpoints.length === 0) throw new Error('wse: config.endpoints is empty');
    this.config = { ...config };
    this.endpoints = [...config.endpoints];
    this.token = 'token' in config ? config.token : 'cookie';
    this.policy = resolveReconnection(config.reconnection);
    this.snap = this.buildSnapshot();
    const sink: TrackerSink = {
      deliver: (_sub, pub) => this.deliver(pub),
      duplicate: () => { this._stats.duplicatesDropped++; },
      missed: (sub, from, to) => {
        this._stats.missedData++;
        this.emit('missedData', { topic: sub.topic, from, to });
      },
      recover: (sub, from) => this.askRecovery(sub, from),
      gap: () => { this._stats.gapsDetected++; },
    };
    this.ctx = { recoverable: false, now: 0, timeout: config.recoveryTimeout ?? DEFAULTS.recoveryTimeout, sink };
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this._state;
  }

  /** Whether the connection is ready. */
  get isConnected(): boolean {
    return this._state === ConnectionState.CONNECTED;
  }

  /** A copy of the statistics. */
  get stats(): ConnectionStats {
    return { ...this._stats };
  }

  /** What the server's `server_ready` advertised. */
  get features(): ServerFeatures {
    return this._features;
  }

  /** The server's id for the current connection ('' when not connected). */
  get connectionId(): string {
    return this._stats.connectionId;
  }

  /** getSnapshot returns the current snapshot; the same object until something in it changes. */
  getSnapshot = (): ClientSnapshot => this.snap;

  /** subscribeSnapshot calls fn whenever the snapshot changes; it returns the function that stops it. */
  subscribeSnapshot = (fn: () => void): (() => void) => this.on('change', fn);

  /**
   * connect starts connecting (and keeps reconnecting). It does nothing when
   * the token is undefined or the client is already running.
   */
  connect(): void {
    if (this.token === undefined || !this.stopped) return;
    this.stopped = false;
    this.attempts = 0;
    this.authFailures = 0;
    globalThis.addEventListener?.('online', this.onOnline);
    this.open();
  }

  /** onOnline skips the rest of a backoff wait when the browser reports the network back. */
  private readonly onOnline = (): void => {
    if (this.stopped || this._state !== ConnectionState.RECONNECTING || this.reconnectTimer === undefined) return;
    this.clearReconnect();
    this.open();
  };

  /** disconnect closes the connection for good (code 1000) and stops reconnecting. Waiting subscribe calls resolve with their topics `pending`. */
  disconnect(): void {
    this.stopped = true;
    this.clearReconnect();
    globalThis.removeEventListener?.('online', this.onOnline);
    const t = this.transport;
    this.teardown();
    if (t) {
      t.detach();
      t.close(CloseCode.Normal, 'client disconnect');
    }
    this.settleWaiters();
    this.setState(ConnectionState.DISCONNECTED);
  }

  /** reconnect drops the current connection and connects again now (to the same endpoint). */
  reconnect(): void {
    if (this.token === undefined) return;
    this.clearReconnect();
    this.stopped = false;
    this.attempts = 0;
    const t = this.transport;
    this.teardown();
    if (t) {
      t.detach();
      t.close(ClientCloseCode.Reconnect, 'client reconnect');
    }
    this.open();
  }

  /**
   * setToken changes the token mode. `undefined` disconnects; another value
   * is used from the next connection on (and connects if stopped).
   */
  setToken(token: TokenMode): void {
    if (token === this.token) return;
    this.token = token;
    if (token === undefined) this.disconnect();
    else if (this.stopped) this.connect();
    else this.reconnect();
  }

  /** changeEndpoint puts url first in the endpoint list and reconnects to it. */
  changeEndpoint(url: string): void {
    this.endpoints = [url, ...this.endpoints.filter((e) => e !== url)];
    this.endpointIndex = 0;
    if (!this.stopped) this.reconnect();
  }

  /** setEndpoints replaces the endpoint list, used from the next connection attempt on. */
  setEndpoints(endpoints: string[]): void {
    if (endpoints.length === 0) throw new Error('wse: endpoints is empty');
    this.endpoints = [...endpoints];
    this.endpointIndex %= this.endpoints.length;
  }

  /**
   * subscribe asks the server for topics and resolves with what it granted
   * and refused. The topics stay wanted across reconnects (with recovery
   * from their last position) until unsubscribed; called while disconnected,
   * the request goes out on the next connection. Topics without a reply
   * within `subscribeTimeout`, or when the client stopped, are listed in
   * `pending` (and stay requested). It never rejects.
   */
  subscribe(topics: string[], options: SubscribeOptions = {}): Promise<SubscribeResult> {
    const list = [...new Set(topics)].filter((t) => typeof t === 'string' && t.length > 0);
    const subs = list.map((t) => {
      const sub = this.ensure(t);
      sub.wanted = true;
      sub.recover = options.recover ?? true;
      if (options.presence) sub.presence = options.presence;
      if (sub.state === 'refused') sub.state = 'unsubscribed';
      return sub;
    });
    const result = this.waitAll(list, false).then((rs) => {
      const out: SubscribeResult = { granted: [], refused: [], pending: [] };
      for (const r of rs) {
        if (r.status === 'granted') out.granted.push(r.topic);
        else if (r.status === 'refused') out.refused.push({ topic: r.topic, code: r.code });
        else out.pending.push(r.topic);
      }
      return out;
    });
    if (this.ready) this.sendSubscribe(subs, options.presence);
    this.changed();
    return result;
  }

  /** unsubscribe leaves topics and resolves once the server confirmed (at once when not connected). */
  unsubscribe(topics: string[]): Promise<UnsubscribeResult> {
    const list = [...new Set(topics)];
    for (const t of list) {
      const sub = this.subs.get(t);
      if (!sub) continue;
      sub.wanted = false;
      sub.presence = undefined;
    }
    if (!this.ready) {
      for (const t of list) this.subs.get(t)?.forget();
      this.changed();
      return Promise.resolve({ unsubscribed: list, pending: [] });
    }
    const result = this.waitAll(list, true).then((rs) => ({
      unsubscribed: rs.filter((r) => r.status !== 'pending').map((r) => r.topic),
      pending: rs.filter((r) => r.status === 'pending').map((r) => r.topic),
    }));
    this.write(JSON.stringify({ c: 'WSE', t: 'subscription_update', p: { action: 'unsubscribe', topics: list }, v: 1 }));
    return result;
  }

  /** subscription returns the state object of a topic, if the client knows it. */
  subscription(topic: string): Subscription | undefined {
    return this.subs.get(topic);
  }

  /** presence returns the member list of a topic (created empty when new). */
  presence(topic: string): TopicPresence {
    let p = this.presences.get(topic);
    if (!p) {
      p = new TopicPresence(topic);
      this.presences.set(topic, p);
    }
    return p;
  }

  /**
   * send sends an application message `{c, t, p, id, ts, v}`. While not
   * connected it is queued (bounded by `offlineQueueBytes`) and sent after
   * reconnecting. It returns false when the message was neither sent nor
   * queued.
   */
  send(type: string, payload: unknown = {}, options: SendOptions = {}): boolean {
    const msg: Record<string, unknown> = { c: category(type), t: type, p: payload, id: randomId(), ts: new Date().toISOString(), v: 1 };
    const cid = options.correlationId ?? options.correlation_id;
    if (cid) msg.cid = cid;
    if (options.priority !== undefined) msg.pri = options.priority;
    const text = JSON.stringify(msg);
    if (this.ready) {
      this.write(text);
      return true;
    }
    const limit = this.config.offlineQueueBytes ?? DEFAULTS.offlineQueueBytes;
    if (options.noQueue || options.offline === false || this.offlineBytes + text.length > limit) return false;
    this.offline.push(text);
    this.offlineBytes += text.length;
    return true;
  }

  /**
   * sendBatch sends several messages in one `batch` frame
   * (`{"t":"batch","p":{"messages":[{t, p, id, ts}, …]}}`), which the
   * server hands to the application as one message each. Queued like
   * {@link WSEClient.send} while disconnected.
   */
  sendBatch(messages: { type: string; payload?: unknown }[], options: SendOptions = {}): boolean {
    const ts = new Date().toISOString();
    const entries = messages.map((m) => ({ t: m.type, p: m.payload ?? {}, id: randomId(), ts }));
    return this.send('batch', { messages: entries }, options);
  }

  /** queuedMessages is the number of messages waiting for a connection. */
  get queuedMessages(): number {
    return this.offline.length;
  }

  /** clearOfflineQueue drops the messages waiting for a connection. */
  clearOfflineQueue(): void {
    this.offline = [];
    this.offlineBytes = 0;
  }

  // ---- connection ---------------------------------------------------------

  private open(): void {
    this.setState(ConnectionState.CONNECTING);
    const endpoint = this.endpoints[this.endpointIndex % this.endpoints.length]!;
    this._stats.endpoint = endpoint;
    const g = ++this.gen;
    this.chain = Promise.resolve();
    this.outChain = Promise.resolve();
    this.asyncPending = 0;
    this.pendingBytes = 0;
    let transport: Transport;
    try {
      const ctor = resolveWebSocket(this.config.WebSocket);
      transport = openWebSocket(this.url(endpoint), ctor, this.config.webSocketOptions, {
        open: () => this.onOpen(g),
        message: (d) => this.onFrame(g, d),
        close: (code, reason) => this.onClose(g, code, reason),
      });
    } catch (err) {
      this.emit('error', new WSEError('CONNECT_FAILED', `wse: cannot open ${endpoint}: ${(err as Error).message}`));
      this.failover();
      this.scheduleReconnect();
      return;
    }
    this.transport = transport;
    this.handshakeTimer = setTimeout(() => {
      if (g === this.gen) this.drop(ClientCloseCode.HandshakeTimeout, 'handshake timeout');
    }, this.config.handshakeTimeout ?? DEFAULTS.handshakeTimeout);
  }

  private url(endpoint: string): string {
    const u = new URL(endpoint);
    const q = u.searchParams;
    q.set('client_version', CLIENT_VERSION);
    q.set('protocol_version', String(PROTOCOL_VERSION));
    q.set('compression', 'true');
    q.set('encryption', String(!!this.config.encryption));
    if (this.config.format === 'msgpack') q.set('format', 'msgpack');
    for (const [k, v] of Object.entries(this.config.query ?? {})) q.set(k, v);
    return u.toString();
  }

  private onOpen(g: number): void {
    if (g !== this.gen) return;
    this.lastReceived = Date.now();
    if (this.token !== undefined && this.token !== 'cookie') {
      this.transport?.send(JSON.stringify({ t: 'auth', p: { token: this.token } }));
    }
    const every = this.config.heartbeatInterval ?? DEFAULTS.heartbeatInterval;
    const timeout = this.config.heartbeatTimeout ?? DEFAULTS.heartbeatTimeout;
    this.heartbeatTimer = setInterval(() => {
      if (g !== this.gen) return;
      if (Date.now() - this.lastReceived > timeout) {
        this.drop(ClientCloseCode.HeartbeatTimeout, 'heartbeat timeout');
        return;
      }
      this.write(JSON.stringify({ c: 'WSE', t: 'ping', p: { timestamp: Date.now() }, v: 1 }));
    }, every);
  }

  private onClose(g: number, code: number, reason: string): void {
    if (g !== this.gen) return;
    const wasReady = this.ready;
    this.teardown();
    if (this.stopped) {
      this.emit('close', { code, reason, willReconnect: false });
      this.setState(ConnectionState.DISCONNECTED);
      return;
    }
    const action = closeAction(code);
    if (action === 'stop') {
      this.emit('close', { code, reason, willReconnect: false });
      this.stopFor(code === CloseCode.Forbidden ? new WSEError(ErrorCode.Forbidden, `wse: closed by the server: ${code} ${reason}`) : undefined);
      return;
    }
    if (action === 'refresh') {
      const retry = !!this.config.refreshAuthToken && this.authFailures < MAX_AUTH_RETRIES;
      this.emit('close', { code, reason, willReconnect: retry });
      void this.refreshAndRetry();
      return;
    }
    this.emit('close', { code, reason, willReconnect: true });
    if (!wasReady || code === CloseCode.Drain) this.failover();
    this.scheduleReconnect();
  }

  /** drop closes a connection the client gave up on and reconnects. */
  private drop(code: number, reason: string): void {
    const t = this.transport;
    const wasReady = this.ready;
    this.teardown();
    if (t) {
      t.detach();
      t.close(code, reason);
    }
    this.emit('close', { code, reason, willReconnect: true });
    if (!wasReady) this.failover();
    this.scheduleReconnect();
  }

  private failover(): void {
    this.endpointIndex = (this.endpointIndex + 1) % this.endpoints.length;
  }

  /** teardown forgets the current connection: timers, transport, key, pending recovery. */
  private teardown(): void {
    this.gen++;
    clearTimeout(this.handshakeTimer);
    clearInterval(this.heartbeatTimer);
    this.handshakeTimer = this.heartbeatTimer = undefined;
    this.transport = undefined;
    this.session = undefined;
    this.kx = undefined;
    this.ready = false;
    this._stats.connectionId = '';
    this._stats.encrypted = false;
    this._stats.connectedAt = 0;
    for (const sub of this.subs.values()) sub.reset();
    this.changed();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    if (exhausted(this.attempts, this.policy)) {
      this.stopFor(new WSEError('RECONNECT_FAILED', `wse: gave up after ${this.attempts} attempts`));
      return;
    }
    const delay = backoffDelay(this.attempts, this.policy, this.config.random);
    this.attempts++;
    this._stats.reconnectAttempts++;
    this.setState(ConnectionState.RECONNECTING);
    this.clearReconnect();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopped) this.open();
    }, delay);
  }

  private clearReconnect(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  private async refreshAndRetry(): Promise<void> {
    this.authFailures++;
    const refresh = this.config.refreshAuthToken;
    if (!refresh || this.authFailures > MAX_AUTH_RETRIES) {
      this.stopFor(new WSEError(ErrorCode.AuthFailed, 'wse: authentication failed (4401)'));
      return;
    }
    this.setState(ConnectionState.RECONNECTING);
    const g = this.gen;
    try {
      const t = await refresh();
      if (typeof t === 'string' && t.length > 0) this.token = t;
    } catch (err) {
      this.stopFor(new WSEError(ErrorCode.AuthFailed, `wse: token refresh failed: ${(err as Error)?.message ?? err}`));
      return;
    }
    if (this.stopped || g !== this.gen) return;
    if (this.authFailures === 1) this.open();
    else this.scheduleReconnect();
  }

  private stopFor(err: WSEError | undefined): void {
    this.stopped = true;
    this.clearReconnect();
    globalThis.removeEventListener?.('online', this.onOnline);
    if (err) this.emit('error', err);
    this.settleWaiters();
    this.setState(err ? ConnectionState.ERROR : ConnectionState.DISCONNECTED);
  }

  private setState(s: ConnectionState): void {
    if (s === this._state) return;
    const prev = this._state;
    this._state = s;
    this.emit('state', s, prev);
    this.changed();
  }

  // ---- inbound --------------------------------------------------------------

  private onFrame(g: number, data: string | Uint8Array): void {
    if (g !== this.gen) return;
    this.lastReceived = Date.now();
    this._stats.framesReceived++;
    this._stats.bytesReceived += typeof data === 'string' ? data.length : data.byteLength;
    if (this.asyncPending === 0 && typeof data === 'string') {
      const r = this.handleText(data);
      if (r) this.track(r, 0);
      return;
    }
    const size = typeof data === 'string' ? data.length : data.byteLength;
    if (this.pendingBytes + size > (this.config.maxPendingBytes ?? DEFAULTS.maxPendingBytes)) {
      // Frames arrive faster than they can be inflated or decrypted: start
      // over and let recovery bring what this connection would have queued.
      this.drop(ClientCloseCode.Overloaded, 'client overloaded');
      return;
    }
    // Start opening a sealed frame now, so that Web Crypto works on several
    // frames at once; they are still handled one by one, in order.
    let opened: Promise<Uint8Array> | undefined;
    const s = this.session;
    if (s && typeof data !== 'string' && data.length > 2 && data[0] === 0x45 && data[1] === 0x3a) {
      opened = s.open(data);
      opened.catch(() => undefined); // reported when its turn comes
    }
    this.track(this.chain.then(() => (g === this.gen ? this.handleFrame(data, opened) : undefined)), size);
  }

  /** track makes later frames wait for p, so frames are handled in arrival order; size is what p holds. */
  private track(p: Promise<void>, size: number): void {
    this.asyncPending++;
    this.pendingBytes += size;
    const g = this.gen;
    this.chain = p
      .catch((err: unknown) => { if (g === this.gen) this.decodeError(err); })
      .finally(() => {
        if (g !== this.gen) return;
        this.asyncPending--;
        this.pendingBytes -= size;
      });
  }

  /** handleFrame decodes and handles one queued frame; `opened` is its decryption when it was started on arrival. */
  private async handleFrame(data: string | Uint8Array, opened?: Promise<Uint8Array>): Promise<void> {
    if (typeof data === 'string') return this.handleText(data);
    const s = this.session;
    let d: DecodedFrame;
    try {
      d = await decodeBinary(data, {
        maxSize: this.config.maxMessageSize ?? DEFAULTS.maxMessageSize,
        decrypt: opened ? () => opened : s ? (f) => s.open(f) : undefined,
      });
    } catch (err) {
      this.decodeError(err);
      return;
    }
    if (d.kind === 'text') return this.handleText(d.text);
    if (d.kind === 'message') return this.handleMessage(d.message, data.byteLength);
    this._stats.messagesReceived++;
    this.emit('binary', d.data);
  }

  private decodeError(err: unknown): void {
    this._stats.decodeErrors++;
    this.emit('error', new WSEError(ErrorCode.InvalidMessage, `wse: cannot decode frame: ${(err as Error)?.message ?? err}`));
  }

  private handleText(text: string): Promise<void> | void {
    const v = parseJSON(text);
    if (isPublication(v)) {
      // A publication counts for its position even without a type.
      if (typeof v.t !== 'string') v.t = '';
      this.onPublication(v, text.length);
      return;
    }
    const m = normalize(v);
    if (!m) {
      this.decodeError(new Error('not a JSON message'));
      return;
    }
    return this.handleMessage(m, text.length);
  }

  private handleMessage(m: WSEMessage, size: number): Promise<void> | void {
    if (isPublication(m)) {
      this.onPublication(m, size);
      return;
    }
    const p = (m.p ?? {}) as Record<string, any>;
    switch (m.t) {
      case 'server_ready':
        return this.onServerReady(m, p);
      case 'server_hello':
        return this.onServerHello(p);
      case 'ping':
        this.write(JSON.stringify({ c: 'WSE', t: 'PONG', p: { client_timestamp: Date.now(), server_timestamp: p.server_time ?? p.timestamp }, v: 1 }));
        return;
      case 'PONG':
      case 'pong':
        this.onPong(p);
        return;
      case 'subscription_update':
        this.onSubscriptionReply(p);
        break;
      case 'error':
        this.onServerError(p);
        break;
      case 'presence_join':
      case 'presence_leave':
      case 'presence_update':
        this.onPresence(m.t, p);
        break;
      case 'presence_snapshot':
        this.onPresenceSnapshot(p);
        break;
      case 'batch':
        if (Array.isArray(p.messages)) {
          for (const e of p.messages) {
            const n = normalize(e);
            if (n) this.handleMessage(n, 0);
          }
        }
        return;
    }
    if (typeof m.id === 'string' && !this.ids.add(m.id)) {
      this._stats.duplicatesDropped++;
      return;
    }
    this.deliver(m);
  }

  private deliver(m: WSEMessage): void {
    this._stats.messagesReceived++;
    this.messageProcessor.process(m);
    this.emit('message', m);
  }

  private onPublication(pub: Publication, size: number): void {
    const ctx = this.ctx;
    ctx.now = this.lastReceived;
    this.ensure(pub.tp).accept(pub, size, ctx);
  }

  private async onServerReady(m: WSEMessage, p: Record<string, any>): Promise<void> {
    const details = (p.details ?? {}) as Record<string, any>;
    this._features = (details.features ?? {}) as ServerFeatures;
    this._stats.connectionId = String(details.connection_id ?? '');
    this.recoverable = (this.config.recovery ?? true) && this._features.recovery === true;
    this.ctx.recoverable = this.recoverable;
    this.deliverProtocol(m);
    const g = this.gen;
    const hello: Record<string, unknown> = {
      client_version: CLIENT_VERSION,
      protocol_version: PROTOCOL_VERSION,
      features: { compression: true, encryption: false, batching: false, recovery: this.recoverable },
    };
    if (this.config.encryption) {
      let kx: KeyExchange | undefined;
      let why = 'the server does not offer encryption';
      if (this._features.encryption) {
        try {
          kx = await KeyExchange.create();
        } catch (err) {
          why = (err as Error)?.message ?? String(err); // no Web Crypto here (an insecure page)
        }
      }
      if (g !== this.gen) return;
      if (kx) {
        this.kx = kx;
        hello.features = { ...(hello.features as object), encryption: true };
        hello.encryption_public_key = kx.publicKey;
        this.transport?.send(JSON.stringify({ c: 'WSE', t: 'client_hello', p: hello, id: randomId(), ts: new Date().toISOString(), v: 1 }));
        return; // ready once server_hello brings the server's key
      }
      if (this.config.requireEncryption ?? true) {
        this.failEncryption(why.startsWith('wse: ') ? why : `wse: ${why}`);
        return;
      }
    }
    this.transport?.send(JSON.stringify({ c: 'WSE', t: 'client_hello', p: hello, id: randomId(), ts: new Date().toISOString(), v: 1 }));
    this.becomeReady();
  }

  private async onServerHello(p: Record<string, any>): Promise<void> {
    const kx = this.kx;
    if (!kx) return;
    this.kx = undefined;
    const key = p.encryption_public_key;
    if (typeof key !== 'string' || key === '') {
      if (this.config.requireEncryption ?? true) this.failEncryption('wse: the server did not accept the encryption key');
      else this.becomeReady();
      return;
    }
    const g = this.gen;
    let session: E2ESession;
    try {
      session = await kx.complete(key);
    } catch (err) {
      if (g === this.gen) this.failEncryption(`wse: cannot use the server's encryption key: ${(err as Error)?.message ?? err}`);
      return;
    }
    if (g !== this.gen) return;
    this.session = session;
    this._stats.encrypted = true;
    this.becomeReady();
  }

  private failEncryption(message: string): void {
    const t = this.transport;
    this.teardown();
    if (t) {
      t.detach();
      t.close(CloseCode.Normal, 'encryption unavailable');
    }
    this.stopFor(new WSEError(ErrorCode.KeyExchangeFailed, message));
  }

  private becomeReady(): void {
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.ready = true;
    this.attempts = 0;
    this.authFailures = 0;
    this._stats.connects++;
    this._stats.connectedAt = Date.now();
    this.setState(ConnectionState.CONNECTED);
    this.emit('ready', { connectionId: this._stats.connectionId, endpoint: this._stats.endpoint, features: this._features });
    this.resubscribe();
    const queued = this.offline;
    this.offline = [];
    this.offlineBytes = 0;
    for (const text of queued) this.write(text);
  }

  private deliverProtocol(m: WSEMessage): void {
    if (this.messageProcessor.hasHandler(m.t)) this.messageProcessor.process(m);
  }

  private onPong(p: Record<string, any>): void {
    const sent = Number(p.client_timestamp);
    if (!Number.isFinite(sent) || sent <= 0) return;
    const rtt = Math.max(0, Date.now() - sent);
    const s = this._stats;
    s.pongsReceived++;
    s.latency = rtt;
    this.latencyTotal += rtt;
    this.latencyCount++;
    s.avgLatency = this.latencyTotal / this.latencyCount;
    s.minLatency = this.latencyCount === 1 ? rtt : Math.min(s.minLatency, rtt);
    s.maxLatency = Math.max(s.maxLatency, rtt);
    this.changed();
  }

  private onServerError(p: Record<string, any>): void {
    const code = String(p.code ?? ErrorCode.ServerError);
    if (code === ErrorCode.KeyExchangeFailed && this.kx) {
      this.kx = undefined;
      if (this.config.requireEncryption ?? true) this.failEncryption('wse: the server refused the encryption key');
      else this.becomeReady();
    }
    this.emit('error', new WSEError(code, String(p.message ?? code)));
  }

  private onPresence(type: string, p: Record<string, any>): void {
    if (typeof p.topic !== 'string' || typeof p.user_id !== 'string') return;
    const action = type === 'presence_join' ? 'join' : type === 'presence_leave' ? 'leave' : 'update';
    const change = this.presence(p.topic).apply(action, p.user_id, (p.data ?? {}) as Record<string, unknown>);
    if (change) this.emit('presence', change);
  }

  /**
   * onPresenceSnapshot replaces a topic's member list from
   * `{"t":"presence_snapshot","p":{"topic","members":{user_id:{data}}}}`,
   * the shape of the control API's `GET /api/presence/{topic}`, so an
   * application can send a newcomer the members present before it joined.
   */
  private onPresenceSnapshot(p: Record<string, any>): void {
    if (typeof p.topic !== 'string' || p.members === null || typeof p.members !== 'object') return;
    const members = Object.entries(p.members as Record<string, { data?: Record<string, unknown> }>).map(([userId, m]) => ({
      userId,
      data: (m?.data ?? {}) as Record<string, unknown>,
    }));
    this.presence(p.topic).reset(members);
  }

  // ---- subscriptions --------------------------------------------------------

  private ensure(topic: string): Subscription {
    let sub = this.subs.get(topic);
    if (!sub) {
      sub = new Subscription(topic);
      this.subs.set(topic, sub);
    }
    return sub;
  }

  private resubscribe(): void {
    const plain: Subscription[] = [];
    const noRecover: Subscription[] = [];
    for (const sub of this.subs.values()) {
      if (!sub.wanted) continue;
      if (sub.presence) this.sendSubscribe([sub], sub.presence);
      else if (sub.recover) plain.push(sub);
      else noRecover.push(sub);
    }
    if (plain.length > 0) this.sendSubscribe(plain);
    if (noRecover.length > 0) this.sendSubscribe(noRecover);
  }

  private sendSubscribe(subs: Subscription[], presence?: Record<string, unknown>): void {
    if (subs.length === 0) return;
    const ctx = this.ctx;
    ctx.now = Date.now();
    const recovery: Record<string, StreamPosition> = {};
    let recover = false;
    for (const sub of subs) {
      const pos = sub.prepare(ctx);
      if (this.recoverable && sub.recover) recover = true;
      if (pos) recovery[sub.topic] = pos;
    }
    const p: Record<string, unknown> = { action: 'subscribe', topics: subs.map((s) => s.topic) };
    if (recover) {
      p.recover = true;
      p.recovery = recovery;
      this._stats.recoveryRequests++;
    }
    if (presence) p.presence = presence;
    this.write(JSON.stringify({ c: 'WSE', t: 'subscription_update', p, id: randomId(), v: 1 }));
  }

  private askRecovery(sub: Subscription, from: StreamPosition): void {
    if (!this.ready) return;
    this._stats.recoveryRequests++;
    this.write(JSON.stringify({
      c: 'WSE', t: 'subscription_update', id: randomId(), v: 1,
      p: { action: 'subscribe', topics: [sub.topic], recover: true, recovery: { [sub.topic]: from } },
    }));
  }

  private onSubscriptionReply(p: Record<string, any>): void {
    const ctx = this.ctx;
    ctx.now = Date.now();
    const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    if (p.action === 'unsubscribe') {
      const left = strings(p.unsubscribed_topics ?? p.success_topics);
      for (const t of left) {
        const sub = this.subs.get(t);
        if (sub && !sub.wanted) {
          sub.forget();
          this.presences.get(t)?.reset([]); // no presence messages come for a topic left
        }
        this.resolve(t, true, true, '');
      }
      this.changed();
      return;
    }
    const codes = (p.failed_codes ?? {}) as Record<string, string>;
    const failed: RefusedTopic[] = [];
    for (const f of Array.isArray(p.failed_topics) ? p.failed_topics : []) {
      if (typeof f === 'string') failed.push({ topic: f, code: String(codes[f] ?? ErrorCode.Forbidden) });
      else if (f && typeof f.topic === 'string') failed.push({ topic: f.topic, code: String(f.code ?? ErrorCode.Forbidden) });
    }
    const recovery = (p.recovery ?? {}) as Record<string, RecoveryResult>;
    const granted = p.success === false ? [] : strings(p.success_topics);
    for (const t of granted) {
      const sub = this.ensure(t);
      sub.state = 'subscribed';
      sub.refusedCode = '';
      const res = recovery[t];
      if (res) sub.settle(res, ctx);
      else sub.noPosition(ctx);
      this.resolve(t, false, true, '');
    }
    for (const f of failed) {
      const sub = this.ensure(f.topic);
      sub.state = 'refused';
      sub.refusedCode = f.code;
      sub.wanted = false;
      sub.noPosition(ctx);
      this.resolve(f.topic, false, false, f.code);
    }
    this.changed();
  }

  /**
   * waitAll waits for the server's verdict on each topic: 'granted',
   * 'refused' (with a code) or, when no reply came within subscribeTimeout
   * or the client stopped, 'pending'. It never rejects.
   */
  private waitAll(topics: string[], unsubscribe: boolean): Promise<Verdict[]> {
    const timeout = this.config.subscribeTimeout ?? DEFAULTS.subscribeTimeout;
    return Promise.all(topics.map((topic) => new Promise<Verdict>((resolve) => {
      const w: Waiter = {
        unsubscribe,
        done: (status, code) => {
          clearTimeout(timer);
          resolve({ topic, status, code });
        },
      };
      const timer = setTimeout(() => {
        const list = this.waiters.get(topic);
        if (list) this.waiters.set(topic, list.filter((x) => x !== w));
        resolve({ topic, status: 'pending', code: '' });
      }, timeout);
      const list = this.waiters.get(topic);
      if (list) list.push(w);
      else this.waiters.set(topic, [w]);
    })));
  }

  private resolve(topic: string, unsubscribe: boolean, granted: boolean, code: string): void {
    const list = this.waiters.get(topic);
    if (!list) return;
    const keep: Waiter[] = [];
    for (const w of list) {
      if (w.unsubscribe === unsubscribe) w.done(granted ? 'granted' : 'refused', code);
      else keep.push(w);
    }
    if (keep.length > 0) this.waiters.set(topic, keep);
    else this.waiters.delete(topic);
  }

  /** settleWaiters answers every waiting call with 'pending': the client stopped. */
  private settleWaiters(): void {
    const all = [...this.waiters.values()].flat();
    this.waiters.clear();
    for (const w of all) w.done('pending', '');
  }

  // ---- outbound -------------------------------------------------------------

  /** write sends a text message, sealed when the connection is encrypted; sealed frames keep their order. */
  private write(text: string): void {
    const t = this.transport;
    if (!t) return;
    this._stats.messagesSent++;
    const s = this.session;
    if (!s) {
      t.send(text);
      return;
    }
    const g = this.gen;
    this.outChain = this.outChain
      .then(() => s.seal(encodeText(text) as Uint8Array<ArrayBuffer>))
      .then((frame) => { if (g === this.gen) t.send(frame); })
      .catch((err: unknown) => this.emit('error', new WSEError('ENCRYPT_FAILED', `wse: cannot seal a message: ${(err as Error)?.message ?? err}`)));
  }

  // ---- snapshot -------------------------------------------------------------

  private changed(): void {
    const next = this.buildSnapshot();
    const cur = this.snap;
    if (next.state === cur.state && next.connectionId === cur.connectionId && next.latency === cur.latency &&
      next.encrypted === cur.encrypted && next.endpoint === cur.endpoint &&
      sameList(next.activeTopics, cur.activeTopics) && sameRefused(next.refusedTopics, cur.refusedTopics)) return;
    this.snap = next;
    this.emit('change');
  }

  private buildSnapshot(): ClientSnapshot {
    const active: string[] = [];
    const refused: RefusedTopic[] = [];
    for (const sub of this.subs.values()) {
      if (sub.state === 'subscribed') active.push(sub.topic);
      else if (sub.state === 'refused') refused.push({ topic: sub.topic, code: sub.refusedCode });
    }
    return Object.freeze({
      state: this._state,
      activeTopics: Object.freeze(active),
      refusedTopics: Object.freeze(refused),
      connectionId: this._stats.connectionId,
      latency: this._stats.latency,
      encrypted: this._stats.encrypted,
      endpoint: this._stats.endpoint,
    });
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameRefused(a: readonly RefusedTopic[], b: readonly RefusedTopic[]): boolean {
  return a.length === b.length && a.every((x, i) => x.topic === b[i]!.topic && x.code === b[i]!.code);
}
