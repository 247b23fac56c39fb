package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wse-go/wse/auth"
)

// CheckConfig loads the YAML file at path on its own (no flags, no
// environment) and validates it, as `wse-server checkconfig FILE` does. The
// error wraps ErrInvalidConfig and names the setting, the file and the line.
func CheckConfig(path string) (Config, error) {
	if path == "" {
		return Config{}, fmt.Errorf("%w: checkconfig FILE", ErrUsage)
	}
	return Load([]string{"--config", path}, nil)
}

// gentokenFlags are the flags of gentoken that are not server settings.
var gentokenFlags = []string{"user", "ttl", "claims"}

// GenToken mints the token `wse-server gentoken` prints. args take --user
// (the subject, required), --ttl (lifetime, default 1h), --claims (a JSON
// object of extra claims) and any server setting, read with environ like
// the server reads its own: the token is signed with --jwt-secret and
// carries --jwt-issuer and --jwt-audience, so a token minted with the
// server's configuration is one the server accepts.
func GenToken(args, environ []string) (string, error) {
	own, rest, err := splitFlags(args, gentokenFlags)
	if err != nil {
		return "", err
	}
	cfg, err := LoadEnviron(rest, environ)
	if err != nil {
		return "", err
	}
	user, ok := own["user"]
	if !ok || user == "" {
		return "", fmt.Errorf("%w: gentoken --user ID [--ttl 1h] [--claims JSON]: --user is required", ErrUsage)
	}
	if cfg.JWTSecret == "" {
		return "", fmt.Errorf("%w: --jwt-secret: gentoken needs the server's secret (flag, WSE_JWT_SECRET or --config)", ErrInvalidConfig)
	}
	ttl := defaultTokenTTL
	if v, ok := own["ttl"]; ok {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d <= 0 || d > maxTokenTTL {
			return "", fmt.Errorf("%w: --ttl %q: want a positive duration up to %s (e.g. 90s, 1h)", ErrUsage, v, maxTokenTTL)
		}
		ttl = d
	}
	var claims map[string]any
	if v, ok := own["claims"]; ok {
		dec := json.NewDecoder(bytes.NewReader([]byte(v)))
		dec.UseNumber()
		if err := dec.Decode(&claims); err != nil || claims == nil {
			return "", fmt.Errorf("%w: --claims: not a JSON object (%q)", ErrUsage, v)
		}
	}
	tok, err := auth.Mint([]byte(cfg.JWTSecret), user, ttl, cfg.JWTIssuer, cfg.JWTAudience, claims)
	if err != nil {
		return "", fmt.Errorf("gentoken: %w", err)
	}
	return tok, nil
}

// splitFlags takes the flags named in names (-x v, --x v, --x=v) out of
// args; the rest is returned in order for Load.
func splitFlags(args, names []string) (map[string]string, []string, error) {
	own := map[string]string{}
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || !slices.Contains(names, name) {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, nil, fmt.Errorf("%w: --%s needs a value", ErrUsage, name)
			}
			i++
			value = args[i]
		}
		own[name] = value
	}
	return own, rest, nil
}
