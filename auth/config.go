package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Defaults applied by NewVerifier to zero Config fields.
const (
	// DefaultAlgorithm is the signing algorithm used when Config.Algorithm is empty.
	DefaultAlgorithm = "HS256"
	// DefaultLeeway is the clock skew tolerated on "exp" and "nbf".
	DefaultLeeway = 30 * time.Second
	// DefaultMaxTokenSize is the largest token, in bytes, that Verify accepts.
	DefaultMaxTokenSize = 8192
	// DefaultCookieName is the cookie TokenFromRequest reads when given an empty name.
	DefaultCookieName = "access_token"
	// MinRSAKeyBits is the smallest RSA modulus accepted for RS256.
	MinRSAKeyBits = 2048
)

// Config configures token verification. Zero fields mean defaults.
type Config struct {
	// Secret is the HMAC secret for HS256, HS384 and HS512. It must be at
	// least as long as the hash output (32, 48, 64 bytes, RFC 7518 §3.2).
	Secret []byte
	// PreviousSecret is an older HMAC secret, tried when the signature does
	// not verify with Secret (key rotation). Same length rule as Secret.
	PreviousSecret []byte
	// Algorithm is the only algorithm accepted: "HS256" (default), "HS384",
	// "HS512", "RS256", "ES256" (P-256) or "EdDSA" (Ed25519).
	Algorithm string
	// PublicKey is the PEM public key (PKIX, PKCS#1 or certificate for RSA)
	// for RS256, ES256 and EdDSA. When empty it is derived from PrivateKey.
	PublicKey []byte
	// PreviousPublicKey is an older PEM public key for rotation with the
	// asymmetric algorithms.
	PreviousPublicKey []byte
	// PrivateKey is the PEM private key (PKCS#8, or PKCS#1/SEC 1) used by
	// Verifier.Sign with the asymmetric algorithms. Optional; it must match
	// PublicKey when both are set.
	PrivateKey []byte
	// Issuer, when non-empty, must equal the token's "iss".
	Issuer string
	// Audience, when non-empty, must be one of the token's "aud" values.
	Audience string
	// KeyID, when set, must equal the token header "kid" for the current key.
	// It is not enforced when the previous key is tried, and Verifier.Sign
	// writes it into the header.
	KeyID string
	// Leeway is the clock skew tolerated on "exp" and "nbf"; default
	// DefaultLeeway (30 s). Negative is invalid.
	Leeway time.Duration
	// MaxTokenSize is the largest token in bytes; default DefaultMaxTokenSize
	// (8192). Negative is invalid.
	MaxTokenSize int
	// JWKS, for RS256, ES256 and EdDSA, supplies the verification keys by
	// the token's "kid" instead of PublicKey (which must then be empty).
	JWKS *JWKS
}

// keys holds the parsed key material of a Config.
type keys struct {
	method   jwt.SigningMethod
	current  any // []byte or a public key
	previous any // nil when no rotation key is configured
	signing  any // []byte or a crypto.Signer; nil when none
}

// withDefaults returns cfg with the named defaults applied to zero fields.
func (cfg Config) withDefaults() Config {
	if cfg.Algorithm == "" {
		cfg.Algorithm = DefaultAlgorithm
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.MaxTokenSize == 0 {
		cfg.MaxTokenSize = DefaultMaxTokenSize
	}
	return cfg
}

// parseKeys validates cfg (defaults applied) and parses its keys.
func (cfg Config) parseKeys() (keys, error) {
	if cfg.Leeway < 0 {
		return keys{}, fmt.Errorf("%w: negative leeway %v", ErrInvalidConfig, cfg.Leeway)
	}
	if cfg.MaxTokenSize < 0 {
		return keys{}, fmt.Errorf("%w: negative max token size %d", ErrInvalidConfig, cfg.MaxTokenSize)
	}
	method, err := signingMethod(cfg.Algorithm)
	if err != nil {
		return keys{}, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if isHMAC(cfg.Algorithm) {
		return cfg.hmacKeys(method)
	}
	return cfg.asymmetricKeys(method)
}

// hmacKeys validates the secrets of an HS* configuration.
func (cfg Config) hmacKeys(method jwt.SigningMethod) (keys, error) {
	if len(cfg.PublicKey) > 0 || len(cfg.PreviousPublicKey) > 0 || len(cfg.PrivateKey) > 0 || cfg.JWKS != nil {
		return keys{}, fmt.Errorf("%w: %s uses Secret, not PEM keys or JWKS", ErrInvalidConfig, cfg.Algorithm)
	}
	if err := checkSecret(cfg.Algorithm, cfg.Secret); err != nil {
		return keys{}, fmt.Errorf("%w: secret: %w", ErrInvalidConfig, err)
	}
	k := keys{method: method, current: cfg.Secret, signing: cfg.Secret}
	if len(cfg.PreviousSecret) > 0 {
		if err := checkSecret(cfg.Algorithm, cfg.PreviousSecret); err != nil {
			return keys{}, fmt.Errorf("%w: previous secret: %w", ErrInvalidConfig, err)
		}
		k.previous = cfg.PreviousSecret
	}
	return k, nil
}

// asymmetricKeys parses the PEM keys of an RS256, ES256 or EdDSA configuration.
func (cfg Config) asymmetricKeys(method jwt.SigningMethod) (keys, error) {
	if len(cfg.Secret) > 0 || len(cfg.PreviousSecret) > 0 {
		return keys{}, fmt.Errorf("%w: %s uses PEM keys, not Secret", ErrInvalidConfig, cfg.Algorithm)
	}
	k := keys{method: method}
	if cfg.JWKS != nil {
		if len(cfg.PublicKey) > 0 || len(cfg.PreviousPublicKey) > 0 || len(cfg.PrivateKey) > 0 {
			return keys{}, fmt.Errorf("%w: JWKS replaces PEM keys; set one or the other", ErrInvalidConfig)
		}
		return k, nil
	}
	if len(cfg.PrivateKey) > 0 {
		priv, err := parsePrivateKey(cfg.Algorithm, cfg.PrivateKey)
		if err != nil {
			return keys{}, fmt.Errorf("%w: private key: %w", ErrInvalidConfig, err)
		}
		k.signing = priv
	}
	switch {
	case len(cfg.PublicKey) > 0:
		pub, err := parsePublicKey(cfg.Algorithm, cfg.PublicKey)
		if err != nil {
			return keys{}, fmt.Errorf("%w: public key: %w", ErrInvalidConfig, err)
		}
		if k.signing != nil && !samePublicKey(k.signing.(crypto.Signer).Public(), pub) {
			return keys{}, fmt.Errorf("%w: private key does not match public key", ErrInvalidConfig)
		}
		k.current = pub
	case k.signing != nil:
		k.current = k.signing.(crypto.Signer).Public()
	default:
		return keys{}, fmt.Errorf("%w: %s requires PublicKey", ErrInvalidConfig, cfg.Algorithm)
	}
	if len(cfg.PreviousPublicKey) > 0 {
		pub, err := parsePublicKey(cfg.Algorithm, cfg.PreviousPublicKey)
		if err != nil {
			return keys{}, fmt.Errorf("%w: previous public key: %w", ErrInvalidConfig, err)
		}
		k.previous = pub
	}
	return k, nil
}

// signingMethod returns the jwt method for one of the supported algorithms.
func signingMethod(alg string) (jwt.SigningMethod, error) {
	switch alg {
	case "HS256":
		return jwt.SigningMethodHS256, nil
	case "HS384":
		return jwt.SigningMethodHS384, nil
	case "HS512":
		return jwt.SigningMethodHS512, nil
	case "RS256":
		return jwt.SigningMethodRS256, nil
	case "ES256":
		return jwt.SigningMethodES256, nil
	case "EdDSA":
		return jwt.SigningMethodEdDSA, nil
	}
	return nil, fmt.Errorf("unsupported algorithm %q", alg)
}

// isHMAC reports whether alg is one of the HS* algorithms.
func isHMAC(alg string) bool {
	return alg == "HS256" || alg == "HS384" || alg == "HS512"
}

// minSecretLen returns the smallest secret RFC 7518 §3.2 allows for an HS* algorithm.
func minSecretLen(alg string) int {
	switch alg {
	case "HS384":
		return 48
	case "HS512":
		return 64
	}
	return 32
}

// checkSecret rejects an HMAC secret shorter than the algorithm's hash output.
func checkSecret(alg string, secret []byte) error {
	if n := minSecretLen(alg); len(secret) < n {
		return fmt.Errorf("%s needs at least %d bytes, got %d", alg, n, len(secret))
	}
	return nil
}

// parsePublicKey parses a PEM public key and checks that it fits alg.
func parsePublicKey(alg string, pemBytes []byte) (crypto.PublicKey, error) {
	var (
		pub crypto.PublicKey
		err error
	)
	switch alg {
	case "RS256":
		pub, err = jwt.ParseRSAPublicKeyFromPEM(pemBytes)
	case "ES256":
		pub, err = jwt.ParseECPublicKeyFromPEM(pemBytes)
	case "EdDSA":
		pub, err = jwt.ParseEdPublicKeyFromPEM(pemBytes)
	default:
		return nil, fmt.Errorf("unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, err
	}
	return pub, checkKeyFits(alg, pub)
}

// parsePrivateKey parses a PEM private key and checks that it fits alg.
func parsePrivateKey(alg string, pemBytes []byte) (crypto.Signer, error) {
	var (
		priv crypto.PrivateKey
		err  error
	)
	switch alg {
	case "RS256":
		priv, err = jwt.ParseRSAPrivateKeyFromPEM(pemBytes)
	case "ES256":
		priv, err = jwt.ParseECPrivateKeyFromPEM(pemBytes)
	case "EdDSA":
		priv, err = jwt.ParseEdPrivateKeyFromPEM(pemBytes)
	default:
		return nil, fmt.Errorf("unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, err
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%T is not a signing key", priv)
	}
	return signer, checkKeyFits(alg, signer.Public())
}

// checkKeyFits checks the type and size of a public key against alg.
func checkKeyFits(alg string, pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if alg != "RS256" {
			break
		}
		if bits := k.N.BitLen(); bits < MinRSAKeyBits {
			return fmt.Errorf("RSA key of %d bits, need at least %d", bits, MinRSAKeyBits)
		}
		return nil
	case *ecdsa.PublicKey:
		if alg != "ES256" {
			break
		}
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("ES256 needs a P-256 key, got %s", k.Curve.Params().Name)
		}
		return nil
	case ed25519.PublicKey:
		if alg == "EdDSA" && len(k) == ed25519.PublicKeySize {
			return nil
		}
	}
	return fmt.Errorf("%T key does not fit %s", pub, alg)
}

// samePublicKey reports whether two public keys are equal.
func samePublicKey(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}
