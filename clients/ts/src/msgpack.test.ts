import { describe, expect, it } from 'vitest';
import { decodeMsgpack, MAX_MSGPACK_DEPTH } from './msgpack.js';

const b = (...xs: number[]) => new Uint8Array(xs);

describe('decodeMsgpack', () => {
  it('decodes scalars', () => {
    expect(decodeMsgpack(b(0xc0))).toBeNull();
    expect(decodeMsgpack(b(0xc3))).toBe(true);
    expect(decodeMsgpack(b(0x7f))).toBe(127);
    expect(decodeMsgpack(b(0xff))).toBe(-1);
    expect(decodeMsgpack(b(0xcd, 0x01, 0x00))).toBe(256);
    expect(decodeMsgpack(b(0xd2, 0xff, 0xff, 0xff, 0xfe))).toBe(-2);
    expect(decodeMsgpack(b(0xcf, 0, 0, 0, 1, 0, 0, 0, 0))).toBe(2 ** 32);
    expect(decodeMsgpack(b(0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0))).toBe(1.5);
    expect(decodeMsgpack(b(0xd9, 2, 0x68, 0x69))).toBe('hi');
    expect(decodeMsgpack(b(0xc4, 2, 9, 8))).toEqual(b(9, 8));
  });

  it('decodes nested maps and arrays', () => {
    // {"a":[1,{"b":null}]}
    expect(decodeMsgpack(b(0x81, 0xa1, 0x61, 0x92, 0x01, 0x81, 0xa1, 0x62, 0xc0))).toEqual({ a: [1, { b: null }] });
  });

  it('does not let __proto__ change the prototype', () => {
    const v = decodeMsgpack(b(0x81, 0xa9, ...new TextEncoder().encode('__proto__'), 0x81, 0xa1, 0x78, 0x01)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(v['__proto__']).toEqual({ x: 1 });
  });

  it('refuses truncated, trailing and invalid input', () => {
    expect(() => decodeMsgpack(b(0xa5, 0x61))).toThrow(/truncated/);
    expect(() => decodeMsgpack(b(0xdd, 0xff, 0xff, 0xff, 0xff))).toThrow(/truncated/);
    expect(() => decodeMsgpack(b(0x01, 0x02))).toThrow(/trailing/);
    expect(() => decodeMsgpack(b(0xc1))).toThrow(/invalid/);
  });

  it('refuses nesting deeper than the limit', () => {
    const deep = new Uint8Array(MAX_MSGPACK_DEPTH + 2).fill(0x91);
    deep[deep.length - 1] = 0x01;
    expect(() => decodeMsgpack(deep)).toThrow(/deep/);
    const ok = new Uint8Array(MAX_MSGPACK_DEPTH + 1).fill(0x91);
    ok[ok.length - 1] = 0x01;
    expect(() => decodeMsgpack(ok)).not.toThrow();
  });
});

describe('decodeMsgpack on random input', () => {
  it('returns or throws an Error, never anything else, for 5000 random frames', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 5000; i++) {
      const b = new Uint8Array(Math.floor(rnd() * 64));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
      try {
        decodeMsgpack(b);
      } catch (err) {
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message).toMatch(/^msgpack: /);
      }
    }
  });
});
