package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Defaults applied by NewJWKS to zero JWKSConfig fields.
const (
	// DefaultJWKSRefreshInterval is the period of background refreshes.
	DefaultJWKSRefreshInterval = 5 * time.Minute
	// DefaultJWKSMinRefreshInterval is the least time between two fetches
	// that a token with an unknown "kid" may cause.
	DefaultJWKSMinRefreshInterval = 30 * time.Second
	// DefaultJWKSMaxAge is how long keys stay usable after the last
	// successful fetch while the JWKS host cannot be reached.
	DefaultJWKSMaxAge = 24 * time.Hour
	// DefaultJWKSTimeout bounds one fetch.
	DefaultJWKSTimeout = 5 * time.Second
	// DefaultJWKSMaxBytes bounds the JWKS document.
	DefaultJWKSMaxBytes = 1 << 20
)

// Errors of the JWKS key source; they surface wrapped in ErrInvalidToken.
var (
	// ErrUnknownKeyID reports a token "kid" that the key set does not have,
	// even after a refresh.
	ErrUnknownKeyID = errors.New("auth: unknown key id")
	// ErrKeysExpired reports a key set older than JWKSConfig.MaxAge: the
	// host could not be reached for that long.
	ErrKeysExpired = errors.New("auth: JWKS keys expired")
)

// JWKSConfig configures a JWKS key source.
type JWKSConfig struct {
	// URL is the JWKS document (RFC 7517 §5), http or https.
	URL string
	// Client fetches it (default: a client with Timeout).
	Client *http.Client
	// Timeout bounds one fetch (default 5s).
	Timeout time.Duration
	// RefreshInterval is the period of Run's refreshes (default 5m).
	RefreshInterval time.Duration
	// MinRefreshInterval rate-limits the fetches that tokens with an
	// unknown "kid" cause (default 30s).
	MinRefreshInterval time.Duration
	// MaxAge is how long keys stay usable after the last successful fetch
	// (default 24h): a JWKS host that is down does not lock users out
	// before then.
	MaxAge time.Duration
	// MaxBytes bounds the document (default 1 MiB).
	MaxBytes int64
}

// JWKS is a cached JSON Web Key Set fetched over HTTP: RSA (RS256), EC
// P-256 (ES256) and OKP Ed25519 (EdDSA) keys by "kid". Safe for
// concurrent use. A lookup of an unknown kid refreshes the set at once,
// at most every MinRefreshInterval, blocking that lookup for up to Timeout.
type JWKS struct {
	cfg JWKSConfig

	// mu guards the fields below.
	mu        sync.Mutex
	keys      map[string]jwk
	fetchedAt time.Time // last successful fetch
	triedAt   time.Time // last fetch attempt
	lastErr   error
	// refreshing is set while a background refresh started by keyNoWait runs.
	refreshing bool
	// fetching serializes fetches: one at a time.
	fetching sync.Mutex
}

// jwk is one parsed key.
type jwk struct {
	alg string // the algorithm it fits: RS256, ES256 or EdDSA
	key crypto.PublicKey
}

// NewJWKS validates cfg and returns an empty key set; call Refresh (or
// Run) to fetch it.
func NewJWKS(cfg JWKSConfig) (*JWKS, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: JWKS URL %q is not an http(s) URL", ErrInvalidConfig, cfg.URL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultJWKSTimeout
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = DefaultJWKSRefreshInterval
	}
	if cfg.MinRefreshInterval <= 0 {
		cfg.MinRefreshInterval = DefaultJWKSMinRefreshInterval
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultJWKSMaxAge
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultJWKSMaxBytes
	}
	return &JWKS{cfg: cfg, keys: map[string]jwk{}}, nil
}

// Refresh fetches the key set now. On failure the keys already held stay
// in use until MaxAge after their fetch.
func (j *JWKS) Refresh(ctx context.Context) error {
	j.fetching.Lock()
	defer j.fetching.Unlock()
	j.mu.Lock()
	j.triedAt = time.Now()
	j.mu.Unlock()
	keys, err := j.fetch(ctx)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lastErr = err
	if err != nil {
		return err
	}
	j.keys, j.fetchedAt = keys, time.Now()
	return nil
}

// Run refreshes the set every RefreshInterval until stop is closed,
// calling logf (when not nil) for each failure.
func (j *JWKS) Run(stop <-chan struct{}, logf func(err error)) {
	t := time.NewTicker(j.cfg.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), j.cfg.Timeout)
			if err := j.Refresh(ctx); err != nil && logf != nil {
				logf(err)
			}
			cancel()
		}
	}
}

// Len returns the number of usable keys held.
func (j *JWKS) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.keys)
}

// key returns the key for kid that fits alg, refreshing the set once
// (rate-limited) when kid is unknown. An empty kid selects the only key
// of the set that fits alg.
func (j *JWKS) key(kid, alg string) (crypto.PublicKey, error) {
	k, err := j.cached(kid, alg)
	if !errors.Is(err, ErrUnknownKeyID) {
		return k, err
	}
	j.mu.Lock()
	due := time.Since(j.triedAt) >= j.cfg.MinRefreshInterval
	j.mu.Unlock()
	if due {
		ctx, cancel := context.WithTimeout(context.Background(), j.cfg.Timeout)
		rerr := j.Refresh(ctx)
		cancel()
		if rerr == nil {
			return j.cached(kid, alg)
		}
	}
	return nil, err
}

// keyNoWait is key without waiting: an unknown kid starts a background
// refresh when one is due and fails at once.
func (j *JWKS) keyNoWait(kid, alg string) (crypto.PublicKey, error) {
	k, err := j.cached(kid, alg)
	if !errors.Is(err, ErrUnknownKeyID) {
		return k, err
	}
	j.mu.Lock()
	due := time.Since(j.triedAt) >= j.cfg.MinRefreshInterval && !j.refreshing
	if due {
		j.refreshing = true
		j.triedAt = time.Now()
	}
	j.mu.Unlock()
	if due {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), j.cfg.Timeout)
			defer cancel()
			_ = j.Refresh(ctx)
			j.mu.Lock()
			j.refreshing = false
			j.mu.Unlock()
		}()
	}
	return nil, err
}

// cached looks kid up in the keys held.
func (j *JWKS) cached(kid, alg string) (crypto.PublicKey, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.fetchedAt.IsZero() && time.Since(j.fetchedAt) > j.cfg.MaxAge {
		return nil, fmt.Errorf("%w: last fetched %s ago (%v)", ErrKeysExpired, time.Since(j.fetchedAt).Round(time.Second), j.lastErr)
	}
	if kid == "" {
		var only crypto.PublicKey
		n := 0
		for _, k := range j.keys {
			if k.alg == alg {
				only, n = k.key, n+1
			}
		}
		if n == 1 {
			return only, nil
		}
		return nil, fmt.Errorf("%w: token has no kid and the set has %d %s keys", ErrUnknownKeyID, n, alg)
	}
	k, ok := j.keys[kid]
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: %q", ErrUnknownKeyID, kid)
	case k.alg != alg:
		return nil, fmt.Errorf("%w: key %q is for %s, not %s", ErrUnknownKeyID, kid, k.alg, alg)
	}
	return k.key, nil
}

// fetch downloads and parses the set.
func (j *JWKS) fetch(ctx context.Context) (map[string]jwk, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.cfg.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := j.cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("auth: JWKS fetch: HTTP %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, j.cfg.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS read: %w", err)
	}
	if int64(len(data)) > j.cfg.MaxBytes {
		return nil, fmt.Errorf("auth: JWKS document over %d bytes", j.cfg.MaxBytes)
	}
	return parseJWKS(data)
}

// jwkJSON is a JSON Web Key's members that matter here (RFC 7517, 7518, 8037).
type jwkJSON struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS parses a JWKS document into its usable keys by kid: keys for
// signatures (no "use", or "sig") of type RSA (at least 2048 bits), EC
// P-256 or OKP Ed25519. Keys of other types or curves are skipped; a key
// of a supported type that does not parse is an error.
func parseJWKS(data []byte) (map[string]jwk, error) {
	var doc struct {
		Keys []jwkJSON `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("auth: JWKS is not a JSON key set: %w", err)
	}
	out := make(map[string]jwk, len(doc.Keys))
	for i, k := range doc.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		parsed, ok, err := k.parse()
		if err != nil {
			return nil, fmt.Errorf("auth: JWKS key %d (kid %q): %w", i, k.Kid, err)
		}
		if ok {
			out[k.Kid] = parsed
		}
	}
	return out, nil
}

// parse decodes one key; ok is false for a type this package does not use.
func (k jwkJSON) parse() (jwk, bool, error) {
	b64 := func(name, v string) ([]byte, error) {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("member %q is not base64url", name)
		}
		return b, nil
	}
	switch {
	case k.Kty == "RSA" && (k.Alg == "" || k.Alg == "RS256"):
		n, err := b64("n", k.N)
		if err != nil {
			return jwk{}, false, err
		}
		e, err := b64("e", k.E)
		if err != nil {
			return jwk{}, false, err
		}
		if len(e) > 4 {
			return jwk{}, false, errors.New("RSA exponent too large")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.E < 3 || pub.E%2 == 0 {
			return jwk{}, false, fmt.Errorf("RSA exponent %d is not an odd number of at least 3", pub.E)
		}
		if err := checkKeyFits("RS256", pub); err != nil {
			return jwk{}, false, err
		}
		return jwk{alg: "RS256", key: pub}, true, nil
	case k.Kty == "EC" && k.Crv == "P-256" && (k.Alg == "" || k.Alg == "ES256"):
		x, err := b64("x", k.X)
		if err != nil {
			return jwk{}, false, err
		}
		y, err := b64("y", k.Y)
		if err != nil {
			return jwk{}, false, err
		}
		if len(x) != 32 || len(y) != 32 {
			return jwk{}, false, errors.New("P-256 coordinates must be 32 bytes")
		}
		raw := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
		if err != nil {
			return jwk{}, false, fmt.Errorf("P-256 point: %w", err)
		}
		return jwk{alg: "ES256", key: pub}, true, nil
	case k.Kty == "OKP" && k.Crv == "Ed25519" && (k.Alg == "" || k.Alg == "EdDSA"):
		x, err := b64("x", k.X)
		if err != nil {
			return jwk{}, false, err
		}
		if len(x) != ed25519.PublicKeySize {
			return jwk{}, false, errors.New("Ed25519 key must be 32 bytes")
		}
		return jwk{alg: "EdDSA", key: ed25519.PublicKey(x)}, true, nil
	}
	return jwk{}, false, nil
}
