/**
 * A bounded MessagePack decoder for the `M:` frames a server sends to
 * connections opened with `format: 'msgpack'`. The client always sends JSON,
 * so no encoder is needed. Nesting is limited and every length is checked
 * against the input, so a hostile frame fails with an error instead of
 * allocating.
 *
 * @module
 */

/** Deepest nesting of arrays and maps accepted (the server's own limit). */
export const MAX_MSGPACK_DEPTH = 64;

const utf8 = new TextDecoder();

/** decodeMsgpack decodes one MessagePack value that fills `bytes` exactly. */
export function decodeMsgpack(bytes: Uint8Array): unknown {
  const r = new Reader(bytes);
  const v = r.value(0);
  if (r.pos !== bytes.length) throw new Error('msgpack: trailing bytes');
  return v;
}

class Reader {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): number {
    const at = this.pos;
    if (n < 0 || at + n > this.buf.length) throw new Error('msgpack: truncated input');
    this.pos += n;
    return at;
  }

  private u8(): number { return this.view.getUint8(this.need(1)); }
  private u16(): number { return this.view.getUint16(this.need(2)); }
  private u32(): number { return this.view.getUint32(this.need(4)); }

  value(depth: number): unknown {
    if (depth > MAX_MSGPACK_DEPTH) throw new Error('msgpack: nesting too deep');
    const b = this.u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xe0) === 0xa0) return this.str(b & 0x1f);
    if ((b & 0xf0) === 0x90) return this.array(b & 0x0f, depth);
    if ((b & 0xf0) === 0x80) return this.map(b & 0x0f, depth);
    const v = this.view;
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.bin(this.u8());
      case 0xc5: return this.bin(this.u16());
      case 0xc6: return this.bin(this.u32());
      case 0xca: return v.getFloat32(this.need(4));
      case 0xcb: return v.getFloat64(this.need(8));
      case 0xcc: return this.u8();
      case 0xcd: return this.u16();
      case 0xce: return this.u32();
      case 0xcf: return Number(v.getBigUint64(this.need(8)));
      case 0xd0: return v.getInt8(this.need(1));
      case 0xd1: return v.getInt16(this.need(2));
      case 0xd2: return v.getInt32(this.need(4));
      case 0xd3: return Number(v.getBigInt64(this.need(8)));
      case 0xd9: return this.str(this.u8());
      case 0xda: return this.str(this.u16());
      case 0xdb: return this.str(this.u32());
      case 0xdc: return this.array(this.u16(), depth);
      case 0xdd: return this.array(this.u32(), depth);
      case 0xde: return this.map(this.u16(), depth);
      case 0xdf: return this.map(this.u32(), depth);
      case 0xd4: return this.ext(1);
      case 0xd5: return this.ext(2);
      case 0xd6: return this.ext(4);
      case 0xd7: return this.ext(8);
      case 0xd8: return this.ext(16);
      case 0xc7: return this.ext(this.u8());
      case 0xc8: return this.ext(this.u16());
      case 0xc9: return this.ext(this.u32());
      default: throw new Error(`msgpack: invalid byte 0x${b.toString(16)}`);
    }
  }

  private str(n: number): string {
    const at = this.need(n);
    return utf8.decode(this.buf.subarray(at, at + n));
  }

  private bin(n: number): Uint8Array {
    const at = this.need(n);
    return this.buf.slice(at, at + n);
  }

  /** ext skips the type byte and returns the payload; timestamps (-1) become Date. */
  private ext(n: number): unknown {
    const type = this.view.getInt8(this.need(1));
    const at = this.need(n);
    if (type === -1) {
      if (n === 4) return new Date(this.view.getUint32(at) * 1000);
      if (n === 8) {
        const hi = this.view.getUint32(at), lo = this.view.getUint32(at + 4);
        const nsec = hi >>> 2, sec = (hi & 3) * 2 ** 32 + lo;
        return new Date(sec * 1000 + nsec / 1e6);
      }
    }
    return this.buf.slice(at, at + n);
  }

  private array(n: number, depth: number): unknown[] {
    if (n > this.buf.length - this.pos) throw new Error('msgpack: truncated input');
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
    return out;
  }

  private map(n: number, depth: number): Record<string, unknown> {
    if (n * 2 > this.buf.length - this.pos) throw new Error('msgpack: truncated input');
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = this.value(depth + 1);
      const key = typeof k === 'string' ? k : String(k);
      if (key === '__proto__') {
        Object.defineProperty(out, key, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
      } else {
        out[key] = this.value(depth + 1);
      }
    }
    return out;
  }
}
