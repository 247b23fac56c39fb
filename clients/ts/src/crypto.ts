/**
 * End-to-end encryption with Web Crypto (PROTOCOL.md §5–6): ECDH P-256
 * between the client's key and the server's per-connection key, HKDF-SHA256
 * (no salt, info `wse-encryption/aes-gcm-key`) to an AES-256-GCM key, and
 * frames `E:` + 12-byte IV + ciphertext + 16-byte tag.
 *
 * @module
 */

/** The HKDF info string both sides use. */
export const HKDF_INFO = 'wse-encryption/aes-gcm-key';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX = new Uint8Array([0x45, 0x3a]); // "E:"

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('wse: Web Crypto (crypto.subtle) is not available; encryption needs a secure context');
  return s;
}

/** base64 of bytes (standard alphabet, padded). */
export function toBase64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return btoa(s);
}

/** fromBase64 decodes standard or URL-safe base64. */
export function fromBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * deriveKeyBytes runs ECDH between a private key and the peer's raw public
 * key, then HKDF-SHA256, and returns the 32 bytes of the AES-256 key.
 */
export async function deriveKeyBytes(privateKey: CryptoKey, peerPublicRaw: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const s = subtle();
  const peer = await s.importKey('raw', peerPublicRaw, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const secret = await s.deriveBits({ name: 'ECDH', public: peer }, privateKey, 256);
  const hkdf = await s.importKey('raw', secret, 'HKDF', false, ['deriveBits']);
  const bits = await s.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new TextEncoder().encode(HKDF_INFO) },
    hkdf,
    256,
  );
  return new Uint8Array(bits);
}

/** E2ESession seals and opens the `E:` frames of one connection. */
export class E2ESession {
  private constructor(private readonly key: CryptoKey) {}

  /** fromKeyBytes makes a session from the 32 AES key bytes. */
  static async fromKeyBytes(raw: Uint8Array<ArrayBuffer>): Promise<E2ESession> {
    const key = await subtle().importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
    return new E2ESession(key);
  }

  /** seal encrypts plaintext into a whole `E:` frame with a fresh random IV. */
  async seal(plain: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const ct = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv }, this.key, plain));
    const out = new Uint8Array(2 + IV_BYTES + ct.byteLength);
    out.set(PREFIX, 0);
    out.set(iv, 2);
    out.set(ct, 2 + IV_BYTES);
    return out;
  }

  /** open decrypts a whole `E:` frame; it rejects on a short or tampered frame. */
  async open(frame: Uint8Array): Promise<Uint8Array> {
    if (frame.length < 2 + IV_BYTES + TAG_BYTES) throw new Error('wse: encrypted frame too short');
    const iv = frame.slice(2, 2 + IV_BYTES);
    const ct = frame.slice(2 + IV_BYTES);
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv }, this.key, ct));
  }
}

/** KeyExchange is the client's half of one connection's key agreement. */
export class KeyExchange {
  private constructor(private readonly pair: CryptoKeyPair, readonly publicKey: string) {}

  /** create makes a fresh P-256 key pair; `publicKey` is its raw form in base64, for `client_hello`. */
  static async create(): Promise<KeyExchange> {
    const s = subtle();
    const pair = (await s.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits'])) as CryptoKeyPair;
    const raw = new Uint8Array(await s.exportKey('raw', pair.publicKey));
    return new KeyExchange(pair, toBase64(raw));
  }

  /** complete derives the session from the server's `encryption_public_key` (base64). */
  async complete(serverPublicKey: string): Promise<E2ESession> {
    return E2ESession.fromKeyBytes(await deriveKeyBytes(this.pair.privateKey, fromBase64(serverPublicKey)));
  }
}
