package wse

import (
	"bytes"
	"errors"
	"time"

	"github.com/wse-go/wse/internal/e2e"
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
		s.refuse(refusalRateLimited)
		if now.UnixNano()-c.lastLimit >= int64(time.Second) {
			c.lastLimit = now.UnixNano()
			retry := 1 / max(s.cfg.RateLimitRefill, 1)
			s.sendPlain(c, protocol.Error(protocol.CodeRateLimited, "Rate limit exceeded", retry, now))
		}
		return
	}
	if low && now.UnixNano()-c.lastWarn >= int64(time.Second) {
		c.lastWarn = now.UnixNano()
		capacity := s.cfg.RateLimitCapacity
		s.sendMessage(c, protocol.RateLimitWarning(capacity-c.tokens, capacity, c.tokens))
	}

	if op == wsconn.OpBinary && e2e.IsEncrypted(data) {
		var ok bool
		if op, data, ok = s.decrypt(c, data); !ok {
			return
		}
	}
	var in protocol.Inbound
	if op == wsconn.OpText {
		in = protocol.ClassifyText(data)
	} else {
		var err error
		in, err = protocol.ClassifyBinary(data, c.msgpack, s.cfg.MaxMessageSize)
		if errors.Is(err, protocol.ErrTooLarge) {
			s.stats.oversized.Add(1)
			s.refuse(refusalMessageTooBig)
			s.sendPlain(c, protocol.Error(protocol.CodeMessageTooLarge, "Inflated message too large", 0, now))
			ws.Close(protocol.CloseMessageTooBig, "message too big")
			return
		}
	}
	switch in.Kind {
	case protocol.KindPing:
		s.sendPlain(c, protocol.Pong(in.PingTimestamp, now))
	case protocol.KindPong:
	case protocol.KindClientHello:
		s.clientHello(c, in.Msg, now)
	case protocol.KindSubscription:
		if s.cfg.ClientSubscriptions == PolicyApp {
			s.in.push(Event{Type: EventMessage, ConnID: c.id, Message: in.Msg})
			return
		}
		s.handleSubscription(c, in.Msg)
	case protocol.KindBatch:
		for _, m := range in.Msgs {
			if s.hookTypes != nil && s.hookMessage(c, m) {
				continue
			}
			s.in.push(Event{Type: EventMessage, ConnID: c.id, Message: m})
		}
	case protocol.KindMsg:
		if s.hookTypes != nil && s.hookMessage(c, in.Msg) {
			return
		}
		s.in.push(Event{Type: EventMessage, ConnID: c.id, Message: in.Msg})
	case protocol.KindRaw:
		s.in.push(Event{Type: EventRaw, ConnID: c.id, Text: in.Raw})
	case protocol.KindBin:
		s.in.push(Event{Type: EventBinary, ConnID: c.id, Data: append([]byte(nil), in.Bin...)})
	}
}

// decrypt opens an "E:" frame (PROTOCOL §6). The plaintext is read as text,
// or as a binary frame when it is itself "C:"-compressed or "M:" MessagePack.
// A frame that cannot be opened (no session, tampered, truncated) is dropped,
// counted and answered with INVALID_MESSAGE.
func (s *Server) decrypt(c *conn, data []byte) (wsconn.Opcode, []byte, bool) {
	sess := c.e2e.Load()
	if sess == nil {
		s.stats.decryptFailures.Add(1)
		s.sendRefusal(c, refusalDecryptFailed, protocol.CodeInvalidMessage, "encrypted frame without a negotiated key")
		return 0, nil, false
	}
	plain, err := sess.Open(data)
	if err != nil {
		s.stats.decryptFailures.Add(1)
		s.sendRefusal(c, refusalDecryptFailed, protocol.CodeInvalidMessage, "cannot decrypt frame")
		return 0, nil, false
	}
	if bytes.HasPrefix(plain, []byte("C:")) || bytes.HasPrefix(plain, []byte("M:")) {
		return wsconn.OpBinary, plain, true
	}
	return wsconn.OpText, plain, true
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
	s.in.push(Event{Type: EventDisconnect, ConnID: c.id, UserID: c.userID, CloseCode: code})
}

// clientHello answers a client_hello with server_hello (PROTOCOL §2). A
// client asking for encryption with a public key gets the server's key in
// the reply, and every later message to it is sealed (PROTOCOL §5); the key
// is set once per connection, later hellos do not re-key. A bad key gets a
// KEY_EXCHANGE_FAILED error and the connection stays in plaintext.
func (s *Server) clientHello(c *conn, msg map[string]any, now time.Time) {
	hello := protocol.ParseClientHello(msg)
	var sess *e2e.Session
	var serverKey string
	if !s.cfg.DisableEncryption && hello.Encryption && hello.EncryptionPublicKey != "" && c.e2e.Load() == nil {
		var err error
		sess, serverKey, err = e2e.Accept(hello.EncryptionPublicKey)
		if err != nil {
			s.stats.keyExchangeFailures.Add(1)
			s.sendError(c, protocol.CodeKeyExchangeFailed, err.Error())
		}
	}
	if sess != nil {
		// Counted before the reply, so a client that has server_hello
		// finds itself in the metrics.
		s.stats.encryptedConns.Add(1)
	}
	s.sendPlain(c, s.serverHello(c, hello.ProtocolVersion, serverKey, now))
	if sess != nil {
		// Stored after server_hello is queued: every frame queued from now
		// on is sealed, and the client has the key before the first one.
		c.e2e.Store(sess)
	}
}

// serverHello builds the reply to a client_hello. Its features.encryption
// says whether this connection is encrypted (server_ready's says whether it
// can be): both clients complete the exchange only when it is true.
func (s *Server) serverHello(c *conn, clientVersion int, serverKey string, now time.Time) []byte {
	features := s.features()
	features.Encryption = serverKey != "" || c.e2e.Load() != nil
	return protocol.ServerHello(protocol.HelloInfo{
		ServerVersion:         s.cfg.ServerVersion,
		ClientProtocolVersion: clientVersion,
		EncryptionPublicKey:   serverKey,
		Features:              features,
		MaxMessageSize:        s.cfg.MaxMessageSize,
		RateLimitCapacity:     s.cfg.RateLimitCapacity,
		RateLimitRefill:       s.cfg.RateLimitRefill,
		PingInterval:          s.cfg.PingInterval,
		ConnID:                c.id,
		Now:                   now,
	})
}

// sendPlain frames text and enqueues it to c in plaintext: pings, PONGs,
// errors and server_hello are never encrypted (PROTOCOL §5).
func (s *Server) sendPlain(c *conn, text []byte) {
	_ = c.send(wsconn.BuildFrame(wsconn.OpText, text))
}

// sendMessage frames text and enqueues it to c, encrypted when c negotiated
// encryption.
func (s *Server) sendMessage(c *conn, text []byte) {
	_ = c.deliver(wsconn.BuildFrame(wsconn.OpText, text))
}
