package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// tokenHeader decodes the JOSE header of a token.
func tokenHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	seg, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("decode header: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("unmarshal header: %v", err)
	}
	return h
}

func TestSignRoundTripsEveryAlgorithm(t *testing.T) {
	t.Parallel()
	rsa, ec, ed := testKeys(t, "rsa"), testKeys(t, "ec"), testKeys(t, "ed")
	tests := []struct {
		alg       string
		signKey   []byte
		verifyCfg Config
	}{
		{"", testSecret, Config{Secret: testSecret}},
		{"HS256", testSecret, Config{Secret: testSecret}},
		{"HS384", testSecret, Config{Algorithm: "HS384", Secret: testSecret}},
		{"HS512", testSecret, Config{Algorithm: "HS512", Secret: testSecret}},
		{"RS256", rsa.priv, Config{Algorithm: "RS256", PublicKey: rsa.pub}},
		{"ES256", ec.priv, Config{Algorithm: "ES256", PublicKey: ec.pub}},
		{"EdDSA", ed.priv, Config{Algorithm: "EdDSA", PublicKey: ed.pub}},
	}
	for _, tt := range tests {
		t.Run("Alg"+tt.alg, func(t *testing.T) {
			t.Parallel()
			tok := mustSign(t, claimsWith(map[string]any{"x": "y"}), tt.alg, tt.signKey)
			want := tt.alg
			if want == "" {
				want = DefaultAlgorithm
			}
			if h := tokenHeader(t, tok); h["alg"] != want || h["typ"] != "JWT" {
				t.Fatalf("header = %v, want alg %s typ JWT", h, want)
			}
			c, err := mustVerifier(t, tt.verifyCfg).Verify(tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Raw["x"] != "y" {
				t.Fatalf("Raw = %v, want x=y", c.Raw)
			}
		})
	}
}

func TestSignRejectsBadInput(t *testing.T) {
	t.Parallel()
	rsa, ec := testKeys(t, "rsa"), testKeys(t, "ec")
	tests := []struct {
		name    string
		claims  map[string]any
		alg     string
		key     []byte
		wantErr error
	}{
		{"ShortSecret", claimsWith(nil), "HS256", testSecret[:31], ErrInvalidKey},
		{"HS512ShortSecret", claimsWith(nil), "HS512", testSecret[:32], ErrInvalidKey},
		{"NoSecret", claimsWith(nil), "HS256", nil, ErrInvalidKey},
		{"AlgNone", claimsWith(nil), "none", testSecret, ErrInvalidKey},
		{"UnknownAlg", claimsWith(nil), "XS256", testSecret, ErrInvalidKey},
		{"RS256NotPEM", claimsWith(nil), "RS256", testSecret, ErrInvalidKey},
		{"RS256PublicKey", claimsWith(nil), "RS256", rsa.pub, ErrInvalidKey},
		{"ES256WithRSAKey", claimsWith(nil), "ES256", rsa.priv, ErrInvalidKey},
		{"EdDSAWithECKey", claimsWith(nil), "EdDSA", ec.priv, ErrInvalidKey},
		{"UnencodableClaim", claimsWith(map[string]any{"ch": make(chan int)}), "HS256", testSecret, ErrInvalidClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := Sign(tt.claims, tt.alg, tt.key)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Sign error = %v, want %v", err, tt.wantErr)
			}
			if tok != "" {
				t.Fatalf("Sign returned token %q with an error", tok)
			}
		})
	}
}

func TestSignNilClaimsGivesEmptyObject(t *testing.T) {
	t.Parallel()
	tok := mustSign(t, nil, "HS256", testSecret)
	_, payload, _ := strings.Cut(tok, ".")
	payload, _, _ = strings.Cut(payload, ".")
	if got, _ := base64.RawURLEncoding.DecodeString(payload); string(got) != "{}" {
		t.Fatalf("payload = %q, want {}", got)
	}
}

func TestEncodeHS256MatchesSign(t *testing.T) {
	t.Parallel()
	claims := map[string]any{"sub": "u1", "exp": 4102444800, "wse_topics": map[string]any{"allow": []string{"a.*"}}}
	got, err := EncodeHS256(claims, testSecret)
	if err != nil {
		t.Fatalf("EncodeHS256: %v", err)
	}
	if want := mustSign(t, claims, "HS256", testSecret); got != want {
		t.Fatalf("EncodeHS256 = %q, want %q", got, want)
	}
	c, err := mustVerifier(t, Config{Secret: testSecret}).Verify(got)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.Topics == nil || len(c.Topics.Allow) != 1 || c.Topics.Allow[0] != "a.*" {
		t.Fatalf("Topics = %+v, want allow [a.*]", c.Topics)
	}
	if _, err := EncodeHS256(claims, []byte("short")); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("EncodeHS256 with short secret error = %v, want ErrInvalidKey", err)
	}
}

func TestMintProducesVerifiableToken(t *testing.T) {
	t.Parallel()
	v := mustVerifier(t, Config{Secret: testSecret, Issuer: "wse", Audience: "app"})
	before := time.Now().Truncate(time.Second)
	tok, err := Mint(testSecret, "bob", time.Hour, "wse", "app", map[string]any{"sub": "mallory", "exp": 1, "role": "x"})
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	c, err := v.Verify(tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.Subject != "bob" {
		t.Errorf("Subject = %q, want bob (named argument wins over extra)", c.Subject)
	}
	if c.Raw["role"] != "x" {
		t.Errorf("Raw = %v, want extra claim role", c.Raw)
	}
	if iat, _ := c.Raw["iat"].(float64); time.Unix(int64(iat), 0).Before(before) {
		t.Errorf("iat = %v, want >= %v", c.Raw["iat"], before.Unix())
	}
	if lo, hi := before.Add(time.Hour), time.Now().Add(time.Hour); c.ExpiresAt.Before(lo) || c.ExpiresAt.After(hi) {
		t.Errorf("ExpiresAt = %v, want within [%v, %v]", c.ExpiresAt, lo, hi)
	}
	plain, err := Mint(testSecret, "bob", time.Minute, "", "", nil)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	c, err = mustVerifier(t, Config{Secret: testSecret}).Verify(plain)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if _, ok := c.Raw["iss"]; ok {
		t.Errorf("Raw = %v, want no iss when issuer is empty", c.Raw)
	}
	if _, ok := c.Raw["aud"]; ok {
		t.Errorf("Raw = %v, want no aud when audience is empty", c.Raw)
	}
}

func TestMintRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		secret  []byte
		sub     string
		ttl     time.Duration
		wantErr error
	}{
		{"EmptySubject", testSecret, "", time.Hour, ErrInvalidClaims},
		{"ZeroTTL", testSecret, "u", 0, ErrInvalidClaims},
		{"NegativeTTL", testSecret, "u", -time.Second, ErrInvalidClaims},
		{"ShortSecret", testSecret[:16], "u", time.Hour, ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Mint(tt.secret, tt.sub, tt.ttl, "", "", nil); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Mint error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestVerifierSignWritesKeyID(t *testing.T) {
	t.Parallel()
	ec := testKeys(t, "ec")
	tests := []struct {
		name    string
		cfg     Config
		wantKid any
		wantErr error
	}{
		{"HS256WithKid", Config{Secret: testSecret, KeyID: "k7"}, "k7", nil},
		{"HS256NoKid", Config{Secret: testSecret}, nil, nil},
		{"ES256WithPrivateKey", Config{Algorithm: "ES256", PrivateKey: ec.priv, KeyID: "e1"}, "e1", nil},
		{"ES256VerifyOnly", Config{Algorithm: "ES256", PublicKey: ec.pub}, nil, ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := mustVerifier(t, tt.cfg)
			tok, err := v.Sign(claimsWith(nil))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verifier.Sign error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := tokenHeader(t, tok)["kid"]; got != tt.wantKid {
				t.Fatalf("kid = %v, want %v", got, tt.wantKid)
			}
			if _, err := v.Verify(tok); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}
