package wse

import (
	"encoding/json"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"
)

// EventType names the kind of an Event; the values are the original WSE
// server's event names.
type EventType string

// Event types.
const (
	// EventConnect: a connection opened without JWT auth; Cookies holds the raw Cookie header.
	EventConnect EventType = "connect"
	// EventAuthConnect: an authenticated connection opened; UserID holds the JWT sub.
	EventAuthConnect EventType = "auth_connect"
	// EventMessage: a client JSON object; Message holds it.
	EventMessage EventType = "msg"
	// EventRaw: client text that is not a JSON object; Text holds it.
	EventRaw EventType = "raw"
	// EventBinary: a client binary frame; Data holds it.
	EventBinary EventType = "bin"
	// EventDisconnect: a connection closed.
	EventDisconnect EventType = "disconnect"
	// EventPresenceJoin: a user's first connection joined a topic's presence.
	EventPresenceJoin EventType = "presence_join"
	// EventPresenceLeave: a user's last connection left a topic's presence.
	EventPresenceLeave EventType = "presence_leave"
)

// Event is one item of the inbound stream.
type Event struct {
	// Type is the kind of event.
	Type EventType `json:"type"`
	// ConnID is the connection it concerns (empty for presence events).
	ConnID string `json:"conn_id,omitempty"`
	// UserID is the JWT subject or the Connect hook's user (auth_connect,
	// disconnect) or the presence user.
	UserID string `json:"user_id,omitempty"`
	// Cookies is the raw Cookie header (connect).
	Cookies string `json:"cookies,omitempty"`
	// Message is the parsed client object (msg).
	Message map[string]any `json:"message,omitempty"`
	// Text is the client text (raw).
	Text string `json:"text,omitempty"`
	// Data is the client bytes (bin).
	Data []byte `json:"data,omitempty"`
	// Presence describes a presence change (presence_join, presence_leave).
	Presence *PresenceChange `json:"presence,omitempty"`
	// CloseCode is the close code of a disconnect.
	CloseCode int `json:"close_code,omitempty"`
	// Size estimates the heap bytes the event holds (its payload and ids),
	// as charged against Config.MaxInboundQueueBytes; the engine sets it.
	// Queues downstream (wse-server's /api/events buffer) bound their bytes
	// with it.
	Size int `json:"-"`
}

// eventOverhead is what an Event costs besides its payload: the struct,
// its queue slot and the connection id.
const eventOverhead = 200

// sized returns ev with Size set.
func (ev Event) sized() Event {
	n := eventOverhead + len(ev.ConnID) + len(ev.UserID) + len(ev.Cookies) + len(ev.Text) + len(ev.Data)
	if ev.Message != nil {
		n += valueSize(ev.Message)
	}
	if p := ev.Presence; p != nil {
		n += 64 + len(p.Topic) + len(p.UserID) + len(p.Data)
	}
	ev.Size = n
	return ev
}

// valueSize estimates the heap bytes of a decoded JSON value: Go maps cost
// about 40 bytes per entry besides keys and values, and every boxed string
// or number a header, so a message of many small fields takes several
// times its wire size.
func valueSize(v any) int {
	switch v := v.(type) {
	case map[string]any:
		n := 48
		for k, e := range v {
			n += 40 + len(k) + valueSize(e)
		}
		return n
	case []any:
		n := 24 + 16*len(v)
		for _, e := range v {
			n += valueSize(e)
		}
		return n
	case string:
		return 16 + len(v)
	case json.RawMessage:
		return 24 + len(v)
	case nil, bool:
		return 0
	default:
		return 8
	}
}

// PresenceChange is the payload of a presence event: {topic, user_id, data}.
type PresenceChange struct {
	Topic  string          `json:"topic"`
	UserID string          `json:"user_id"`
	Data   json.RawMessage `json:"data"`
}

// Callbacks receive events instead of DrainInbound. A nil field discards
// that kind of event. Callbacks run on dispatcher goroutines
// (Config.CallbackWorkers); all events of one connection run on the same one,
// in order.
type Callbacks struct {
	// OnConnect receives EventConnect and EventAuthConnect.
	OnConnect func(Event)
	// OnMessage receives EventMessage, EventRaw and EventBinary.
	OnMessage func(Event)
	// OnDisconnect receives EventDisconnect.
	OnDisconnect func(Event)
	// OnPresence receives EventPresenceJoin and EventPresenceLeave.
	OnPresence func(Event)
}

// inbound is the event queue shared by all connections, bounded in events
// (MaxInboundQueueSize) and in bytes (MaxInboundQueueBytes, charged with
// Event.Size until the event is handed to its reader or its callback has
// returned). It holds
// pointers: a queue of Event values would preallocate ~128 bytes per slot
// (16 MiB at the default size), which the GC counts as live heap, raising
// its goal and letting handshake garbage pile up in RSS (measured: 2.43 KiB
// instead of 1.65 KiB per idle connection at 19,500 connections).
type inbound struct {
	ch       chan *Event
	maxBytes int64
	bytes    atomic.Int64
	dropped  atomic.Uint64
	// droppedBytes counts the events of dropped that the byte bound refused.
	droppedBytes atomic.Uint64
	// mu guards running and out.
	mu      sync.Mutex
	running bool
	out     chan Event // Events(), fed by a forwarder started on first use
}

func newInbound(size int, maxBytes int64) *inbound {
	return &inbound{ch: make(chan *Event, size), maxBytes: maxBytes}
}

// push enqueues ev without blocking; a queue full in events or in bytes
// drops it and counts.
func (q *inbound) push(ev Event) {
	ev = ev.sized()
	cost := int64(ev.Size)
	if q.bytes.Add(cost) > q.maxBytes {
		q.bytes.Add(-cost)
		q.dropped.Add(1)
		q.droppedBytes.Add(1)
		return
	}
	select {
	case q.ch <- &ev:
	default:
		q.bytes.Add(-cost)
		q.dropped.Add(1)
	}
}

// release returns the bytes of an event that has left the queue.
func (q *inbound) release(ev *Event) { q.bytes.Add(-int64(ev.Size)) }

// events returns the channel of Events(), starting its forwarder once.
func (q *inbound) events(stop <-chan struct{}, run func(func())) <-chan Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.out == nil {
		q.out = make(chan Event)
		run(func() {
			for {
				select {
				case ev := <-q.ch:
					select {
					case q.out <- *ev:
						q.release(ev)
					case <-stop:
						return
					}
				case <-stop:
					return
				}
			}
		})
	}
	return q.out
}

// drain blocks up to timeout for the first event, then takes up to max-1
// more without blocking.
func (q *inbound) drain(max int, timeout time.Duration, stop <-chan struct{}) []Event {
	if max <= 0 {
		return nil
	}
	var first *Event
	select {
	case first = <-q.ch:
	default:
		if timeout <= 0 {
			return nil
		}
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case first = <-q.ch:
		case <-t.C:
			return nil
		case <-stop:
			return nil
		}
	}
	out := make([]Event, 1, min(max, 1+len(q.ch)))
	out[0] = *first
	q.release(first)
	for len(out) < max {
		select {
		case ev := <-q.ch:
			q.release(ev)
			out = append(out, *ev)
		default:
			return out
		}
	}
	return out
}

// dispatch runs callbacks for queued events until stop is closed. It is
// started once by SetCallbacks; run starts goroutines through the server.
func (q *inbound) dispatch(cb Callbacks, workers int, stop <-chan struct{}, run func(func())) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.running {
		return
	}
	q.running = true
	lanes := make([]chan Event, workers)
	for i := range lanes {
		lane := make(chan Event, 1024)
		lanes[i] = lane
		run(func() {
			for {
				select {
				case ev := <-lane:
					cb.call(ev)
					q.release(&ev)
				case <-stop:
					return
				}
			}
		})
	}
	run(func() {
		for {
			select {
			case ev := <-q.ch:
				select {
				case lanes[laneOf(ev.ConnID, workers)] <- *ev:
				case <-stop:
					return
				}
			case <-stop:
				return
			}
		}
	})
}

func laneOf(connID string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(connID))
	return int(h.Sum32() % uint32(n))
}

func (cb Callbacks) call(ev Event) {
	var f func(Event)
	switch ev.Type {
	case EventConnect, EventAuthConnect:
		f = cb.OnConnect
	case EventMessage, EventRaw, EventBinary:
		f = cb.OnMessage
	case EventDisconnect:
		f = cb.OnDisconnect
	case EventPresenceJoin, EventPresenceLeave:
		f = cb.OnPresence
	}
	if f != nil {
		f(ev)
	}
}
