/**
 * The framework-free core of `wse-client` (`import … from 'wse-client/core'`):
 * no React import, for services, workers, Node and other UI libraries.
 *
 * @module
 */
export { WSEClient, CLIENT_VERSION, PROTOCOL_VERSION } from './client.js';
export type { ClientSnapshot, CloseInfo, MissedData, SendOptions, WSEClientEvents } from './client.js';
export { MessageProcessor, ANY_MESSAGE } from './message_processor.js';
export type { MessageHandler } from './message_processor.js';
export { Subscription, IdWindow, MAX_HELD_MESSAGES, MAX_HELD_BYTES } from './subscription.js';
export type { SubscriptionState, Publication, TrackerSink, TrackerContext } from './subscription.js';
export { TopicPresence } from './presence.js';
export type { PresenceMember, PresenceChange } from './presence.js';
export { CloseCode, ClientCloseCode, ErrorCode, WSEError, closeAction } from './codes.js';
export type { CloseAction } from './codes.js';
export { backoffDelay, resolveReconnection, exhausted, DEFAULT_BASE_DELAY, DEFAULT_MAX_DELAY, DEFAULT_FACTOR } from './backoff.js';
export type { ReconnectionConfig, ResolvedReconnection } from './backoff.js';
export { isPublication, parseJSON, parseText, normalize, decodeBinary, inflate } from './codec.js';
export type { DecodedFrame, DecodeOptions } from './codec.js';
export { decodeMsgpack, MAX_MSGPACK_DEPTH } from './msgpack.js';
export { E2ESession, KeyExchange, deriveKeyBytes, toBase64, fromBase64, HKDF_INFO } from './crypto.js';
export { ConnectionState } from './types.js';
export type {
  WSEMessage, StreamPosition, RefusedTopic, RecoveryResult, SubscribeResult, UnsubscribeResult, SubscribeOptions,
  ConnectionStats, ServerFeatures, WebSocketLike, WebSocketConstructor, TokenMode, WSEClientConfig,
} from './types.js';
