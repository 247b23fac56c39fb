package auth

import (
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// mustVerifier builds a Verifier or fails the test.
func mustVerifier(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// mustSign signs claims or fails the test.
func mustSign(t testing.TB, claims map[string]any, alg string, key []byte) string {
	t.Helper()
	tok, err := Sign(claims, alg, key)
	if err != nil {
		t.Fatalf("Sign(%s): %v", alg, err)
	}
	return tok
}

// unsignedToken builds a token with the given header JSON, payload JSON and
// no signature, as an attacker would.
func unsignedToken(header, payload string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload)) + "."
}

// claimsWith returns {"sub":"u1","exp":now+1h} with the given changes; a nil
// value deletes the claim.
func claimsWith(changes map[string]any) map[string]any {
	c := map[string]any{"sub": "u1", "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range changes {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

func TestVerifyChecksTokens(t *testing.T) {
	t.Parallel()
	now := time.Now().Unix()
	rsa, rsa2 := testKeys(t, "rsa"), testKeys(t, "rsa2")
	ec, ec2 := testKeys(t, "ec"), testKeys(t, "ec2")
	ed, ed2 := testKeys(t, "ed"), testKeys(t, "ed2")

	hs := mustVerifier(t, Config{Secret: testSecret})
	hsPrev := mustVerifier(t, Config{Secret: testSecret, PreviousSecret: testPrevSecret})
	hsIssAud := mustVerifier(t, Config{Secret: testSecret, Issuer: "wse", Audience: "clients"})
	hsKid := mustVerifier(t, Config{Secret: testSecret, KeyID: "k2"})
	hsKidPrev := mustVerifier(t, Config{Secret: testSecret, PreviousSecret: testPrevSecret, KeyID: "k2"})
	hsSmall := mustVerifier(t, Config{Secret: testSecret, MaxTokenSize: 100})
	kidSigner := mustVerifier(t, Config{Secret: testSecret, KeyID: "k1"})
	kidPrevSigner := mustVerifier(t, Config{Secret: testPrevSecret, KeyID: "k1"})
	rs := mustVerifier(t, Config{Algorithm: "RS256", PublicKey: rsa.pub, PreviousPublicKey: rsa2.pub})
	es := mustVerifier(t, Config{Algorithm: "ES256", PublicKey: ec.pub, PreviousPublicKey: ec2.pub})
	eddsa := mustVerifier(t, Config{Algorithm: "EdDSA", PublicKey: ed.pub})

	signKid := func(v *Verifier, claims map[string]any) string {
		tok, err := v.Sign(claims)
		if err != nil {
			t.Fatalf("Verifier.Sign: %v", err)
		}
		return tok
	}
	ok := claimsWith(nil)

	tests := []struct {
		name    string
		v       *Verifier
		token   string
		wantErr error // nil: valid
	}{
		{"HS256Valid", hs, mustSign(t, ok, "HS256", testSecret), nil},
		{"ExpiredBeyondLeeway", hs, mustSign(t, claimsWith(map[string]any{"exp": now - 120}), "HS256", testSecret), ErrTokenExpired},
		{"ExpiredWithinLeeway", hs, mustSign(t, claimsWith(map[string]any{"exp": now - 10}), "HS256", testSecret), nil},
		{"NotBeforeInFuture", hs, mustSign(t, claimsWith(map[string]any{"nbf": now + 120}), "HS256", testSecret), ErrInvalidToken},
		{"NotBeforeWithinLeeway", hs, mustSign(t, claimsWith(map[string]any{"nbf": now + 10}), "HS256", testSecret), nil},
		{"MissingExp", hs, mustSign(t, claimsWith(map[string]any{"exp": nil}), "HS256", testSecret), ErrInvalidToken},
		{"ZeroExp", hs, mustSign(t, claimsWith(map[string]any{"exp": 0}), "HS256", testSecret), ErrInvalidToken},
		{"StringExp", hs, mustSign(t, claimsWith(map[string]any{"exp": "tomorrow"}), "HS256", testSecret), ErrInvalidToken},
		{"WrongSecret", hs, mustSign(t, ok, "HS256", testWrongKey), ErrInvalidToken},
		{"PreviousSecretAccepted", hsPrev, mustSign(t, ok, "HS256", testPrevSecret), nil},
		{"CurrentSecretWithPreviousConfigured", hsPrev, mustSign(t, ok, "HS256", testSecret), nil},
		{"PreviousSecretNotConfigured", hs, mustSign(t, ok, "HS256", testPrevSecret), ErrInvalidToken},
		{"WrongSecretWithPreviousConfigured", hsPrev, mustSign(t, ok, "HS256", testWrongKey), ErrInvalidToken},
		{"AlgNone", hs, unsignedToken(`{"alg":"none","typ":"JWT"}`, `{"sub":"u1","exp":9999999999}`), ErrInvalidToken},
		{"AlgNoneUpperCase", hs, unsignedToken(`{"alg":"NONE","typ":"JWT"}`, `{"sub":"u1","exp":9999999999}`), ErrInvalidToken},
		{"AlgMissing", hs, unsignedToken(`{"typ":"JWT"}`, `{"sub":"u1","exp":9999999999}`), ErrInvalidToken},
		{"HS512WhenHS256Configured", hs, mustSign(t, ok, "HS512", testSecret), ErrInvalidToken},
		{"HS256WhenRS256Configured", rs, mustSign(t, ok, "HS256", testSecret), ErrInvalidToken},
		{"HS256SignedWithRSAPublicKey", rs, mustSign(t, ok, "HS256", rsa.pub), ErrInvalidToken},
		{"RS256WhenHS256Configured", hs, mustSign(t, ok, "RS256", rsa.priv), ErrInvalidToken},
		{"IssuerAndAudienceMatch", hsIssAud, mustSign(t, claimsWith(map[string]any{"iss": "wse", "aud": "clients"}), "HS256", testSecret), nil},
		{"AudienceInList", hsIssAud, mustSign(t, claimsWith(map[string]any{"iss": "wse", "aud": []string{"x", "clients"}}), "HS256", testSecret), nil},
		{"WrongIssuer", hsIssAud, mustSign(t, claimsWith(map[string]any{"iss": "evil", "aud": "clients"}), "HS256", testSecret), ErrInvalidToken},
		{"MissingIssuer", hsIssAud, mustSign(t, claimsWith(map[string]any{"aud": "clients"}), "HS256", testSecret), ErrInvalidToken},
		{"WrongAudience", hsIssAud, mustSign(t, claimsWith(map[string]any{"iss": "wse", "aud": "others"}), "HS256", testSecret), ErrInvalidToken},
		{"MissingAudience", hsIssAud, mustSign(t, claimsWith(map[string]any{"iss": "wse"}), "HS256", testSecret), ErrInvalidToken},
		{"IssuerIgnoredWhenNotConfigured", hs, mustSign(t, claimsWith(map[string]any{"iss": "anyone", "aud": "anything"}), "HS256", testSecret), nil},
		{"MissingSubject", hs, mustSign(t, claimsWith(map[string]any{"sub": nil}), "HS256", testSecret), ErrMissingSubject},
		{"EmptySubject", hs, mustSign(t, claimsWith(map[string]any{"sub": ""}), "HS256", testSecret), ErrMissingSubject},
		{"NumericSubject", hs, mustSign(t, claimsWith(map[string]any{"sub": 123}), "HS256", testSecret), ErrMissingSubject},
		{"ObjectSubject", hs, mustSign(t, claimsWith(map[string]any{"sub": map[string]any{"id": "u1"}}), "HS256", testSecret), ErrMissingSubject},
		{"Oversize", hs, mustSign(t, claimsWith(map[string]any{"pad": strings.Repeat("x", DefaultMaxTokenSize)}), "HS256", testSecret), ErrTokenTooLarge},
		{"OversizeCustomLimit", hsSmall, mustSign(t, ok, "HS256", testSecret), ErrTokenTooLarge},
		{"KeyIDMatch", hsKid, signKid(mustVerifier(t, Config{Secret: testSecret, KeyID: "k2"}), ok), nil},
		{"KeyIDMismatch", hsKid, signKid(kidSigner, ok), ErrInvalidToken},
		{"KeyIDMissing", hsKid, mustSign(t, ok, "HS256", testSecret), ErrInvalidToken},
		{"KeyIDMismatchPreviousSecretAccepted", hsKidPrev, signKid(kidPrevSigner, ok), nil},
		{"KeyIDMismatchCurrentSecretRefused", hsKidPrev, signKid(kidSigner, ok), ErrInvalidToken},
		{"RS256Valid", rs, mustSign(t, ok, "RS256", rsa.priv), nil},
		{"RS256PreviousKey", rs, mustSign(t, ok, "RS256", rsa2.priv), nil},
		{"RS256WrongKey", mustVerifier(t, Config{Algorithm: "RS256", PublicKey: rsa.pub}), mustSign(t, ok, "RS256", rsa2.priv), ErrInvalidToken},
		{"RS256Expired", rs, mustSign(t, claimsWith(map[string]any{"exp": now - 3600}), "RS256", rsa.priv), ErrTokenExpired},
		{"ES256Valid", es, mustSign(t, ok, "ES256", ec.priv), nil},
		{"ES256PreviousKey", es, mustSign(t, ok, "ES256", ec2.priv), nil},
		{"ES256WrongKey", mustVerifier(t, Config{Algorithm: "ES256", PublicKey: ec.pub}), mustSign(t, ok, "ES256", ec2.priv), ErrInvalidToken},
		{"EdDSAValid", eddsa, mustSign(t, ok, "EdDSA", ed.priv), nil},
		{"EdDSAWrongKey", eddsa, mustSign(t, ok, "EdDSA", ed2.priv), ErrInvalidToken},
		{"ES256WhenEdDSAConfigured", eddsa, mustSign(t, ok, "ES256", ec.priv), ErrInvalidToken},
		{"Empty", hs, "", ErrInvalidToken},
		{"Garbage", hs, "not a token", ErrInvalidToken},
		{"TwoSegments", hs, "eyJhbGciOiJIUzI1NiJ9.e30", ErrInvalidToken},
		{"BadBase64", hs, "!!!.???.***", ErrInvalidToken},
		{"PayloadNotObject", hs, unsignedToken(`{"alg":"HS256"}`, `[1,2]`), ErrInvalidToken},
		{"TamperedPayload", hs, tamper(mustSign(t, ok, "HS256", testSecret)), ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := tt.v.Verify(tt.token)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if c.Subject != "u1" || c.Raw["sub"] != "u1" {
					t.Fatalf("claims = %+v, want subject u1", c)
				}
				if c.ExpiresAt.IsZero() {
					t.Fatal("ExpiresAt is zero")
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify error %v does not satisfy ErrInvalidToken", err)
			}
			if c != nil {
				t.Fatalf("claims = %+v on error", c)
			}
		})
	}
}

// tamper rewrites the payload of a signed token to claim another subject.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin","exp":9999999999}`))
	return strings.Join(parts, ".")
}

func TestVerifyReturnsClaims(t *testing.T) {
	t.Parallel()
	v := mustVerifier(t, Config{Secret: testSecret})
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	tok := mustSign(t, map[string]any{"sub": "alice", "exp": exp.Unix(), "role": "admin", "n": 3}, "HS256", testSecret)
	c, err := v.Verify(tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.Subject != "alice" {
		t.Errorf("Subject = %q, want alice", c.Subject)
	}
	if !c.ExpiresAt.Equal(exp) {
		t.Errorf("ExpiresAt = %v, want %v", c.ExpiresAt, exp)
	}
	if c.Raw["role"] != "admin" || c.Raw["n"] != float64(3) {
		t.Errorf("Raw = %v, want role and n", c.Raw)
	}
	if c.Topics != nil {
		t.Errorf("Topics = %+v, want nil without the claim", c.Topics)
	}
}

func TestVerifyParsesTopicClaim(t *testing.T) {
	t.Parallel()
	v := mustVerifier(t, Config{Secret: testSecret})
	tests := []struct {
		name  string
		claim any
		want  *TopicClaim // nil: the token must be invalid
	}{
		{"AllowAndDeny", map[string]any{"allow": []string{"chat.*", "user:{u1}"}, "deny": []string{"chat.admin"}},
			&TopicClaim{Allow: []string{"chat.*", "user:{u1}"}, Deny: []string{"chat.admin"}}},
		{"AllowOnly", map[string]any{"allow": []string{"a"}}, &TopicClaim{Allow: []string{"a"}}},
		{"Empty", map[string]any{}, &TopicClaim{}},
		{"EmptyLists", map[string]any{"allow": []string{}, "deny": []string{}}, &TopicClaim{Allow: []string{}, Deny: []string{}}},
		{"NullList", map[string]any{"allow": nil, "deny": []string{"x"}}, &TopicClaim{Deny: []string{"x"}}},
		{"NotObject", "chat.*", nil},
		{"Array", []string{"chat.*"}, nil},
		{"Null", nil, nil},
		{"AllowNotArray", map[string]any{"allow": "chat.*"}, nil},
		{"DenyNumber", map[string]any{"deny": 5}, nil},
		{"ElementNotString", map[string]any{"allow": []any{"a", 1}}, nil},
		{"ElementNull", map[string]any{"allow": []any{"a", nil}}, nil},
		{"UnknownKey", map[string]any{"allow": []string{"a"}, "alow": []string{"b"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			claims := claimsWith(nil)
			claims[TopicsClaim] = tt.claim
			c, err := v.Verify(mustSign(t, claims, "HS256", testSecret))
			if tt.want == nil {
				if !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("Verify error = %v, want ErrInvalidToken", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !reflect.DeepEqual(c.Topics, tt.want) {
				t.Fatalf("Topics = %+v, want %+v", c.Topics, tt.want)
			}
		})
	}
}

func TestNewVerifierRejectsBadConfig(t *testing.T) {
	t.Parallel()
	rsa, rsa2, rsa1024 := testKeys(t, "rsa"), testKeys(t, "rsa2"), testKeys(t, "rsa1024")
	ec, ec384, ed := testKeys(t, "ec"), testKeys(t, "ec384"), testKeys(t, "ed")
	tests := []struct {
		name string
		cfg  Config
	}{
		{"NoSecret", Config{}},
		{"ShortSecret", Config{Secret: testSecret[:31]}},
		{"HS384ShortSecret", Config{Algorithm: "HS384", Secret: testSecret[:47]}},
		{"HS512ShortSecret", Config{Algorithm: "HS512", Secret: testSecret[:63]}},
		{"ShortPreviousSecret", Config{Secret: testSecret, PreviousSecret: []byte("short")}},
		{"UnknownAlgorithm", Config{Algorithm: "HS257", Secret: testSecret}},
		{"AlgorithmNone", Config{Algorithm: "none", Secret: testSecret}},
		{"LowerCaseAlgorithm", Config{Algorithm: "hs256", Secret: testSecret}},
		{"PS256Unsupported", Config{Algorithm: "PS256", PublicKey: rsa.pub}},
		{"HS256WithPublicKey", Config{Secret: testSecret, PublicKey: rsa.pub}},
		{"RS256WithoutKey", Config{Algorithm: "RS256"}},
		{"RS256WithSecret", Config{Algorithm: "RS256", Secret: testSecret, PublicKey: rsa.pub}},
		{"RS256BadPEM", Config{Algorithm: "RS256", PublicKey: []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")}},
		{"RS256NotPEM", Config{Algorithm: "RS256", PublicKey: []byte("not a key")}},
		{"RS256ShortKey", Config{Algorithm: "RS256", PublicKey: rsa1024.pub}},
		{"RS256WithECKey", Config{Algorithm: "RS256", PublicKey: ec.pub}},
		{"RS256BadPreviousKey", Config{Algorithm: "RS256", PublicKey: rsa.pub, PreviousPublicKey: []byte("junk")}},
		{"RS256MismatchedPrivateKey", Config{Algorithm: "RS256", PublicKey: rsa.pub, PrivateKey: rsa2.priv}},
		{"RS256BadPrivateKey", Config{Algorithm: "RS256", PublicKey: rsa.pub, PrivateKey: []byte("junk")}},
		{"ES256WithP384Key", Config{Algorithm: "ES256", PublicKey: ec384.pub}},
		{"ES256WithRSAKey", Config{Algorithm: "ES256", PublicKey: rsa.pub}},
		{"EdDSAWithECKey", Config{Algorithm: "EdDSA", PublicKey: ec.pub}},
		{"EdDSAWithECPrivateKey", Config{Algorithm: "EdDSA", PrivateKey: ec.priv}},
		{"EdDSAPublicKeyAsPrivate", Config{Algorithm: "EdDSA", PrivateKey: ed.pub}},
		{"NegativeLeeway", Config{Secret: testSecret, Leeway: -time.Second}},
		{"NegativeMaxTokenSize", Config{Secret: testSecret, MaxTokenSize: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := NewVerifier(tt.cfg)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("NewVerifier error = %v, want ErrInvalidConfig", err)
			}
			if v != nil {
				t.Fatal("NewVerifier returned a Verifier with an error")
			}
		})
	}
}

func TestNewVerifierAcceptsGoodConfig(t *testing.T) {
	t.Parallel()
	rsa, ec, ed := testKeys(t, "rsa"), testKeys(t, "ec"), testKeys(t, "ed")
	tests := []struct {
		name string
		cfg  Config
	}{
		{"HS256", Config{Secret: testSecret[:32]}},
		{"HS384", Config{Algorithm: "HS384", Secret: testSecret[:48]}},
		{"HS512", Config{Algorithm: "HS512", Secret: testSecret}},
		{"RS256PublicOnly", Config{Algorithm: "RS256", PublicKey: rsa.pub}},
		{"RS256PrivateOnly", Config{Algorithm: "RS256", PrivateKey: rsa.priv}},
		{"RS256Pair", Config{Algorithm: "RS256", PublicKey: rsa.pub, PrivateKey: rsa.priv}},
		{"ES256Pair", Config{Algorithm: "ES256", PublicKey: ec.pub, PrivateKey: ec.priv}},
		{"EdDSAPair", Config{Algorithm: "EdDSA", PublicKey: ed.pub, PrivateKey: ed.priv}},
		{"AllOptions", Config{Secret: testSecret, PreviousSecret: testPrevSecret, Issuer: "i", Audience: "a", KeyID: "k", Leeway: time.Second, MaxTokenSize: 1024}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := mustVerifier(t, tt.cfg)
			tok, err := v.Sign(claimsWith(map[string]any{"iss": "i", "aud": "a"}))
			if err != nil {
				if len(tt.cfg.PrivateKey) == 0 && len(tt.cfg.Secret) == 0 && errors.Is(err, ErrInvalidKey) {
					return // a verify-only configuration cannot sign
				}
				t.Fatalf("Verifier.Sign: %v", err)
			}
			if _, err := v.Verify(tok); err != nil {
				t.Fatalf("Verify of own token: %v", err)
			}
		})
	}
}

func TestVerifyZeroLeewayMeansDefault(t *testing.T) {
	t.Parallel()
	v := mustVerifier(t, Config{Secret: testSecret, Leeway: 0})
	tok := mustSign(t, claimsWith(map[string]any{"exp": time.Now().Add(-DefaultLeeway / 2).Unix()}), "HS256", testSecret)
	if _, err := v.Verify(tok); err != nil {
		t.Fatalf("Verify within default leeway: %v", err)
	}
	strict := mustVerifier(t, Config{Secret: testSecret, Leeway: time.Nanosecond})
	if _, err := strict.Verify(tok); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("Verify with 1ns leeway error = %v, want ErrTokenExpired", err)
	}
}

func TestVerifySafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	v := mustVerifier(t, Config{Secret: testSecret, PreviousSecret: testPrevSecret, KeyID: "k"})
	good, err := v.Sign(claimsWith(nil))
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	bad := mustSign(t, claimsWith(nil), "HS256", testWrongKey)
	const workers, rounds = 8, 200
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for range rounds {
				if _, err := v.Verify(good); err != nil {
					errs <- err
					return
				}
				if _, err := v.Verify(bad); err == nil {
					errs <- errors.New("bad token accepted")
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
