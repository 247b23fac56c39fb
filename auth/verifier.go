package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TopicsClaim is the name of the claim that carries a connection's topic ACL.
const TopicsClaim = "wse_topics"

// Claims are the verified claims the engine uses.
type Claims struct {
	// Subject is the "sub" claim, a non-empty string: the user id.
	Subject string
	// Topics is the "wse_topics" claim, nil when the token has none.
	Topics *TopicClaim
	// ExpiresAt is the "exp" claim.
	ExpiresAt time.Time
	// Raw holds every claim as decoded from JSON (numbers are float64).
	Raw map[string]any
}

// TopicClaim is the "wse_topics" claim: the globs of topics the connection
// may subscribe to (Allow) and may not (Deny).
type TopicClaim struct {
	// Allow lists the globs of permitted topics.
	Allow []string `json:"allow"`
	// Deny lists the globs of forbidden topics; Deny wins over Allow.
	Deny []string `json:"deny"`
}

// Verifier verifies tokens; safe for concurrent use.
type Verifier struct {
	parser  *jwt.Parser
	keyfunc jwt.Keyfunc
	method  jwt.SigningMethod
	// current is the key tried when the "kid" matches: the current key alone,
	// or a jwt.VerificationKeySet of the current and the previous key.
	current  any
	previous any // nil when no rotation key is configured
	signing  any // nil when Verifier.Sign cannot sign
	keyID    string
	maxSize  int

	// jwks, when set, supplies the keys by kid for algorithm alg.
	jwks *JWKS
	alg  string
}

// NewVerifier validates cfg and returns a Verifier for it. An unusable
// configuration (short secret, bad PEM, unknown algorithm) is an error
// wrapping ErrInvalidConfig.
func NewVerifier(cfg Config) (*Verifier, error) {
	cfg = cfg.withDefaults()
	k, err := cfg.parseKeys()
	if err != nil {
		return nil, err
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{cfg.Algorithm}),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithExpirationRequired(),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v := &Verifier{
		parser:   jwt.NewParser(opts...),
		method:   k.method,
		current:  k.current,
		previous: k.previous,
		signing:  k.signing,
		jwks:     cfg.JWKS,
		alg:      cfg.Algorithm,
		keyID:    cfg.KeyID,
		maxSize:  cfg.MaxTokenSize,
	}
	if k.previous != nil {
		v.current = jwt.VerificationKeySet{Keys: []jwt.VerificationKey{k.current, k.previous}}
	}
	v.keyfunc = v.keyFor
	return v, nil
}

// keyFor picks the verification key(s) for a parsed but unverified token:
// the current key (then the previous one) when the "kid" header matches
// Config.KeyID or no KeyID is configured, otherwise only the previous key.
// With a JWKS, the key of the token's "kid" (see JWKS).
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	if v.jwks != nil {
		kid, _ := t.Header["kid"].(string)
		if v.keyID != "" && kid != v.keyID {
			return nil, errKeyIDMismatch
		}
		return v.jwks.key(kid, v.alg)
	}
	if v.keyID != "" {
		if kid, _ := t.Header["kid"].(string); kid != v.keyID {
			if v.previous == nil {
				return nil, errKeyIDMismatch
			}
			return v.previous, nil
		}
	}
	return v.current, nil
}

// Verify checks token and returns its claims. It checks, in order: size <=
// MaxTokenSize (ErrTokenTooLarge), the configured algorithm only ("none" and
// every other algorithm are refused), the "kid" when KeyID is configured, the
// signature (Secret, then PreviousSecret), "exp" required (ErrTokenExpired
// beyond the leeway), "nbf", "iss"/"aud" when configured, "sub" a non-empty
// string (ErrMissingSubject) and a well-formed "wse_topics" when present.
// Every failure satisfies errors.Is(err, ErrInvalidToken).
func (v *Verifier) Verify(token string) (*Claims, error) {
	return v.verify(token, v.keyfunc)
}

// VerifyNoWait is Verify for callers that must not wait on the network:
// with a JWKS, a token whose kid is not in the keys held is refused at once
// and a refresh of the set starts in the background (rate-limited as
// usual), so that the client's next attempt finds the key. Without a JWKS
// it is Verify.
func (v *Verifier) VerifyNoWait(token string) (*Claims, error) {
	if v.jwks == nil {
		return v.verify(token, v.keyfunc)
	}
	return v.verify(token, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if v.keyID != "" && kid != v.keyID {
			return nil, errKeyIDMismatch
		}
		return v.jwks.keyNoWait(kid, v.alg)
	})
}

// verify checks token with the keys keyfunc picks.
func (v *Verifier) verify(token string, keyfunc jwt.Keyfunc) (*Claims, error) {
	if len(token) > v.maxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTokenTooLarge, len(token), v.maxSize)
	}
	if token == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidToken)
	}
	mc := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, mc, keyfunc); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, fmt.Errorf("%w: %w", ErrTokenExpired, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	sub, _ := mc["sub"].(string)
	if sub == "" {
		return nil, ErrMissingSubject
	}
	c := &Claims{Subject: sub, Raw: mc}
	if exp, _ := mc.GetExpirationTime(); exp != nil { // present: validation requires it
		c.ExpiresAt = exp.Time
	}
	if raw, ok := mc[TopicsClaim]; ok {
		tc, err := parseTopicClaim(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidToken, TopicsClaim, err)
		}
		c.Topics = tc
	}
	return c, nil
}

// parseTopicClaim decodes the JSON value of "wse_topics": an object whose only
// keys are "allow" and "deny", each a list of strings (or null).
func parseTopicClaim(raw any) (*TopicClaim, error) {
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want an object, got %s", jsonKind(raw))
	}
	tc := &TopicClaim{}
	for key, val := range obj {
		list, err := stringList(val)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", key, err)
		}
		switch key {
		case "allow":
			tc.Allow = list
		case "deny":
			tc.Deny = list
		default:
			return nil, fmt.Errorf("unknown key %q", key)
		}
	}
	return tc, nil
}

// stringList converts a decoded JSON array of strings; null gives nil.
func stringList(val any) ([]string, error) {
	if val == nil {
		return nil, nil
	}
	arr, ok := val.([]any)
	if !ok {
		return nil, fmt.Errorf("want an array of strings, got %s", jsonKind(val))
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("element %d: want a string, got %s", i, jsonKind(e))
		}
		out[i] = s
	}
	return out, nil
}

// jsonKind names the JSON type of a value decoded by encoding/json.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
