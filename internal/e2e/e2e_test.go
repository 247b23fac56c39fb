package e2e

import (
	"bytes"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// webCryptoVector is testdata/webcrypto.json, made by testdata/webcrypto.mjs
// (node) with Web Crypto calls as the TypeScript client makes them.
type webCryptoVector struct {
	ClientPrivateD  string `json:"client_private_d"`
	ClientPublicKey string `json:"client_public_key"`
	ServerPublicKey string `json:"server_public_key"`
	Plaintext       string `json:"plaintext"`
	FrameB64        string `json:"frame_b64"`
}

func loadVector(t *testing.T) webCryptoVector {
	t.Helper()
	b, err := os.ReadFile("testdata/webcrypto.json")
	if err != nil {
		t.Fatal(err)
	}
	var v webCryptoVector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestOpensWebCryptoFrame checks key derivation and frame layout against a
// frame encrypted by Web Crypto: same keys must give the same plaintext.
func TestOpensWebCryptoFrame(t *testing.T) {
	v := loadVector(t)
	d, err := hex.DecodeString(v.ClientPrivateD)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ecdh.P256().NewPrivateKey(d)
	if err != nil {
		t.Fatal(err)
	}
	o := &Offer{priv: priv}
	if o.PublicKey() != v.ClientPublicKey {
		t.Fatalf("public key %s, want %s", o.PublicKey(), v.ClientPublicKey)
	}
	s, err := o.Complete(v.ServerPublicKey)
	if err != nil {
		t.Fatal(err)
	}
	frame, err := base64.StdEncoding.DecodeString(v.FrameB64)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Open(frame)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if string(got) != v.Plaintext {
		t.Fatalf("plaintext %q, want %q", got, v.Plaintext)
	}
}

func TestRoundTripBothWays(t *testing.T) {
	o, err := NewOffer()
	if err != nil {
		t.Fatal(err)
	}
	server, serverKey, err := Accept(o.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	client, err := o.Complete(serverKey)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte(`{"t":"chat","p":{"text":"hi"}}`)
	f1, f2 := server.Seal(nil, msg), server.Seal(nil, msg)
	if bytes.Equal(f1, f2) {
		t.Fatal("two seals of one message are equal: nonce reused")
	}
	if !IsEncrypted(f1) || len(f1) != len(msg)+Overhead {
		t.Fatalf("frame %q: len %d", f1[:2], len(f1))
	}
	for _, f := range [][]byte{f1, f2} {
		if got, err := client.Open(f); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("client Open = %q, %v", got, err)
		}
	}
	back := client.Seal([]byte("keep"), msg)
	if got, err := server.Open(back[len("keep"):]); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("server Open = %q, %v", got, err)
	}
}

func TestOpenRejectsTamperingAndShortFrames(t *testing.T) {
	o, _ := NewOffer()
	s, key, err := Accept(o.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	other, _ := o.Complete(key)
	f := s.Seal(nil, []byte("secret"))
	flipped := bytes.Clone(f)
	flipped[len(flipped)-1] ^= 1
	for name, in := range map[string][]byte{
		"tampered":  flipped,
		"short":     f[:Overhead-1],
		"no prefix": append([]byte("X:"), f[2:]...),
		"empty":     nil,
	} {
		if _, err := other.Open(in); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}
}

func TestAcceptRejectsBadKeys(t *testing.T) {
	for name, key := range map[string]string{
		"not base64":   "%%%",
		"empty":        "",
		"compressed":   base64.StdEncoding.EncodeToString(append([]byte{2}, make([]byte, 32)...)),
		"off curve":    base64.StdEncoding.EncodeToString(append([]byte{4}, make([]byte, 64)...)),
		"wrong length": base64.StdEncoding.EncodeToString([]byte{4, 1, 2, 3}),
	} {
		if _, _, err := Accept(key); err == nil {
			t.Errorf("%s: Accept succeeded", name)
		}
	}
}

func BenchmarkSeal100B(b *testing.B) {
	o, _ := NewOffer()
	s, _, _ := Accept(o.PublicKey())
	msg := bytes.Repeat([]byte("x"), 100)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = s.Seal(buf[:0], msg)
	}
}
