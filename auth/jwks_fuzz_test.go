package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"testing"
)

// FuzzParseJWKS feeds arbitrary documents to the JWKS parser: it must
// never panic, and every key it keeps must fit the algorithm it is kept for.
func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","kid":"b","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"c","n":"AQAB","e":"AQAB"},{"kty":"oct","k":"x"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		keys, err := parseJWKS(doc)
		if err != nil {
			return
		}
		for kid, k := range keys {
			var ok bool
			switch pub := k.key.(type) {
			case *rsa.PublicKey:
				ok = k.alg == "RS256" && pub.N.BitLen() >= MinRSAKeyBits
			case *ecdsa.PublicKey:
				ok = k.alg == "ES256"
			case ed25519.PublicKey:
				ok = k.alg == "EdDSA" && len(pub) == ed25519.PublicKeySize
			}
			if !ok {
				t.Fatalf("kid %q kept as %s with a %T", kid, k.alg, k.key)
			}
		}
	})
}
