package server

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/internal/topic"
)

// APIEvent is one item of GET /api/events.
type APIEvent struct {
	// Type is the engine event type (connect, auth_connect, msg, raw, bin,
	// disconnect, presence_join, presence_leave).
	Type string `json:"type"`
	// ConnID is the connection concerned ("" for presence events).
	ConnID string `json:"conn_id"`
	// Data is the payload: the Cookie header (connect), the user id
	// (auth_connect), the message object (msg), the text (raw), the bytes
	// (bin, base64 in JSON), nil (disconnect) or {topic,user_id,data}
	// (presence_*).
	Data any `json:"data"`
}

// toAPIEvent converts an engine event into its API form.
func toAPIEvent(ev wse.Event) APIEvent {
	out := APIEvent{Type: string(ev.Type), ConnID: ev.ConnID}
	switch ev.Type {
	case wse.EventConnect:
		out.Data = ev.Cookies
	case wse.EventAuthConnect:
		out.Data = ev.UserID
	case wse.EventMessage:
		out.Data = ev.Message
	case wse.EventRaw:
		out.Data = ev.Text
	case wse.EventBinary:
		out.Data = ev.Data
	case wse.EventPresenceJoin, wse.EventPresenceLeave:
		if ev.Presence != nil {
			out.Data = ev.Presence
		}
	}
	return out
}

// eventBuffer is the bounded queue behind GET /api/events, bounded in
// events and in bytes (wse.Event.Size). When either bound is reached, the
// oldest events are discarded and counted, so that an endpoint nobody reads
// costs a fixed amount of memory and never slows the engine. Until the
// endpoint is first polled it keeps nothing (events are counted as skipped)
// unless it was made with keepBeforePoll.
type eventBuffer struct {
	discarded atomic.Uint64
	// skipped counts events not kept because nobody had polled yet.
	skipped atomic.Uint64
	// polled is set by the first wait.
	polled atomic.Bool

	maxBytes int64
	// mu guards the ring, bytes and wake.
	mu    sync.Mutex
	ring  []bufferedEvent
	head  int   // index of the oldest event
	n     int   // events held
	bytes int64 // sum of the held events' sizes
	wake  chan struct{}
}

// bufferedEvent is an event and the bytes it is charged.
type bufferedEvent struct {
	ev   APIEvent
	size int64
}

func newEventBuffer(size int, maxBytes int64, keepBeforePoll bool) *eventBuffer {
	b := &eventBuffer{ring: make([]bufferedEvent, size), maxBytes: maxBytes, wake: make(chan struct{})}
	b.polled.Store(keepBeforePoll)
	return b
}

// push appends ev, charged size bytes, discarding the oldest events while
// the buffer is full in events or in bytes. An event bigger than the whole
// byte bound is discarded itself.
func (b *eventBuffer) push(ev APIEvent, size int64) {
	if !b.polled.Load() {
		b.skipped.Add(1)
		return
	}
	if size > b.maxBytes {
		b.discarded.Add(1)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.n == len(b.ring) || (b.n > 0 && b.bytes+size > b.maxBytes) {
		b.bytes -= b.ring[b.head].size
		b.ring[b.head] = bufferedEvent{}
		b.head = (b.head + 1) % len(b.ring)
		b.n--
		b.discarded.Add(1)
	}
	b.ring[(b.head+b.n)%len(b.ring)] = bufferedEvent{ev: ev, size: size}
	b.n++
	b.bytes += size
	close(b.wake)
	b.wake = make(chan struct{})
}

// len returns the number of buffered events.
func (b *eventBuffer) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

// size returns the bytes charged to the buffered events.
func (b *eventBuffer) size() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bytes
}

// takeLocked removes up to max events; b.mu must be held.
func (b *eventBuffer) takeLocked(max int) []APIEvent {
	k := min(max, b.n)
	out := make([]APIEvent, k)
	for i := range k {
		j := (b.head + i) % len(b.ring)
		out[i] = b.ring[j].ev
		b.bytes -= b.ring[j].size
		b.ring[j] = bufferedEvent{}
	}
	b.head = (b.head + k) % len(b.ring)
	b.n -= k
	return out
}

// wait returns up to max events, waiting up to timeout for the first one.
// It returns early, possibly with none, when ctx is done. Each event goes to
// exactly one caller.
func (b *eventBuffer) wait(ctx context.Context, max int, timeout time.Duration) []APIEvent {
	b.polled.Store(true)
	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	for {
		b.mu.Lock()
		if b.n > 0 || timer == nil {
			out := b.takeLocked(max)
			b.mu.Unlock()
			return out
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-timer:
			timer = nil // take what is there, then return
		case <-ctx.Done():
			return []APIEvent{}
		}
	}
}

// pump is the one goroutine that reads the engine's events: it applies
// --subscribe-on-connect and fills the API buffer.
// It returns when stop is closed.
func (s *Server) pump(stop <-chan struct{}) {
	events := s.engine.Events()
	for {
		select {
		case ev := <-events:
			s.handleEvent(ev)
		case <-stop:
			return
		}
	}
}

// handleEvent processes one engine event. Connection lifecycle lines are
// logged by the engine itself (debug), so they are not repeated here.
func (s *Server) handleEvent(ev wse.Event) {
	if ev.Type == wse.EventConnect || ev.Type == wse.EventAuthConnect {
		s.subscribeOnConnect(ev)
	}
	if s.hooks != nil {
		s.hooks.Observe(ev)
	}
	if s.cfg.Dev && ev.Type == wse.EventMessage {
		s.relayDemoChat(ev)
	}
	s.events.push(toAPIEvent(ev), int64(ev.Size))
}

// subscribeOnConnect subscribes a new connection to the --subscribe-on-connect
// topics. Templates with {user_id} are skipped for connections without a
// user (no JWT configured).
func (s *Server) subscribeOnConnect(ev wse.Event) {
	if len(s.cfg.SubscribeOnConnect) == 0 {
		return
	}
	topics := make([]string, 0, len(s.cfg.SubscribeOnConnect))
	for _, t := range s.cfg.SubscribeOnConnect {
		if strings.Contains(t, topic.UserIDPlaceholder) {
			if ev.UserID == "" {
				continue
			}
			t = topic.Expand(t, ev.UserID)
		}
		topics = append(topics, t)
	}
	if len(topics) == 0 {
		return
	}
	err := s.engine.Subscribe(ev.ConnID, topics, nil)
	switch {
	case err == nil:
		s.log.Debug("subscribed on connect", "conn_id", ev.ConnID, "topics", topics)
	case errors.Is(err, wse.ErrUnknownConnection), errors.Is(err, wse.ErrServerStopped):
		s.log.Debug("subscribe on connect: connection gone", "conn_id", ev.ConnID)
	default:
		s.log.Warn("subscribe on connect failed", "conn_id", ev.ConnID, "error", err)
	}
}
