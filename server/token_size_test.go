package server

import (
	"net/http"
	"strings"
	"testing"
)

func TestOversizedTokensAreRefusedAsDocumented(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.JWTSecret = testSecret })
	// A 20 KiB token fits in the 64 KiB header limit: the upgrade completes
	// and the token is refused with AUTH_FAILED and 4401.
	c := dialRaw(t, srv, bearer(strings.Repeat("a", 20<<10)))
	if code := c.errorCodeNext(); code != "AUTH_FAILED" {
		t.Fatalf("20 KiB token: error code %s, want AUTH_FAILED", code)
	}
	if code := c.closeCode(); code != 4401 {
		t.Fatalf("20 KiB token: close %d, want 4401", code)
	}
	// A 100 KiB token takes the headers over 64 KiB: HTTP 431 before the
	// upgrade, in a cookie as in the Authorization header.
	for _, header := range []string{"Authorization: Bearer ", "Cookie: access_token="} {
		if got := rawUpgrade(t, srv, header+strings.Repeat("a", 100<<10)+"\r\n"); got != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("100 KiB token in %q: status %d, want 431", header, got)
		}
	}
	waitFor(t, "both 431s counted", func() bool { return srv.Engine().Refusals()["bad_http_request"] == 2 })
	if n := srv.Engine().Refusals()["auth_failed"]; n != 1 {
		t.Fatalf("auth_failed = %d, want 1", n)
	}
}
