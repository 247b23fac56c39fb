package wse

import (
	"errors"
	"time"

	"github.com/wse-go/wse/internal/wsconn"
	"github.com/wse-go/wse/protocol"
)

// engineHandler receives the transport's callbacks for registered
// connections. OnMessage runs on the connection's poller goroutine.
type engineHandler Server

var _ wsconn.Handler = (*engineHandler)(nil)

// OnMessage classifies one client message (PROTOCOL §6): native protocol
// messages are answered here, everything else becomes an Event.
func (h *engineHandler) OnMessage(ws *wsconn.Conn, op wsconn.Opcode, data []byte) {
	s := (*Server)(h)
	c, _ := ws.Context().(*conn)
	if c == nil {
		return
	}
	s.stats.messagesIn.Add(1)
	s.stats.bytesIn.Add(uint64(len(data)))
	now := time.Now()
	ok, low := c.allow(now.UnixNano(), s.cfg.RateLimitCapacity, s.cfg.RateLimitRefill)
	if !ok {
		s.stats.rateLimited.Add(1)
		if now.UnixNano()-c.lastLimit >= int64(time.Second) {
			c.lastLimit = now.UnixNano()
			retry := 1 / max(s.cfg.RateLimitRefill, 1)
			s.sendText(c, protocol.Error(protocol.CodeRateLimited, "Rate limit exceeded", retry, now))
		}
		return
	}
	if low && now.UnixNano()-c.lastWarn >= int64(time.Second) {
		c.lastWarn = now.UnixNano()
		capacity := s.cfg.RateLimitCapacity
		s.sendText(c, protocol.RateLimitWarning(capacity-c.tokens, capacity, c.tokens))
	}

	var in protocol.Inbound
	if op == wsconn.OpText {
		in = protocol.ClassifyText(data)
	} else {
		var err error
		in, err = protocol.ClassifyBinary(data, c.msgpack, s.cfg.MaxMessageSize)
		if errors.Is(err, protocol.ErrTooLarge) {
			s.stats.oversized.Add(1)
			s.sendText(c, protocol.Error(protocol.CodeMessageTooLarge, "Inflated message too large", 0, now))
			ws.Close(protocol.CloseMessageTooBig, "message too big")
			return
		}
	}
	switch in.Kind {
	case protocol.KindPing:
		s.sendText(c, protocol.Pong(in.PingTimestamp, now))
	case protocol.KindPong:
	case protocol.KindClientHello:
		s.sendText(c, s.serverHello(c, in.Msg, now))
	case protocol.KindSubscription:
		if s.cfg.ClientSubscriptions == PolicyApp {
			s.in.push(Event{Type: EventMessage, ConnID: c.id, Message: in.Msg})
			return
		}
		s.handleSubscription(c, in.Msg)
	case protocol.KindBatch:
		for _, m := range in.Msgs {
			s.in.push(Event{Type: EventMessage, ConnID: c.id, Message: m})
		}
	case protocol.KindMsg:
		s.in.push(Event{Type: EventMessage, ConnID: c.id, Message: in.Msg})
	case protocol.KindRaw:
		s.in.push(Event{Type: EventRaw, ConnID: c.id, Text: in.Raw})
	case protocol.KindBin:
		s.in.push(Event{Type: EventBinary, ConnID: c.id, Data: append([]byte(nil), in.Bin...)})
	}
}

// OnClose cleans up a registered connection and emits its disconnect event.
func (h *engineHandler) OnClose(ws *wsconn.Conn, code int, _ string) {
	s := (*Server)(h)
	c, _ := ws.Context().(*conn)
	if c == nil || !s.conns.remove(c.id) {
		return
	}
	s.dropTopics(c, true)
	s.cfg.Logger.Debug("wse: disconnected", "conn_id", c.id, "code", code)
	s.in.push(Event{Type: EventDisconnect, ConnID: c.id, CloseCode: code})
}

// serverHello builds the reply to a client_hello.
func (s *Server) serverHello(c *conn, hello map[string]any, now time.Time) []byte {
	return protocol.ServerHello(protocol.HelloInfo{
		ServerVersion:         s.cfg.ServerVersion,
		ClientProtocolVersion: protocol.ParseClientHello(hello).ProtocolVersion,
		Features:              s.features(),
		MaxMessageSize:        s.cfg.MaxMessageSize,
		RateLimitCapacity:     s.cfg.RateLimitCapacity,
		RateLimitRefill:       s.cfg.RateLimitRefill,
		PingInterval:          s.cfg.PingInterval,
		ConnID:                c.id,
		Now:                   now,
	})
}

// sendText frames text and enqueues it to c.
func (s *Server) sendText(c *conn, text []byte) {
	_ = c.send(wsconn.BuildFrame(wsconn.OpText, text))
}
