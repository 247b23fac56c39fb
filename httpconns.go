package wse

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// MaxHeaderBytes bounds the request line and headers of an upgrade request
// (64 KiB). A bigger request gets HTTP 431 from net/http before the upgrade
// handler runs, counted as the bad_http_request refusal; a token must fit
// in it (docs/protocol.md §1).
const MaxHeaderBytes = 64 << 10

// httpConns follows the WebSocket listener's HTTP connections from accept
// to hijack or close, so that the requests net/http refuses itself (HTTP
// 431 for headers over MaxHeaderBytes, 400 for a malformed request, a
// header timeout) are counted as refusals although no handler sees them.
type httpConns struct {
	m sync.Map // net.Conn → *httpConnFlags
}

// httpConnFlags is what is known of one HTTP connection.
type httpConnFlags struct {
	active atomic.Bool // bytes of a request arrived
	served atomic.Bool // a request reached ServeHTTP
}

// servedKey is the request context key of a connection's *httpConnFlags.
type servedKey struct{}

// track is http.Server.ConnContext: it registers c.
func (h *httpConns) track(ctx context.Context, c net.Conn) context.Context {
	f := &httpConnFlags{}
	h.m.Store(c, f)
	return context.WithValue(ctx, servedKey{}, f)
}

// markServed records that r reached the handler.
func markServed(r *http.Request) {
	if f, ok := r.Context().Value(servedKey{}).(*httpConnFlags); ok {
		f.served.Store(true)
	}
}

// httpConnState is http.Server.ConnState: a connection that carried a
// request and closes without any having reached ServeHTTP was refused by
// net/http.
func (s *Server) httpConnState(c net.Conn, st http.ConnState) {
	switch st {
	case http.StateActive:
		if v, ok := s.httpConns.m.Load(c); ok {
			v.(*httpConnFlags).active.Store(true)
		}
	case http.StateHijacked:
		s.httpConns.m.Delete(c)
	case http.StateClosed:
		v, ok := s.httpConns.m.LoadAndDelete(c)
		if f, _ := v.(*httpConnFlags); ok && f.active.Load() && !f.served.Load() {
			s.stats.rejected.Add(1)
			s.refuse(refusalBadHTTPRequest)
		}
	}
}
