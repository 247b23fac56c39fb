package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwkOf returns the public JWK of pub, the way an identity provider
// publishes it.
func jwkOf(t testing.TB, kid string, pub crypto.PublicKey) map[string]any {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		raw, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return map[string]any{"kty": "EC", "kid": kid, "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])}
	case ed25519.PublicKey:
		return map[string]any{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(k)}
	}
	t.Fatalf("no JWK for %T", pub)
	return nil
}

// jwksHost serves a key set on loopback; its keys and health can change.
type jwksHost struct {
	url string
	// mu guards the fields below.
	mu      sync.Mutex
	keys    []map[string]any
	down    bool
	fetches int
}

func startJWKSHost(t testing.TB) *jwksHost {
	h := &jwksHost{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.fetches++
		if h.down {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": h.keys})
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

func (h *jwksHost) set(keys ...map[string]any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.keys = keys
}

func (h *jwksHost) setDown(down bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.down = down
}

func (h *jwksHost) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fetches
}

// signKid signs standard claims with key, naming kid in the header.
func signKid(t testing.TB, method jwt.SigningMethod, key crypto.Signer, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, jwt.MapClaims{"sub": "u1", "exp": time.Now().Add(time.Hour).Unix()})
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWKSVerifiesEveryAlgorithmByKeyID(t *testing.T) {
	t.Parallel()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaOther, _ := rsa.GenerateKey(rand.Reader, 2048)
	host := startJWKSHost(t)
	host.set(jwkOf(t, "r1", rsaKey.Public()), jwkOf(t, "r2", rsaOther.Public()), jwkOf(t, "e1", ecKey.Public()), jwkOf(t, "d1", edKey.Public()),
		map[string]any{"kty": "oct", "kid": "skipped", "k": "c2VjcmV0"})
	for _, tc := range []struct {
		alg    string
		method jwt.SigningMethod
		key    crypto.Signer
		kid    string
	}{
		{"RS256", jwt.SigningMethodRS256, rsaKey, "r1"},
		{"RS256", jwt.SigningMethodRS256, rsaOther, "r2"},
		{"ES256", jwt.SigningMethodES256, ecKey, "e1"},
		{"ES256", jwt.SigningMethodES256, ecKey, ""}, // the set's only ES256 key
		{"EdDSA", jwt.SigningMethodEdDSA, edKey, "d1"},
	} {
		jw, err := NewJWKS(JWKSConfig{URL: host.url})
		if err != nil {
			t.Fatal(err)
		}
		if err := jw.Refresh(context.Background()); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		v := mustVerifier(t, Config{Algorithm: tc.alg, JWKS: jw})
		if c, err := v.Verify(signKid(t, tc.method, tc.key, tc.kid)); err != nil || c.Subject != "u1" {
			t.Errorf("%s kid %q: %v", tc.alg, tc.kid, err)
		}
		// A key of the set under another kid does not verify.
		if tc.kid == "r1" {
			if _, err := v.Verify(signKid(t, tc.method, tc.key, "r2")); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("r1's token under kid r2: %v", err)
			}
		}
	}
}

func TestJWKSRefreshesOnUnknownKeyIDWithARateLimit(t *testing.T) {
	t.Parallel()
	k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k3, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	host := startJWKSHost(t)
	host.set(jwkOf(t, "k1", k1.Public()))
	jw, err := NewJWKS(JWKSConfig{URL: host.url, MinRefreshInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	v := mustVerifier(t, Config{Algorithm: "ES256", JWKS: jw})
	// Empty set: the first token fetches it.
	if _, err := v.Verify(signKid(t, jwt.SigningMethodES256, k1, "k1")); err != nil || host.count() != 1 {
		t.Fatalf("first token: %v after %d fetches", err, host.count())
	}
	// Rotation: k2 is published; within the rate limit an unknown kid does
	// not fetch again and is refused.
	host.set(jwkOf(t, "k1", k1.Public()), jwkOf(t, "k2", k2.Public()))
	if _, err := v.Verify(signKid(t, jwt.SigningMethodES256, k2, "k2")); !errors.Is(err, ErrInvalidToken) || host.count() != 1 {
		t.Fatalf("k2 within the rate limit: %v after %d fetches", err, host.count())
	}
	// Past the rate limit, the unknown kid fetches once and verifies.
	fast, _ := NewJWKS(JWKSConfig{URL: host.url, MinRefreshInterval: time.Nanosecond})
	v = mustVerifier(t, Config{Algorithm: "ES256", JWKS: fast})
	if _, err := v.Verify(signKid(t, jwt.SigningMethodES256, k2, "k2")); err != nil || host.count() != 2 {
		t.Fatalf("k2 past the rate limit: %v after %d fetches", err, host.count())
	}
	if _, err := v.Verify(signKid(t, jwt.SigningMethodES256, k3, "k3")); !errors.Is(err, ErrInvalidToken) || !errors.Is(err, ErrUnknownKeyID) {
		t.Errorf("unpublished k3: %v", err)
	}
}

func TestJWKSKeepsKeysWhileTheHostIsDownUntilMaxAge(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	host := startJWKSHost(t)
	host.set(jwkOf(t, "k", key.Public()))
	jw, err := NewJWKS(JWKSConfig{URL: host.url, MaxAge: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := jw.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	v := mustVerifier(t, Config{Algorithm: "ES256", JWKS: jw})
	host.setDown(true)
	if err := jw.Refresh(context.Background()); err == nil {
		t.Fatal("Refresh succeeded against a host that is down")
	}
	token := signKid(t, jwt.SigningMethodES256, key, "k")
	if _, err := v.Verify(token); err != nil {
		t.Fatalf("cached key refused while the host is down: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := v.Verify(token)
		if errors.Is(err, ErrKeysExpired) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("keys still used past MaxAge: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The host is back: the next refresh restores them.
	host.setDown(false)
	if err := jw.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(token); err != nil {
		t.Errorf("after the host came back: %v", err)
	}
}

func TestJWKSRejectsBadDocumentsAndConfig(t *testing.T) {
	t.Parallel()
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	for name, doc := range map[string]string{
		"not json":        `nope`,
		"weak rsa":        mustJSON(t, map[string]any{"keys": []any{jwkOf(t, "w", small.Public())}}),
		"bad base64":      `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"x","x":"***"}]}`,
		"short ed25519":   `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"x","x":"AAAA"}]}`,
		"point off curve": `{"keys":[{"kty":"EC","crv":"P-256","kid":"x","x":"` + b64zero(32) + `","y":"` + b64zero(32) + `"}]}`,
	} {
		if _, err := parseJWKS([]byte(doc)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	if _, err := NewJWKS(JWKSConfig{URL: "ftp://x"}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("ftp URL: %v", err)
	}
	jw, _ := NewJWKS(JWKSConfig{URL: "http://127.0.0.1:1/jwks"})
	if _, err := NewVerifier(Config{Algorithm: "HS256", Secret: testSecret, JWKS: jw}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("HS256 with JWKS: %v", err)
	}
	if _, err := NewVerifier(Config{Algorithm: "ES256", PublicKey: testKeys(t, "ec").pub, JWKS: jw}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("public key and JWKS: %v", err)
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func b64zero(n int) string { return base64.RawURLEncoding.EncodeToString(make([]byte, n)) }

func TestVerifyNoWaitRefusesAnUnknownKeyIDAndFetchesItInTheBackground(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	host := startJWKSHost(t)
	host.set(jwkOf(t, "k", key.Public()))
	jw, err := NewJWKS(JWKSConfig{URL: host.url, MinRefreshInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	v := mustVerifier(t, Config{Algorithm: "ES256", JWKS: jw})
	token := signKid(t, jwt.SigningMethodES256, key, "k")
	if _, err := v.VerifyNoWait(token); !errors.Is(err, ErrUnknownKeyID) {
		t.Fatalf("first VerifyNoWait = %v, want ErrUnknownKeyID at once", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := v.VerifyNoWait(token); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background refresh never made the key usable")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
