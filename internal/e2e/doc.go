// Package e2e implements the optional end-to-end encryption of the WSE wire
// protocol (PROTOCOL.md §5): an ECDH P-256 exchange carried by client_hello
// and server_hello, HKDF-SHA256 (no salt, info "wse-encryption/aes-gcm-key")
// to a 32-byte key, and AES-256-GCM frames of the form
// "E:" + 12-byte random nonce + ciphertext + 16-byte tag.
//
// Public keys travel as standard base64 of the 65-byte uncompressed point,
// the form Web Crypto's "raw" export produces, so browser clients interoperate.
//
// Concurrency: a Session may be used by any number of goroutines at once
// (Seal and Open keep no state between calls); an Offer is used by one
// goroutine.
package e2e
