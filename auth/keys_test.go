package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"sync"
	"testing"
)

// Test secrets, long enough for every HS* algorithm.
var (
	testSecret     = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	testPrevSecret = []byte("fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210")
	testWrongKey   = []byte("wrong-wrong-wrong-wrong-wrong-wrong-wrong-wrong-wrong-wrong-wrong")
)

// pemPair is a generated key pair in PEM form.
type pemPair struct {
	priv, pub []byte
}

// keyCache generates each test key pair once per test binary.
var keyCache = struct {
	sync.Mutex
	pairs map[string]pemPair
}{pairs: map[string]pemPair{}}

// testKeys returns the PEM key pair called name, generating it on first use.
// Names: rsa, rsa2, rsa1024, ec, ec2, ec384, ed, ed2.
func testKeys(t testing.TB, name string) pemPair {
	t.Helper()
	keyCache.Lock()
	defer keyCache.Unlock()
	if p, ok := keyCache.pairs[name]; ok {
		return p
	}
	var (
		signer crypto.Signer
		err    error
	)
	switch name {
	case "rsa", "rsa2":
		signer, err = rsa.GenerateKey(rand.Reader, 2048)
	case "rsa1024":
		signer, err = rsa.GenerateKey(rand.Reader, 1024)
	case "ec", "ec2":
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ec384":
		signer, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ed", "ed2":
		_, signer, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("unknown test key %q", name)
	}
	if err != nil {
		t.Fatalf("generate %s: %v", name, err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		t.Fatalf("marshal %s: %v", name, err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		t.Fatalf("marshal %s: %v", name, err)
	}
	p := pemPair{
		priv: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}),
		pub:  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}),
	}
	keyCache.pairs[name] = p
	return p
}
