/**
 * Close codes and error codes of the WSE protocol (PROTOCOL.md §8, §9), and
 * what the client does after each close. Wire numbers are append-only: never
 * renumber an entry.
 *
 * @module
 */

/** WebSocket close codes a WSE server sends, by name. */
export const CloseCode = {
  /** The client or the application closed normally: stop. */
  Normal: 1000,
  /** The server stopped for good: stop. */
  GoingAway: 1001,
  /** The connection ended without a close frame (network loss). */
  Abnormal: 1006,
  /** A message was larger than the server's limit: reconnect. */
  MessageTooBig: 1009,
  /** The server drains (rolling restart): reconnect, preferably elsewhere. */
  Drain: 4300,
  /** Authentication failed: refresh the token, then reconnect. */
  AuthFailed: 4401,
  /** The application refused this client: stop. */
  Forbidden: 4403,
  /** The server saw nothing from the client for its idle timeout: reconnect. */
  IdleTimeout: 4408,
  /** The client read too slowly (outbound queue over its limit): reconnect and recover. */
  SlowConsumer: 4429,
} as const;

/** Close codes this client uses for connections it drops itself. */
export const ClientCloseCode = {
  /** No `server_ready` (or `server_hello` when encrypting) within the handshake timeout. */
  HandshakeTimeout: 4000,
  /** Nothing received within the heartbeat timeout. */
  HeartbeatTimeout: 4001,
  /** The client switches endpoint or reconnects on request. */
  Reconnect: 4002,
  /** Frames waiting for asynchronous decoding passed `maxPendingBytes`. */
  Overloaded: 4003,
} as const;

/** What the client does after a close: stop, refresh the token first, or reconnect. */
export type CloseAction = 'stop' | 'refresh' | 'reconnect';

/**
 * closeAction returns what the client does after the server closed with
 * `code`: stop on 1000, 1001 and 4403; refresh the token and retry on 4401;
 * reconnect with backoff on anything else (4300, 4408, 4429, 1006 network
 * loss, 1009, 1011 …).
 */
export function closeAction(code: number): CloseAction {
  switch (code) {
    case CloseCode.Normal:
    case CloseCode.GoingAway:
    case CloseCode.Forbidden:
      return 'stop';
    case CloseCode.AuthFailed:
      return 'refresh';
    default:
      return 'reconnect';
  }
}

/** Error codes of `error` messages (PROTOCOL.md §9) and of refused subscriptions. */
export const ErrorCode = {
  /** No token came (cookie, header or first message); closed with 4401 next. */
  AuthRequired: 'AUTH_REQUIRED',
  /** The token was invalid or expired; closed with 4401 next. */
  AuthFailed: 'AUTH_FAILED',
  /** The client sent faster than its rate limit; the message was dropped (`retry_after`). */
  RateLimited: 'RATE_LIMITED',
  /** A message was larger than the server's limit; closed with 1009 next. */
  MessageTooLarge: 'MESSAGE_TOO_LARGE',
  /** A message could not be read (bad JSON, undecryptable `E:` frame, bad presence data). */
  InvalidMessage: 'INVALID_MESSAGE',
  /** A topic name was empty, too long or had control characters. */
  InvalidTopic: 'INVALID_TOPIC',
  /** The topic ACL refused a topic, or the application refused the client (4403). */
  Forbidden: 'FORBIDDEN',
  /** A subscription or presence limit was reached. */
  Limit: 'LIMIT',
  /** The encryption key was not a valid P-256 point, or the server could not encrypt. */
  KeyExchangeFailed: 'KEY_EXCHANGE_FAILED',
  /** The server failed. */
  ServerError: 'SERVER_ERROR',
} as const;

/** WSEError is the error type of promises this client rejects. `code` names the cause. */
export class WSEError extends Error {
  /** Machine-readable cause: an {@link ErrorCode} value or a client-side code such as `TIMEOUT` or `CLOSED`. */
  readonly code: string;

  /** Creates an error with a code and a message. */
  constructor(code: string, message: string) {
    super(message);
    this.name = 'WSEError';
    this.code = code;
  }
}
