/**
 * The I/O behind the client: a WebSocket (the browser's, Node 22's, or the
 * `ws` package's) wrapped in a small interface, so the connection state
 * machine sees only open, message and close.
 *
 * @module
 */
import { toBytes } from './codec.js';
import type { WebSocketConstructor, WebSocketLike } from './types.js';

/** Callbacks of one transport. After `close` fires (or `detach`), none fires again. */
export interface TransportHandlers {
  /** The socket opened. */
  open(): void;
  /** A frame arrived: a string for text frames, bytes for binary ones. */
  message(data: string | Uint8Array): void;
  /** The socket closed, by either side or the network (1006). */
  close(code: number, reason: string): void;
}

/** Transport is one connection attempt. */
export interface Transport {
  /** send writes a text or binary frame; it does nothing once closed. */
  send(data: string | Uint8Array): void;
  /** close closes the socket; the close handler does not fire for a detached transport. */
  close(code: number, reason: string): void;
  /** detach stops every further callback. */
  detach(): void;
  /** bytes queued by the socket and not yet sent. */
  readonly bufferedAmount: number;
}

const OPEN = 1;

const ignore = (): void => undefined;

/** The EventEmitter side of the `ws` package's WebSocket, used when present. */
interface NodeWebSocket {
  on(event: 'message', fn: (data: Uint8Array, isBinary: boolean) => void): unknown;
  off(event: 'message', fn: (data: Uint8Array, isBinary: boolean) => void): unknown;
}

/** resolveWebSocket returns the constructor to use, or throws a clear error when the platform has none. */
export function resolveWebSocket(ctor?: WebSocketConstructor): WebSocketConstructor {
  const c = ctor ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!c) throw new Error('wse: no WebSocket available; pass config.WebSocket (in Node 20: the `ws` package\'s WebSocket)');
  return c;
}

/** openWebSocket starts connecting to url and returns the transport. */
export function openWebSocket(url: string, ctor: WebSocketConstructor, options: unknown, h: TransportHandlers): Transport {
  const ws: WebSocketLike = options === undefined ? new ctor(url) : new ctor(url, undefined, options);
  let live = true;
  const emitter = ws as WebSocketLike & Partial<NodeWebSocket>;
  const native = typeof emitter.on === 'function' && typeof emitter.off === 'function';
  const onNative = (data: Uint8Array, isBinary: boolean) => {
    if (live) h.message(isBinary ? data : data.toString());
  };
  const detach = () => {
    live = false;
    ws.onopen = ws.onmessage = ws.onclose = null;
    // Keep an error listener: closing a socket that is still connecting
    // makes the `ws` package emit an error, which would otherwise be thrown.
    ws.onerror = ignore;
    if (native) emitter.off!('message', onNative);
  };
  if (native) {
    // The `ws` package: its EventEmitter side skips a MessageEvent per frame
    // and hands text as a Buffer that is decoded once.
    ws.binaryType = 'nodebuffer';
    emitter.on!('message', onNative);
  } else {
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (ev) => {
      if (!live) return;
      const d = ev.data;
      h.message(typeof d === 'string' ? d : toBytes(d as ArrayBuffer));
    };
  }
  ws.onopen = () => { if (live) h.open(); };
  ws.onerror = ignore; // a close event follows every error
  ws.onclose = (ev) => {
    if (!live) return;
    detach();
    h.close(ev.code, ev.reason);
  };
  return {
    send(data) {
      if (live && ws.readyState === OPEN) ws.send(data);
    },
    close(code, reason) {
      try {
        ws.close(code, reason);
      } catch {
        ws.close();
      }
    },
    detach,
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
  };
}
