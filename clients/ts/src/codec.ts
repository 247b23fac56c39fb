/**
 * The codec: turns WebSocket frames from a WSE server into messages
 * (PROTOCOL.md §5) and messages into frames. Text frames are JSON, with an
 * optional legacy prefix (`WSE{`, `S{`, `U{`). Binary frames are `C:` +
 * zlib (inflated with the platform's DecompressionStream), `M:` +
 * MessagePack, `E:` + AES-GCM (opened by the connection's session), plain
 * JSON, or the application's own bytes.
 *
 * @module
 */
import { decodeMsgpack } from './msgpack.js';
import type { Publication } from './subscription.js';
import type { WSEMessage } from './types.js';

/** A decoded frame: a JSON text to parse, an already decoded message, or application bytes. */
export type DecodedFrame =
  | { kind: 'text'; text: string }
  | { kind: 'message'; message: WSEMessage }
  | { kind: 'binary'; data: Uint8Array };

/** Options of {@link decodeBinary}. */
export interface DecodeOptions {
  /** Largest inflated size of a `C:` frame, in bytes. */
  maxSize: number;
  /** Opens an `E:` frame (the whole frame, prefix included); absent when no key was negotiated. */
  decrypt?: (frame: Uint8Array) => Promise<Uint8Array>;
}

const utf8 = new TextDecoder();
const utf8Out = new TextEncoder();

/**
 * isPublication reports whether a parsed value carries the recovery stamp:
 * `tp` and `e` strings and `o` a non-negative safe integer. Offsets above
 * 2^53−1, which a JavaScript number cannot hold exactly, do not count (such
 * messages are handled as unstamped).
 */
export function isPublication(v: unknown): v is Publication {
  if (v === null || typeof v !== 'object') return false;
  const { tp, e, o } = v as Record<string, unknown>;
  return typeof tp === 'string' && typeof e === 'string' && typeof o === 'number' && Number.isSafeInteger(o) && o >= 0;
}

/**
 * parseJSON parses a text frame, stripping a legacy prefix before the `{`
 * (`WSE{`, `S{`, `U{`). It returns undefined when the text is not JSON.
 */
export function parseJSON(text: string): unknown {
  let body = text;
  const c0 = text.charCodeAt(0);
  if (c0 !== 0x7b) {
    if (text.startsWith('WSE{')) body = text.slice(3);
    else if ((c0 === 0x53 || c0 === 0x55) && text.charCodeAt(1) === 0x7b) body = text.slice(1);
  }
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/**
 * parseText parses a text frame into a message (see {@link parseJSON});
 * `type`/`payload` are read as `t`/`p` when those are absent. It returns
 * null when the text is not a JSON object with a type.
 */
export function parseText(text: string): WSEMessage | null {
  return normalize(parseJSON(text));
}

/** normalize checks that a decoded value is a message and renames `type`/`payload` to `t`/`p` when those are absent. */
export function normalize(v: unknown): WSEMessage | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const m = v as Record<string, unknown>;
  if (m.t === undefined && typeof m.type === 'string') {
    m.t = m.type;
    delete m.type;
  }
  if (m.p === undefined && m.payload !== undefined) {
    m.p = m.payload;
    delete m.payload;
  }
  if (typeof m.t !== 'string') return null;
  return m as WSEMessage;
}

function hasPrefix(b: Uint8Array, a: number, c: number): boolean {
  return b.length >= 2 && b[0] === a && b[1] === c;
}

const C = 0x43, M = 0x4d, E = 0x45, COLON = 0x3a;

/** isZlib reports whether bytes start with a zlib header (CMF 0x78 and a valid check). */
function isZlib(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x78 && ((b[0]! << 8) | b[1]!) % 31 === 0;
}

/**
 * decodeBinary decodes a binary frame. `E:` frames are opened first (their
 * plaintext may itself be `C:` or `M:`); `C:` and bare zlib are inflated up
 * to `maxSize` bytes; `M:` is MessagePack; a frame starting with `{` is
 * JSON text; anything else is returned as application bytes.
 */
export async function decodeBinary(bytes: Uint8Array, opts: DecodeOptions): Promise<DecodedFrame> {
  let b = bytes;
  if (hasPrefix(b, E, COLON)) {
    if (!opts.decrypt) throw new Error('wse: encrypted frame without a negotiated key');
    b = await opts.decrypt(b);
    if (!hasPrefix(b, C, COLON) && !hasPrefix(b, M, COLON)) return { kind: 'text', text: utf8.decode(b) };
  }
  if (hasPrefix(b, C, COLON)) return { kind: 'text', text: utf8.decode(await inflate(b.subarray(2), opts.maxSize)) };
  if (hasPrefix(b, M, COLON)) {
    const m = normalize(decodeMsgpack(b.subarray(2)));
    if (!m) throw new Error('wse: MessagePack frame is not a message');
    return { kind: 'message', message: m };
  }
  if (b.length > 0 && b[0] === 0x7b) return { kind: 'text', text: utf8.decode(b) };
  if (isZlib(b)) {
    try {
      return { kind: 'text', text: utf8.decode(await inflate(b, opts.maxSize)) };
    } catch {
      return { kind: 'binary', data: b };
    }
  }
  return { kind: 'binary', data: b };
}

/**
 * inflate decompresses zlib data with DecompressionStream('deflate'),
 * failing once the output passes `limit` bytes.
 */
export async function inflate(data: Uint8Array, limit: number): Promise<Uint8Array> {
  const ds = new DecompressionStream('deflate');
  const writer = ds.writable.getWriter();
  writer.write(data as Uint8Array<ArrayBuffer>).catch(() => undefined);
  writer.close().catch(() => undefined);
  const reader = ds.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`wse: inflated frame over ${limit} bytes`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.byteLength; }
  return out;
}

/** encodeText returns the UTF-8 bytes of a string. */
export function encodeText(s: string): Uint8Array {
  return utf8Out.encode(s);
}

/** toBytes views binary frame data (ArrayBuffer, typed array, Node Buffer) as a Uint8Array without copying. */
export function toBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}
