package wse

import (
	"encoding/json"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/wse-go/wse/internal/wsconn"
	"github.com/wse-go/wse/protocol"
)

// Gate states.
const (
	gateWaiting int32 = iota
	gateOpen
	gateFailed
)

// authGate is the handler of a connection that upgraded without a token
// while JWT.AuthFirstMessage is on (PROTOCOL §1): its first text frame must
// be {"t":"auth","p":{"token":"…"}}. Until then nothing is sent to it, it
// is not registered and the application sees nothing; with a valid token it
// is activated like a connection that brought its token, and the gate then
// passes everything to the engine handler. OnMessage and OnClose run on the
// connection's poller goroutine; the timer races them through state.
type authGate struct {
	s     *Server
	c     *conn
	h     upgrade
	state atomic.Int32
	timer *time.Timer
}

var _ wsconn.Handler = (*authGate)(nil)

// awaitAuth adopts a connection that must authenticate with its first
// message. It counts against MaxConnections while it waits.
func (s *Server) awaitAuth(nc net.Conn, buffered []byte, r *http.Request) {
	u := upgradeOf(r)
	g := &authGate{s: s, c: s.newConn(u), h: u}
	// The timer exists (stopped) before the connection can close, and is
	// armed once g.c.ws is set.
	g.timer = time.AfterFunc(time.Hour, func() { g.fail(errNoAuthMessage) })
	g.timer.Stop()
	s.awaitingAuth.Add(1)
	ws, err := s.engine.Adopt(nc, g, wsconn.AdoptOptions{Buffered: buffered, Context: g.c, Paused: true})
	if err != nil {
		s.awaitingAuth.Add(-1)
		s.stats.rejected.Add(1)
		s.refuse(refusalDraining)
		return
	}
	g.c.ws = ws
	g.timer.Reset(s.cfg.JWT.AuthFirstMessageTimeout)
	ws.Resume()
}

// authMessage is the first-message auth frame.
type authMessage struct {
	T string `json:"t"`
	P struct {
		Token string `json:"token"`
	} `json:"p"`
}

// OnMessage checks the first message, then forwards to the engine.
func (g *authGate) OnMessage(ws *wsconn.Conn, op wsconn.Opcode, data []byte) {
	switch g.state.Load() {
	case gateOpen:
		(*engineHandler)(g.s).OnMessage(ws, op, data)
		return
	case gateFailed:
		return
	}
	if g.s.draining.Load() {
		// Drain closed every registered client; this one must not slip in.
		if g.leave(gateFailed) {
			g.s.refuse(refusalDraining)
			ws.Close(protocol.CloseDrain, "server draining")
		}
		return
	}
	var m authMessage
	if op != wsconn.OpText || json.Unmarshal(data, &m) != nil || m.T != "auth" || m.P.Token == "" {
		if m.T == protocol.TypePing {
			return // clients may ping while they wait
		}
		g.fail(errNoAuthMessage)
		return
	}
	// On the poller: a JWKS lookup must not wait on the network.
	claims, err := g.s.verifier.VerifyNoWait(m.P.Token)
	if err != nil {
		g.fail(err)
		return
	}
	if !g.leave(gateOpen) {
		return // timed out meanwhile
	}
	g.s.activate(g.c, claims, g.h)
}

// OnClose forwards for an activated connection; otherwise it ends the wait.
func (g *authGate) OnClose(ws *wsconn.Conn, code int, reason string) {
	if g.state.Load() == gateOpen {
		(*engineHandler)(g.s).OnClose(ws, code, reason)
		return
	}
	g.leave(gateFailed)
}

// fail sends the auth error and closes with 4401, once.
func (g *authGate) fail(err error) {
	if !g.leave(gateFailed) {
		return
	}
	g.s.stats.authFailures.Add(1)
	g.s.refuse(authRefusal(err))
	g.s.cfg.Logger.Info("wse: first-message auth failed", "remote", g.c.ws.RemoteAddr(), "reason", err.Error())
	_ = g.c.ws.Enqueue(authErrorFrame(err))
	g.c.ws.Close(protocol.CloseAuthFailed, "Authentication failed")
}

// leave ends the wait in state to (gateOpen or gateFailed), once: it stops
// the timer and stops counting the connection as waiting. It reports false
// when the wait had already ended.
func (g *authGate) leave(to int32) bool {
	if !g.state.CompareAndSwap(gateWaiting, to) {
		return false
	}
	g.timer.Stop()
	g.s.awaitingAuth.Add(-1)
	return true
}
