package server

import (
	"net/http"

	"github.com/wse-go/wse/internal/buildinfo"
	"github.com/wse-go/wse/monitor"
)

// Load-balancer probes served on the WebSocket listener, beside the
// upgrade path: they need no API key and reveal nothing but the status.
const (
	// healthzPath answers 200 while the process serves HTTP at all.
	healthzPath = "/healthz"
	// readyzPath answers 200 while new connections are accepted and 503
	// once the server drains or stops, so that a balancer moves new clients
	// elsewhere during a graceful shutdown.
	readyzPath = "/readyz"
)

// probeBody is the body of /healthz and /readyz.
type probeBody struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

// withProbes serves /healthz and /readyz from status (one of the
// monitor.Status values) and passes every other request to next (404
// when nil).
func withProbes(status func() string, next http.Handler) http.Handler {
	if next == nil {
		next = http.NotFoundHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != healthzPath && r.URL.Path != readyzPath {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			monitor.WriteError(w, http.StatusMethodNotAllowed, monitor.CodeMethodNotAllowed, r.Method+" not allowed, use GET")
			return
		}
		st := status()
		code := http.StatusOK
		if r.URL.Path == readyzPath && st != monitor.StatusOK {
			code = http.StatusServiceUnavailable
		}
		w.Header().Set("Cache-Control", "no-store")
		monitor.WriteJSON(w, code, probeBody{Status: st, Version: buildinfo.Get().Version})
	})
}
