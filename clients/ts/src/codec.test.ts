import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeBinary, inflate, isPublication, parseJSON, parseText } from './codec.js';

const vectors = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../../testdata/vectors/${name}`, import.meta.url), 'utf8')) as { cases: any[] };

describe('isPublication', () => {
  for (const c of vectors('stamp.json').cases) {
    it(`reads ${JSON.stringify(c.out).slice(0, 60)}`, () => {
      const v = parseJSON(c.out);
      if (c.in === c.out) {
        expect(v).toBeUndefined(); // not a JSON object: sent unstamped
      } else if (!Number.isSafeInteger(c.offset)) {
        expect(isPublication(v)).toBe(false); // beyond 2^53-1: handled as unstamped
      } else {
        expect(isPublication(v)).toBe(true);
        const p = v as { tp: string; e: string; o: number };
        expect([p.tp, p.e, p.o]).toEqual([c.topic, c.epoch, c.offset]);
      }
    });
  }

  it('refuses fields of the wrong type', () => {
    expect(isPublication({ t: 'x', tp: 'a', e: '0000abcd', o: '1' })).toBe(false);
    expect(isPublication({ t: 'x', tp: 'a', o: 1 })).toBe(false);
    expect(isPublication({ t: 'x', tp: 'a', e: '0000abcd', o: -1 })).toBe(false);
    expect(isPublication({ t: 'x', tp: 'a', e: '0000abcd', o: 1.5 })).toBe(false);
    expect(isPublication(null)).toBe(false);
  });
});

describe('parseText', () => {
  const cases = vectors('inbound.json').cases.filter((c) => c.frame === 'text');
  for (const c of cases.filter((c) => c.expect.event === 'msg')) {
    it(`parses ${c.name}`, () => {
      expect(parseText(c.data)).toEqual(c.expect.data);
    });
  }
  for (const c of cases.filter((c) => c.expect.event === 'raw')) {
    it(`refuses ${c.name}`, () => {
      expect(parseText(c.data)).toBeNull();
    });
  }
});

describe('decodeBinary', () => {
  const opts = { maxSize: 1 << 20 };

  it('inflates the C: vector and parses it', async () => {
    const c = vectors('inbound.json').cases.find((c) => c.name === 'binary C: zlib is inflated then parsed');
    const d = await decodeBinary(Buffer.from(c.data_b64, 'base64'), opts);
    expect(d.kind).toBe('text');
    expect(parseText((d as { text: string }).text)).toEqual(c.expect.data);
  });

  it('fails on C: that is not zlib', async () => {
    const c = vectors('inbound.json').cases.find((c) => c.name === 'binary C: that is not zlib');
    await expect(decodeBinary(Buffer.from(c.data_b64, 'base64'), opts)).rejects.toThrow();
  });

  it('reads plain JSON binary frames (send_event) as text', async () => {
    const d = await decodeBinary(new TextEncoder().encode('{"t":"x","p":{}}'), opts);
    expect(d).toEqual({ kind: 'text', text: '{"t":"x","p":{}}' });
  });

  it('inflates bare zlib and keeps other bytes as application data', async () => {
    const z = deflateSync(Buffer.from('{"t":"z"}'));
    expect(await decodeBinary(z, opts)).toEqual({ kind: 'text', text: '{"t":"z"}' });
    const raw = new Uint8Array([1, 2, 3]);
    expect(await decodeBinary(raw, opts)).toEqual({ kind: 'binary', data: raw });
  });

  it('decodes M: MessagePack into a message', async () => {
    // {"t":"m","p":{"n":1}}
    const mp = new Uint8Array([0x4d, 0x3a, 0x82, 0xa1, 0x74, 0xa1, 0x6d, 0xa1, 0x70, 0x81, 0xa1, 0x6e, 0x01]);
    expect(await decodeBinary(mp, opts)).toEqual({ kind: 'message', message: { t: 'm', p: { n: 1 } } });
  });

  it('refuses E: frames without a key', async () => {
    await expect(decodeBinary(new TextEncoder().encode('E:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'), opts)).rejects.toThrow(/negotiated key/);
  });
});

describe('inflate', () => {
  it('stops at the size limit', async () => {
    const z = deflateSync(Buffer.alloc(1 << 20, 0x61));
    await expect(inflate(z, 64 << 10)).rejects.toThrow(/over 65536 bytes/);
    expect((await inflate(z, 1 << 20)).byteLength).toBe(1 << 20);
  });
});

describe('decodeBinary on random input', () => {
  it('decodes or rejects with an Error for 1000 random frames behind each prefix', async () => {
    let seed = 99;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const prefixes = [[], [0x43, 0x3a], [0x4d, 0x3a], [0x7b], [0x78, 0x9c]];
    for (let i = 0; i < 1000; i++) {
      const body = Array.from({ length: Math.floor(rnd() * 48) }, () => Math.floor(rnd() * 256));
      const frame = new Uint8Array([...prefixes[i % prefixes.length]!, ...body]);
      try {
        const d = await decodeBinary(frame, { maxSize: 1 << 16 });
        expect(['text', 'message', 'binary']).toContain(d.kind);
      } catch (err) {
        expect(err).toBeInstanceOf(Error);
      }
    }
  });
});
