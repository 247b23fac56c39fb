// Builds a known-answer vector the way the wse TypeScript client does it (Web Crypto).
const { subtle } = globalThis.crypto;
const b64 = (b) => Buffer.from(b).toString('base64');
const client = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
const server = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
const clientJwk = await subtle.exportKey('jwk', client.privateKey);
const bits = await subtle.deriveBits({ name: 'ECDH', public: server.publicKey }, client.privateKey, 256);
const ikm = await subtle.importKey('raw', bits, 'HKDF', false, ['deriveKey']);
const key = await subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new TextEncoder().encode('wse-encryption/aes-gcm-key') }, ikm, { name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
const rawKey = await subtle.exportKey('raw', key);
const iv = crypto.getRandomValues(new Uint8Array(12));
const plaintext = '{"c":"U","t":"price","p":{"sym":"ACME","px":101.25},"v":1}';
const ct = await subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(plaintext));
const frame = Buffer.concat([Buffer.from('E:'), Buffer.from(iv), Buffer.from(ct)]);
console.log(JSON.stringify({
  comment: 'Made with Web Crypto as the TypeScript client does: ECDH P-256 deriveBits(256), HKDF-SHA256 empty salt, AES-GCM-256.',
  client_private_d: Buffer.from(clientJwk.d, 'base64url').toString('hex'),
  client_public_key: b64(await subtle.exportKey('raw', client.publicKey)),
  server_public_key: b64(await subtle.exportKey('raw', server.publicKey)),
  aes_key_hex: Buffer.from(rawKey).toString('hex'),
  plaintext,
  frame_b64: frame.toString('base64'),
}, null, 2));
