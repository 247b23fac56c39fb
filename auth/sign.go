package auth

import (
	"fmt"
	"maps"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Sign mints a token of claims with algorithm alg ("" means HS256). For the
// HS* algorithms key is the secret, at least as long as the hash output; for
// RS256, ES256 and EdDSA it is a PEM private key. Sign does not check the
// claims: it can mint expired or subject-less tokens for tests.
func Sign(claims map[string]any, alg string, key []byte) (string, error) {
	if alg == "" {
		alg = DefaultAlgorithm
	}
	method, err := signingMethod(alg)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	var k any
	if isHMAC(alg) {
		if err := checkSecret(alg, key); err != nil {
			return "", fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		k = key
	} else {
		signer, err := parsePrivateKey(alg, key)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		k = signer
	}
	return sign(method, k, "", claims)
}

// EncodeHS256 returns an HS256 token of the given claims signed with secret
// (at least 32 bytes), as the original WSE server's Python API encodes
// tokens.
func EncodeHS256(claims map[string]any, secret []byte) (string, error) {
	return Sign(claims, "HS256", secret)
}

// Mint creates the HS256 claims {"sub": sub, "iat": now, "exp": now+ttl},
// plus "iss" and "aud" when non-empty, on top of extra (the named claims win
// over extra's), and signs them with secret (at least 32 bytes). An empty sub
// or a non-positive ttl is an error wrapping ErrInvalidClaims.
func Mint(secret []byte, sub string, ttl time.Duration, issuer, audience string, extra map[string]any) (string, error) {
	if sub == "" {
		return "", fmt.Errorf("%w: empty subject", ErrInvalidClaims)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("%w: lifetime %v", ErrInvalidClaims, ttl)
	}
	claims := make(map[string]any, len(extra)+5)
	maps.Copy(claims, extra)
	now := time.Now()
	claims["sub"] = sub
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(ttl).Unix()
	if issuer != "" {
		claims["iss"] = issuer
	}
	if audience != "" {
		claims["aud"] = audience
	}
	return Sign(claims, "HS256", secret)
}

// Sign mints a token of claims with the Verifier's algorithm and key: Secret
// for the HS* algorithms, PrivateKey for the others (ErrInvalidKey when none
// was configured). The header carries Config.KeyID as "kid" when it is set.
func (v *Verifier) Sign(claims map[string]any) (string, error) {
	if v.signing == nil {
		return "", fmt.Errorf("%w: no private key configured for %s", ErrInvalidKey, v.method.Alg())
	}
	return sign(v.method, v.signing, v.keyID, claims)
}

// sign encodes claims and signs them with a parsed key; kid goes into the
// header when non-empty.
func sign(method jwt.SigningMethod, key any, kid string, claims map[string]any) (string, error) {
	if claims == nil {
		claims = map[string]any{}
	}
	t := jwt.NewWithClaims(method, jwt.MapClaims(claims))
	if kid != "" {
		t.Header["kid"] = kid
	}
	unsigned, err := t.SigningString()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidClaims, err)
	}
	sig, err := method.Sign(unsigned, key)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return unsigned + "." + t.EncodeSegment(sig), nil
}
