package auth

import (
	"errors"
	"testing"
)

// fuzzSecret signs the real tokens of the FuzzVerify seed corpus
// (testdata/fuzz/FuzzVerify), so that mutations reach claim validation.
var fuzzSecret = []byte("wse-fuzz-secret-wse-fuzz-secret-")

// FuzzVerify feeds arbitrary strings to Verify: it must never panic, must
// fail with ErrInvalidToken and no claims, or succeed with a subject.
func FuzzVerify(f *testing.F) {
	plain := mustVerifier(f, Config{Secret: fuzzSecret})
	strict := mustVerifier(f, Config{Secret: testSecret, PreviousSecret: fuzzSecret, KeyID: "k1", Issuer: "wse", Audience: "app"})
	f.Fuzz(func(t *testing.T, token string) {
		for _, v := range []*Verifier{plain, strict} {
			c, err := v.Verify(token)
			if err != nil {
				if !errors.Is(err, ErrInvalidToken) || c != nil {
					t.Fatalf("Verify(%q) = %v, %v", token, c, err)
				}
				continue
			}
			if c == nil || c.Subject == "" || c.ExpiresAt.IsZero() || c.Raw == nil {
				t.Fatalf("Verify(%q) accepted with claims %+v", token, c)
			}
		}
	})
}
