/**
 * Public types of the client: messages, positions, subscription results,
 * stats and the configuration.
 *
 * @module
 */
import type { ReconnectionConfig } from './backoff.js';

/**
 * A message from the server, as its JSON object: `t` the type, `p` the
 * payload, `c` the category, `id`/`ts` identity and time, and on topic
 * publications of a server with recovery the stamp `tp` (topic), `e`
 * (epoch) and `o` (offset).
 */
export interface WSEMessage {
  /** Message type: the key handlers are registered under. */
  t: string;
  /** Payload. */
  p?: any;
  /** Category: `WSE` protocol, `S` snapshot, `U` update. */
  c?: string;
  /** Unique id (UUIDv7 from wse-server). */
  id?: string;
  /** ISO-8601 time the server created the message. */
  ts?: string;
  /** Topic of a stamped publication. */
  tp?: string;
  /** Epoch of the topic's recovery buffer (8 hex digits). */
  e?: string;
  /** Offset of the publication in its epoch (1, 2, 3, …). */
  o?: number;
  /** Sequence number of `send_event` messages. */
  seq?: number;
  /** Protocol version (1). */
  v?: number;
  /** Any other field the application added. */
  [key: string]: unknown;
}

/** A position in a topic's stream: its epoch and the last offset processed. */
export interface StreamPosition {
  /** Epoch (8 hex digits); empty when not known yet. */
  epoch: string;
  /** Last offset processed (0 = nothing yet). */
  offset: number;
}

/** One topic refused by the server, with the reason (`FORBIDDEN`, `INVALID_TOPIC`, `LIMIT`). */
export interface RefusedTopic {
  /** The topic asked for. */
  topic: string;
  /** Why it was refused. */
  code: string;
}

/** The server's answer for one recovered topic. */
export interface RecoveryResult {
  /** Current epoch of the topic. */
  epoch: string;
  /** Last offset that exists (inclusive): the client's new position. */
  offset: number;
  /** Whether everything missed was replayed. */
  recovered: boolean;
  /** How many messages were replayed. */
  count?: number;
}

/** What a `subscribe` call resolves to once the server replied. */
export interface SubscribeResult {
  /** Topics the server granted. */
  granted: string[];
  /** Topics the server refused, with reasons. */
  refused: RefusedTopic[];
  /** Topics without a reply yet (timeout, or the client stopped); they stay requested unless stopped for good. */
  pending: string[];
}

/** What an `unsubscribe` call resolves to. */
export interface UnsubscribeResult {
  /** Topics left. */
  unsubscribed: string[];
  /** Topics without a confirmation (timeout, or the client stopped). */
  pending: string[];
}

/** Options of one `subscribe` call. */
export interface SubscribeOptions {
  /** Ask the server to replay what was missed from the last known position. Default true (when the server recovers). */
  recover?: boolean;
  /** Presence data to join the topics with (server started with presence). */
  presence?: Record<string, unknown>;
}

/** The connection's state. */
export const ConnectionState = {
  /** Created, no token yet or not started. */
  PENDING: 'pending',
  /** Opening a WebSocket or waiting for `server_ready`. */
  CONNECTING: 'connecting',
  /** Ready: `server_ready` received, subscriptions sent. */
  CONNECTED: 'connected',
  /** Lost the connection; waiting to retry. */
  RECONNECTING: 'reconnecting',
  /** Stopped: closed by the application or the server said stop (1000/1001). */
  DISCONNECTED: 'disconnected',
  /** Stopped for an error: refused (4403), authentication failed for good, or retries exhausted. */
  ERROR: 'error',
} as const;

/** One of the {@link ConnectionState} values. */
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** Connection statistics. Counters start at 0 when the client is created. */
export interface ConnectionStats {
  /** Messages handed to the application. */
  messagesReceived: number;
  /** Messages written to the socket (pings included). */
  messagesSent: number;
  /** Frames received, before decoding. */
  framesReceived: number;
  /** Bytes received (UTF-16 length of text frames, byte length of binary frames). */
  bytesReceived: number;
  /** Stamped messages dropped because their offset was already processed, and unstamped ones with a repeated id. */
  duplicatesDropped: number;
  /** Gaps in offsets seen while connected. */
  gapsDetected: number;
  /** Recovery requests sent (on reconnect and on gaps). */
  recoveryRequests: number;
  /** Times the server said it could not replay what was missed. */
  missedData: number;
  /** Frames that could not be decoded (bad JSON, bad `C:`/`M:`/`E:` frame). */
  decodeErrors: number;
  /** Connections made (server_ready received). */
  connects: number;
  /** Reconnect attempts made. */
  reconnectAttempts: number;
  /** PONG answers received to the client's own pings. */
  pongsReceived: number;
  /** Round trip of the last ping, in ms (0 before the first PONG). */
  latency: number;
  /** Mean round trip, in ms. */
  avgLatency: number;
  /** Smallest round trip seen, in ms. */
  minLatency: number;
  /** Largest round trip seen, in ms. */
  maxLatency: number;
  /** The endpoint in use (or last used). */
  endpoint: string;
  /** The server's id for the current connection. */
  connectionId: string;
  /** Whether the current connection is end-to-end encrypted. */
  encrypted: boolean;
  /** When the current connection became ready (ms since epoch; 0 when not connected). */
  connectedAt: number;
}

/** What `server_ready` told about the server. */
export interface ServerFeatures {
  /** The server compresses large `send_event` frames (`C:`). */
  compression?: boolean;
  /** The server stamps publications and replays missed ones (`--recovery`). */
  recovery?: boolean;
  /** The server tracks presence (`--presence`). */
  presence?: boolean;
  /** The server is part of a cluster. */
  cluster?: boolean;
  /** End-to-end encryption can be negotiated. */
  encryption?: boolean;
  /** `format=msgpack` is understood. */
  msgpack?: boolean;
  /** Features of other servers. */
  [key: string]: unknown;
}

/** The WebSocket constructor the client uses: the browser's, Node 22's, or the `ws` package's. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: { data: any }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: any) => void) | null;
  send(data: string | ArrayBufferLike | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** A constructor of {@link WebSocketLike}; the third argument is passed through (the `ws` package reads headers from it). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: any) => WebSocketLike;

/**
 * How the client authenticates. `'cookie'`: the browser sends its cookie
 * with the upgrade. Any other string: a JWT, sent as the first message
 * (`{"t":"auth","p":{"token":…}}`; server flag `--auth-first-message`),
 * since browsers cannot set headers on a WebSocket. `undefined`: do not
 * connect.
 */
export type TokenMode = 'cookie' | string | undefined;

/** Configuration of a {@link WSEClient}. Every field but `endpoints` is optional. */
export interface WSEClientConfig {
  /** WebSocket URLs (`ws://host/wse`), tried in order; on failure the next one is used. */
  endpoints: string[];
  /** Token mode; see {@link TokenMode}. Default `'cookie'`. */
  token?: TokenMode;
  /**
   * Called after the server closed with 4401 (authentication failed). It
   * may refresh the cookie (and return nothing) or return a new JWT. The
   * client then reconnects; when it throws, the client stops in `error`.
   */
  refreshAuthToken?: () => Promise<string | void> | string | void;
  /** Reconnect policy (jittered exponential backoff). */
  reconnection?: ReconnectionConfig;
  /** Ask for end-to-end encryption (ECDH P-256, AES-256-GCM) when the server offers it. Default false. */
  encryption?: boolean;
  /** Fail instead of continuing in plaintext when encryption was asked for but the server cannot. Default true. */
  requireEncryption?: boolean;
  /** Ask the server for MessagePack `send_event` frames. Default `'json'`. */
  format?: 'json' | 'msgpack';
  /** Track positions and recover missed messages when the server supports it. Default true. */
  recovery?: boolean;
  /** Interval of the client's own pings, in ms. Default 15000. */
  heartbeatInterval?: number;
  /** Reconnect when nothing arrives for this long, in ms. Default 45000. */
  heartbeatTimeout?: number;
  /** Time allowed from opening the socket to `server_ready` (and `server_hello` when encrypting), in ms. Default 10000. */
  handshakeTimeout?: number;
  /** How long a subscribe/unsubscribe waits for the server's reply, in ms. Default 10000. */
  subscribeTimeout?: number;
  /** How long a recovery request may go unanswered before a later gap asks again, in ms. Default 10000. */
  recoveryTimeout?: number;
  /** Largest decompressed `C:` frame, in bytes. Default 1 MiB. */
  maxMessageSize?: number;
  /** Bytes of received frames allowed to wait for inflating or decrypting; past it the client reconnects (and recovers). Default 64 MiB. */
  maxPendingBytes?: number;
  /** Bytes of messages `send` keeps while disconnected, sent after reconnecting (0 = none). Default 1 MiB. */
  offlineQueueBytes?: number;
  /** The WebSocket constructor; default `globalThis.WebSocket`. Node 20 has none: pass the `ws` package's. */
  WebSocket?: WebSocketConstructor;
  /** Third argument for the WebSocket constructor (for `ws` in Node: `{ headers: { Cookie: … } }`). */
  webSocketOptions?: unknown;
  /** Extra query parameters for the upgrade URL. */
  query?: Record<string, string>;
  /** Random source for backoff jitter, [0, 1). Default Math.random. */
  random?: () => number;
}
