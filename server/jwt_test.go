package server

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// signToken signs a token for sub with key, naming kid when not empty.
func signToken(t *testing.T, method jwt.SigningMethod, key crypto.Signer, kid, sub string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, jwt.MapClaims{"sub": sub, "exp": time.Now().Add(time.Hour).Unix()})
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// publicKeyFile writes pub as a PEM file in the test's temporary directory.
func publicKeyFile(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwt.pub.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// userOf returns the user_id of server_ready.
func userOf(c *wsClient) any {
	return c.ready["p"].(map[string]any)["details"].(map[string]any)["user_id"]
}

func TestJWTPublicKeyAlgorithms(t *testing.T) {
	t.Parallel()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, tc := range []struct {
		alg    string
		method jwt.SigningMethod
		key    crypto.Signer
	}{
		{"RS256", jwt.SigningMethodRS256, rsaKey},
		{"ES256", jwt.SigningMethodES256, ecKey},
		{"EdDSA", jwt.SigningMethodEdDSA, edKey},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			t.Parallel()
			file := publicKeyFile(t, tc.key.Public())
			srv := startServer(t, func(c *Config) {
				c.JWTAlgorithm = tc.alg
				c.JWTPublicKey = file
				c.JWTKeyID = "main"
			})
			c := dial(t, srv, bearer(signToken(t, tc.method, tc.key, "main", "alice")))
			if userOf(c) != "alice" {
				t.Errorf("user_id = %v", userOf(c))
			}
			for name, tok := range map[string]string{
				"wrong kid": signToken(t, tc.method, tc.key, "old", "alice"),
				"other key": signToken(t, jwt.SigningMethodES256, otherEC, "main", "alice"),
			} {
				t.Logf("%s: refused", name)
				expectRefusal(t, dialRaw(t, srv, bearer(tok)), "AUTH_FAILED", 4401)
			}
			// Tokens are minted elsewhere: /api/token says so.
			if status, body := call(t, srv, "POST", "/api/token", map[string]any{"sub": "x"}, ""); status != 409 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "public key") {
				t.Errorf("token = %d %v", status, body)
			}
		})
	}
}

func TestJWTFromJWKSServedOnLoopback(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	raw, err := key.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	var down atomic.Bool
	var fetches atomic.Int32
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{
			map[string]any{"kty": "EC", "crv": "P-256", "kid": "2026-12", "use": "sig", "x": b64(raw[1:33]), "y": b64(raw[33:])},
		}})
	}))
	t.Cleanup(idp.Close)
	srv := startServer(t, func(c *Config) {
		c.JWTAlgorithm = "ES256"
		c.JWTJWKSURL = idp.URL + "/.well-known/jwks.json"
		c.AuthFirstMessage = true
	})
	if fetches.Load() != 1 {
		t.Fatalf("%d fetches at start, want 1", fetches.Load())
	}
	tok := signToken(t, jwt.SigningMethodES256, key, "2026-12", "bob")
	if c := dial(t, srv, bearer(tok)); userOf(c) != "bob" {
		t.Errorf("user_id = %v", userOf(c))
	}
	// The identity provider goes down: the keys held keep working, with
	// the token sent as the first message too.
	down.Store(true)
	c := dialRaw(t, srv, nil)
	c.send(map[string]any{"t": "auth", "p": map[string]any{"token": tok}})
	ready := c.readUntil(func(m map[string]any) bool { return m["t"] == "server_ready" })
	if ready["p"].(map[string]any)["details"].(map[string]any)["user_id"] != "bob" {
		t.Errorf("first-message auth: %v", ready)
	}
	// An unknown kid tries the host (rate-limited) and is refused.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	expectRefusal(t, dialRaw(t, srv, bearer(signToken(t, jwt.SigningMethodES256, other, "2027-01", "eve"))), "AUTH_FAILED", 4401)
}

func TestJWTSettingsMustFitTheAlgorithm(t *testing.T) {
	t.Parallel()
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	file := publicKeyFile(t, ecKey.Public())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--jwt-public-key", file}, "--jwt-algorithm"},
		{[]string{"--jwt-algorithm", "ES256"}, "needs --jwt-public-key or --jwt-jwks-url"},
		{[]string{"--jwt-algorithm", "ES256", "--jwt-public-key", file, "--jwt-secret", testSecret}, "not --jwt-secret"},
		{[]string{"--jwt-algorithm", "ES256", "--jwt-public-key", file, "--jwt-jwks-url", "http://127.0.0.1:1/j"}, "exclude each other"},
		{[]string{"--jwt-algorithm", "PS256"}, "must be one of"},
		{[]string{"--jwt-algorithm", "ES256", "--jwt-jwks-url", "ftp://x"}, "--jwt-jwks-url"},
		{[]string{"--jwt-algorithm", "ES256", "--jwt-public-key", filepath.Join(t.TempDir(), "none.pem")}, "--jwt-public-key"},
	} {
		_, err := Load(tc.args, nil)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%v) = %v, want an error naming %q", tc.args, err, tc.want)
		}
	}
	cfg, err := Load([]string{"--jwt-algorithm", "eddsa", "--jwt-jwks-url", "https://idp.example/jwks", "--auth-first-message"}, nil)
	if err != nil || cfg.JWTAlgorithm != "EdDSA" {
		t.Errorf("Load = %+v, %v", cfg.JWTAlgorithm, err)
	}
	// A key file that is not a key fails New with the setting named.
	bad := filepath.Join(t.TempDir(), "bad.pem")
	_ = os.WriteFile(bad, []byte("not a key"), 0o600)
	c := DefaultConfig()
	c.JWTAlgorithm, c.JWTPublicKey = "ES256", bad
	if _, err := New(c, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New with a bad key file: %v", err)
	}
}
