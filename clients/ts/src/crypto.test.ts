import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deriveKeyBytes, E2ESession, fromBase64, KeyExchange, toBase64 } from './crypto.js';

const vector = JSON.parse(readFileSync(new URL('../../../internal/e2e/testdata/webcrypto.json', import.meta.url), 'utf8')) as Record<string, string>;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

async function clientPrivateKey(): Promise<CryptoKey> {
  const pub = fromBase64(vector.client_public_key!);
  const jwk: JsonWebKey = {
    kty: 'EC', crv: 'P-256',
    d: b64url(Buffer.from(vector.client_private_d!, 'hex')),
    x: b64url(pub.subarray(1, 33)), y: b64url(pub.subarray(33, 65)),
  };
  return crypto.subtle.importKey('jwk', jwk, { name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
}

describe('E2E encryption (PROTOCOL §5–6)', () => {
  it('derives the Web Crypto vector key and opens its frame', async () => {
    const key = await deriveKeyBytes(await clientPrivateKey(), fromBase64(vector.server_public_key!));
    expect(hex(key)).toBe(vector.aes_key_hex);
    const s = await E2ESession.fromKeyBytes(key);
    const plain = await s.open(fromBase64(vector.frame_b64!));
    expect(new TextDecoder().decode(plain)).toBe(vector.plaintext);
  });

  it('seals frames as E: + IV + ciphertext + tag that open again', async () => {
    const s = await E2ESession.fromKeyBytes(Buffer.from(vector.aes_key_hex!, 'hex') as unknown as Uint8Array<ArrayBuffer>);
    const msg = new TextEncoder().encode('{"t":"x"}');
    const f = await s.seal(msg);
    expect(String.fromCharCode(f[0]!, f[1]!)).toBe('E:');
    expect(f.length).toBe(2 + 12 + msg.length + 16);
    expect(await s.open(f)).toEqual(msg);
    f[f.length - 1]! ^= 1;
    await expect(s.open(f)).rejects.toThrow();
    await expect(s.open(f.subarray(0, 20))).rejects.toThrow(/too short/);
  });

  it('two key exchanges agree on the key', async () => {
    const a = await KeyExchange.create();
    const b = await KeyExchange.create();
    expect(fromBase64(a.publicKey).length).toBe(65);
    const sa = await a.complete(b.publicKey);
    const sb = await b.complete(a.publicKey);
    const f = await sa.seal(new TextEncoder().encode('hello'));
    expect(new TextDecoder().decode(await sb.open(f))).toBe('hello');
  });

  it('base64 round-trips', () => {
    const bytes = new Uint8Array([0, 255, 1, 128, 62, 63]);
    expect(fromBase64(toBase64(bytes))).toEqual(bytes);
    expect(fromBase64(Buffer.from(bytes).toString('base64url'))).toEqual(bytes);
  });
});
