package e2e

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// Prefix starts every encrypted frame.
const Prefix = "E:"

// hkdfInfo is the HKDF context label both sides use.
const hkdfInfo = "wse-encryption/aes-gcm-key"

const (
	nonceSize = 12
	tagSize   = 16
	// Overhead is how many bytes Seal adds to a plaintext.
	Overhead = len(Prefix) + nonceSize + tagSize
)

// Session is one connection's AES-256-GCM key. It is safe for concurrent use.
type Session struct {
	aead cipher.AEAD
}

// Accept answers a client's offer: it decodes the client's public key,
// makes a fresh server key pair, and returns the session and the server's
// public key to send back in server_hello.
func Accept(clientKey string) (*Session, string, error) {
	peer, err := decodeKey(clientKey)
	if err != nil {
		return nil, "", err
	}
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("e2e: generate key: %w", err)
	}
	s, err := derive(priv, peer)
	if err != nil {
		return nil, "", err
	}
	return s, encodeKey(priv.PublicKey()), nil
}

// Offer is a client's side of the exchange: its key pair, waiting for the
// server's public key.
type Offer struct {
	priv *ecdh.PrivateKey
}

// NewOffer makes a client key pair.
func NewOffer() (*Offer, error) {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("e2e: generate key: %w", err)
	}
	return &Offer{priv: priv}, nil
}

// PublicKey returns the value for client_hello's encryption_public_key.
func (o *Offer) PublicKey() string { return encodeKey(o.priv.PublicKey()) }

// Complete derives the session from server_hello's encryption_public_key.
func (o *Offer) Complete(serverKey string) (*Session, error) {
	peer, err := decodeKey(serverKey)
	if err != nil {
		return nil, err
	}
	return derive(o.priv, peer)
}

// Seal appends "E:" + nonce + ciphertext + tag of plaintext to dst.
func (s *Session) Seal(dst, plaintext []byte) []byte {
	dst = append(dst, Prefix...)
	n := len(dst)
	dst = append(dst, make([]byte, nonceSize)...)
	nonce := dst[n:]
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails
	return s.aead.Seal(dst, nonce, plaintext, nil)
}

// Open decrypts a frame made by Seal (with its "E:" prefix).
func (s *Session) Open(frame []byte) ([]byte, error) {
	if len(frame) < Overhead || string(frame[:len(Prefix)]) != Prefix {
		return nil, ErrOpen
	}
	body := frame[len(Prefix):]
	out, err := s.aead.Open(nil, body[:nonceSize], body[nonceSize:], nil)
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}

// IsEncrypted reports whether a binary frame carries the "E:" prefix.
func IsEncrypted(frame []byte) bool {
	return len(frame) >= len(Prefix) && string(frame[:len(Prefix)]) == Prefix
}

func derive(priv *ecdh.PrivateKey, peer *ecdh.PublicKey) (*Session, error) {
	secret, err := priv.ECDH(peer)
	if err != nil {
		return nil, fmt.Errorf("e2e: key agreement: %w", err)
	}
	key, err := hkdf.Key(sha256.New, secret, nil, hkdfInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("e2e: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("e2e: cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("e2e: cipher: %w", err)
	}
	return &Session{aead: aead}, nil
}

func decodeKey(s string) (*ecdh.PublicKey, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("e2e: public key is not base64: %w", err)
	}
	k, err := ecdh.P256().NewPublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("e2e: public key is not an uncompressed P-256 point: %w", err)
	}
	return k, nil
}

func encodeKey(k *ecdh.PublicKey) string {
	return base64.StdEncoding.EncodeToString(k.Bytes())
}
