package wse

import (
	"time"

	"github.com/wse-go/wse/auth"
	"github.com/wse-go/wse/protocol"
)

// EnableDrainMode selects the pull model (DrainInbound or Events). It
// exists for parity with the original WSE server's API: events are queued
// from the start whichever mode is used, so calling it is optional.
func (s *Server) EnableDrainMode() {}

// DrainInbound waits up to timeout for the first event, then returns it with
// up to max-1 more that are already queued.
func (s *Server) DrainInbound(max int, timeout time.Duration) []Event {
	return s.in.drain(max, timeout, s.stop)
}

// Events returns the inbound event channel, for use in a select loop. It
// reads the same queue as DrainInbound (use one or the other); the channel
// is unbuffered and fed by one engine goroutine started on the first call.
func (s *Server) Events() <-chan Event { return s.in.events(s.stop, s.goTracked) }

// SetCallbacks delivers events to cb instead of the queue readers. Only the
// first call takes effect; callbacks stop when the server stops.
func (s *Server) SetCallbacks(cb Callbacks) {
	s.in.dispatch(cb, s.cfg.CallbackWorkers, s.stop, s.goTracked)
}

// EncodeJWT returns an HS256 token of claims signed with secret (at least
// 32 bytes), as the original WSE server's API encodes tokens.
func EncodeJWT(claims map[string]any, secret []byte) (string, error) {
	return auth.EncodeHS256(claims, secret)
}

// TransformEvent turns an application event into the WSE envelope map, as
// the original WSE server does: type mapped through typeMap, payload, id,
// ts, seq and v. It returns false when event cannot be transformed.
func TransformEvent(event map[string]any, seq uint64, typeMap map[string]string) (map[string]any, bool) {
	return protocol.TransformEvent(event, seq, typeMap)
}

// NewEnvelope builds the JSON text of a server message of type t with
// payload p, ready for Send or Broadcast.
func NewEnvelope(t string, p any) (string, error) {
	b, err := protocol.Event(map[string]any{"t": t, "p": p}, 0, timeNow())
	return string(b), err
}
