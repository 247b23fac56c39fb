package auth

import (
	"net/http"
	"strings"
)

// TokenFromRequest extracts the token of an upgrade request: the cookie named
// cookieName (DefaultCookieName when empty) first, its value trimmed and
// unquoted, where empty, "undefined" and "null" count as absent; then the
// "Authorization: Bearer <token>" header, scheme case-insensitive. A present
// cookie is used even if its token is invalid: there is no fallback to the
// header. It returns "" when the request carries no token.
func TokenFromRequest(r *http.Request, cookieName string) string {
	if cookieName == "" {
		cookieName = DefaultCookieName
	}
	if tok := cookieToken(r.Header.Values("Cookie"), cookieName); tok != "" {
		return tok
	}
	return bearerToken(r.Header.Get("Authorization"))
}

// cookieToken returns the first usable value of the cookie named name in the
// given Cookie header lines. It parses leniently, unlike net/http, which drops
// cookies whose value holds bytes RFC 6265 forbids: such a cookie must still
// win over the Authorization header (and then fail verification).
func cookieToken(lines []string, name string) string {
	for _, line := range lines {
		for pair := range strings.SplitSeq(line, ";") {
			key, val, ok := strings.Cut(pair, "=")
			if !ok || strings.TrimSpace(key) != name {
				continue
			}
			val = strings.TrimSpace(val)
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = strings.TrimSpace(val[1 : len(val)-1])
			}
			if val != "" && val != "undefined" && val != "null" {
				return val
			}
		}
	}
	return ""
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header
// value, or "" for any other scheme.
func bearerToken(header string) string {
	header = strings.TrimSpace(header)
	i := strings.IndexAny(header, " \t")
	if i < 0 || !strings.EqualFold(header[:i], "Bearer") {
		return ""
	}
	return strings.TrimSpace(header[i+1:])
}
