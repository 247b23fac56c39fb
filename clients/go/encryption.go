package wseclient

import (
	"encoding/json"
	"fmt"

	"github.com/gobwas/ws"

	"github.com/wse-go/wse/internal/e2e"
)

// codeKeyExchangeFailed is the error code of a server that refused the
// client's public key (PROTOCOL §9).
const codeKeyExchangeFailed = "KEY_EXCHANGE_FAILED"

// seal returns the opcode and payload that carry text: a text frame, or an
// "E:" binary frame once the connection is encrypted.
func (s *session) seal(text []byte) (ws.OpCode, []byte) {
	if key := s.key.Load(); key != nil {
		return ws.OpBinary, key.Seal(nil, text)
	}
	return ws.OpText, text
}

// noteKeyRefusal remembers the message of a KEY_EXCHANGE_FAILED error that
// arrives while the session waits for server_hello, to say why encryption
// was refused.
func (s *session) noteKeyRefusal(m Message) {
	if s.offer == nil {
		return
	}
	var p struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(m.Payload, &p) == nil && p.Code == codeKeyExchangeFailed {
		s.keyRefusal = p.Code + ": " + p.Message
	}
}

// onHello handles the server_hello a session with Options.Encryption waits
// for: with the server's key it derives the session key, without one the
// connection stays in plaintext and EventEncryptionRefused follows
// EventConnected. Either way the session then starts. A server_hello the
// session does not wait for is ignored; the server keys a connection once.
func (s *session) onHello(m Message) error {
	offer := s.offer
	if offer == nil {
		return nil
	}
	s.offer = nil
	var p struct {
		Key string `json:"encryption_public_key"`
	}
	_ = json.Unmarshal(m.Payload, &p) // a payload without a key refuses
	c := s.c
	if p.Key == "" {
		c.mu.Lock()
		connID, offered := c.connID, c.features.Encryption
		c.mu.Unlock()
		reason := s.keyRefusal
		switch {
		case reason != "":
		case !offered:
			reason = "the server has encryption disabled"
		default:
			reason = "server_hello carries no key"
		}
		return s.start(&Event{Kind: EventEncryptionRefused, ConnID: connID, Err: fmt.Errorf("%w: %s", ErrEncryptionRefused, reason)})
	}
	key, err := offer.Complete(p.Key)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrKeyExchange, err)
	}
	s.key.Store(key)
	c.mu.Lock()
	c.encrypted = true
	c.mu.Unlock()
	return s.start(nil)
}

// openFrame returns what to decode of a frame of opcode op: with
// encryption on, the plaintext of a binary frame that starts with "E:",
// opened with key (nil while none is negotiated); else data itself. An "E:"
// frame that cannot be opened is an error wrapping errDecrypt.
func openFrame(op ws.OpCode, data []byte, encryption bool, key *e2e.Session) ([]byte, error) {
	if !encryption || op != ws.OpBinary || !e2e.IsEncrypted(data) {
		return data, nil
	}
	if key == nil {
		return nil, fmt.Errorf("%w: no key negotiated", errDecrypt)
	}
	plain, err := key.Open(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDecrypt, err)
	}
	return plain, nil
}
