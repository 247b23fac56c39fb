package wse

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wse-go/wse/auth"
	"github.com/wse-go/wse/internal/topic"
	"github.com/wse-go/wse/internal/wsconn"
	"github.com/wse-go/wse/protocol"
)

// ServeHTTP accepts WebSocket upgrades on Config.Path and passes every other
// request to Config.Fallback (404 without one). It may be mounted in another
// HTTP server while the Server is running.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	markServed(r)
	if r.URL.Path != s.cfg.Path {
		if s.cfg.Fallback != nil {
			s.cfg.Fallback.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
		return
	}
	start := time.Now()
	s.stats.handshakes.Add(1)
	if status, why, reason := s.admit(r); status != 0 {
		s.stats.rejected.Add(1)
		s.refuse(reason)
		http.Error(w, why, status)
		return
	}
	defer s.handshakes.Add(-1)

	var claims *auth.Claims
	var authErr error
	token := ""
	if s.verifier != nil {
		token = auth.TokenFromRequest(r, s.cfg.JWT.CookieName)
		if token == "" {
			authErr = errAuthRequired
		} else {
			claims, authErr = s.verifier.Verify(token)
		}
	}
	if token == "" && s.cfg.Hooks.Connect != nil {
		s.serveHooked(w, r)
		return
	}
	nc, buffered, err := wsconn.Upgrade(w, r)
	if err != nil {
		s.stats.rejected.Add(1)
		s.refuse(refusalBadUpgrade)
		return
	}
	switch {
	case authErr == errAuthRequired && s.cfg.JWT.AuthFirstMessage:
		s.awaitAuth(nc, buffered, r)
	case authErr != nil:
		s.rejectAuth(nc, authErr)
	default:
		s.register(nc, buffered, r, claims)
		s.latency.handshake.observe(time.Since(start))
	}
}

// serveHooked completes an upgrade without a token that the Connect hook
// decides: the hook runs first, on this request's goroutine.
func (s *Server) serveHooked(w http.ResponseWriter, r *http.Request) {
	id, d := s.connectHook(r)
	nc, buffered, err := wsconn.Upgrade(w, r)
	if err != nil {
		s.stats.rejected.Add(1)
		return
	}
	if !d.Allow {
		s.rejectHook(nc, d)
		return
	}
	s.registerAs(id, nc, buffered, r, d.claimsOf(), func(c *conn) {
		if len(d.Topics) == 0 {
			return
		}
		if err := validateTopics(d.Topics); err != nil {
			s.cfg.Logger.Warn("wse: connect hook topics", "conn_id", c.id, "error", err)
			return
		}
		if err := s.subscribeConn(c, d.Topics, d.Presence); err != nil {
			s.cfg.Logger.Warn("wse: connect hook topics", "conn_id", c.id, "error", err)
		}
	})
}

// admit decides whether an upgrade request may proceed; it returns an HTTP
// status, its text and the refusal reason when it may not, and counts the
// handshake otherwise.
func (s *Server) admit(r *http.Request) (int, string, refusal) {
	if !s.running.Load() || s.draining.Load() {
		return http.StatusServiceUnavailable, "server not accepting connections", refusalDraining
	}
	if !s.originAllowed(r) {
		return http.StatusForbidden, "origin not allowed", refusalOrigin
	}
	if n := s.handshakes.Add(1); n > int64(s.cfg.MaxPendingHandshakes) {
		s.handshakes.Add(-1)
		return http.StatusServiceUnavailable, "too many handshakes in progress", refusalHandshakeLimit
	}
	if s.conns.count.Load()+s.handshakes.Load()+s.awaitingAuth.Load()-1 >= int64(s.cfg.MaxConnections) {
		s.handshakes.Add(-1)
		return http.StatusServiceUnavailable, "too many connections", refusalConnectionLimit
	}
	return 0, "", 0
}

// originAllowed applies the Origin check: no Origin passes; otherwise the
// origin's host must equal the request host or be listed in AllowedOrigins.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	for _, o := range s.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// rejectAuth sends the auth error frame and closes with 4401 (PROTOCOL §1).
func (s *Server) rejectAuth(nc net.Conn, authErr error) {
	s.stats.authFailures.Add(1)
	s.refuse(authRefusal(authErr))
	s.cfg.Logger.Info("wse: auth failed", "remote", nc.RemoteAddr().String(), "reason", authErr.Error())
	ws, err := s.engine.Adopt(nc, nopHandler{}, wsconn.AdoptOptions{Initial: authErrorFrame(authErr)})
	if err != nil {
		return
	}
	ws.Close(protocol.CloseAuthFailed, "Authentication failed")
}

// authRefusal is the refusal reason of a 4401 close for authErr.
func authRefusal(authErr error) refusal {
	if errors.Is(authErr, errAuthRequired) || errors.Is(authErr, errNoAuthMessage) {
		return refusalAuthRequired
	}
	return refusalAuthFailed
}

// authErrorFrame is the error frame sent before closing with 4401.
func authErrorFrame(authErr error) []byte {
	code, msg := protocol.CodeAuthFailed, "Authentication failed"
	switch {
	case errors.Is(authErr, errAuthRequired):
		code, msg = protocol.CodeAuthRequired, "No JWT cookie or Authorization header"
	case errors.Is(authErr, errNoAuthMessage):
		code, msg = protocol.CodeAuthRequired, "No auth message"
	case isMissingSubject(authErr):
		msg = "Token missing user ID"
	}
	return wsconn.BuildFrame(wsconn.OpText, protocol.Error(code, msg, 0, time.Now()))
}

// register creates the connection, queues server_ready as its first frame
// while making it visible (so the client can use its id as soon as it reads
// server_ready), emits its connect event and only then starts reading.
func (s *Server) register(nc net.Conn, buffered []byte, r *http.Request, claims *auth.Claims) {
	s.registerAs(protocol.NewID(), nc, buffered, r, claims, nil)
}

// registerAs is register with the connection's id chosen, and then, when
// not nil, run after activation and before the first read.
func (s *Server) registerAs(id string, nc net.Conn, buffered []byte, r *http.Request, claims *auth.Claims, then func(*conn)) {
	u := upgradeOf(r)
	c := s.newConn(u)
	c.id = id
	ws, err := s.engine.Adopt(nc, (*engineHandler)(s), wsconn.AdoptOptions{
		Buffered: buffered,
		Context:  c,
		Paused:   true,
	})
	if err != nil {
		s.stats.rejected.Add(1)
		s.refuse(refusalDraining)
		return
	}
	c.ws = ws
	s.activate(c, claims, u)
	if then != nil {
		then(c)
	}
	ws.Resume()
}

// newConn makes the engine state of a connection upgraded with u.
func (s *Server) newConn(u upgrade) *conn {
	return &conn{
		id:      protocol.NewID(),
		srv:     s,
		msgpack: u.query.Get("format") == "msgpack",
	}
}

// upgrade is what activate needs from the upgrade request, kept after the
// request is gone.
type upgrade struct {
	query   url.Values
	cookies string
}

// upgradeOf keeps the query and cookies of an upgrade request.
func upgradeOf(r *http.Request) upgrade {
	return upgrade{query: r.URL.Query(), cookies: r.Header.Get("Cookie")}
}

// activate makes an adopted connection visible: it queues server_ready
// while registering it, emits its connect event and handles ?topics. The
// connection must not be reading yet (paused, or inside its own OnMessage),
// so that the connect event precedes its first message.
func (s *Server) activate(c *conn, claims *auth.Claims, h upgrade) {
	if claims != nil {
		c.userID = claims.Subject
		if claims.Topics != nil {
			c.acl = &topic.ACL{Allow: claims.Topics.Allow, Deny: claims.Topics.Deny}
		}
	}
	ws := c.ws
	ready := protocol.ServerReady(c.id, c.userID, s.features(), time.Now())
	s.conns.add(c, wsconn.BuildFrame(wsconn.OpText, ready))
	s.stats.accepted.Add(1)
	s.cfg.Logger.Debug("wse: connected", "conn_id", c.id, "user_id", c.userID, "remote", ws.RemoteAddr())
	if claims != nil {
		s.in.push(Event{Type: EventAuthConnect, ConnID: c.id, UserID: c.userID})
	} else {
		s.in.push(Event{Type: EventConnect, ConnID: c.id, Cookies: h.cookies})
	}
	if q := h.query.Get("topics"); q != "" {
		req := queryTopicsRequest(q)
		if s.cfg.ClientSubscriptions == PolicyApp {
			s.in.push(Event{Type: EventMessage, ConnID: c.id, Message: req})
		} else {
			s.handleSubscription(c, req)
		}
	}
}

// queryTopicsRequest turns ?topics=a,b into the subscription request the
// clients mean by it.
func queryTopicsRequest(q string) map[string]any {
	var topics []any
	for _, t := range strings.Split(q, ",") {
		if t = strings.TrimSpace(t); t != "" {
			topics = append(topics, t)
		}
	}
	return map[string]any{
		"c": "WSE",
		"t": "subscription_update",
		"p": map[string]any{"action": "subscribe", "topics": topics},
	}
}

// features returns what server_ready and server_hello advertise.
func (s *Server) features() protocol.Features {
	return protocol.Features{
		Recovery:   s.cfg.Recovery.Enabled,
		Presence:   s.cfg.Presence.Enabled,
		Encryption: !s.cfg.DisableEncryption,
	}
}

// nopHandler ignores input of connections that are only being closed.
type nopHandler struct{}

func (nopHandler) OnMessage(*wsconn.Conn, wsconn.Opcode, []byte) {}
func (nopHandler) OnClose(*wsconn.Conn, int, string)             {}

func isMissingSubject(err error) bool { return errors.Is(err, auth.ErrMissingSubject) }
