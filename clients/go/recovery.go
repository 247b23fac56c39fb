package wseclient

import (
	"time"

	"github.com/wse-go/wse/internal/topic"
)

// Limits of the recovery tracker.
const (
	// maxHeld bounds the messages held per topic while a recovery request
	// is pending; later ones are dropped (the replay brings them again).
	maxHeld = 4096
	// idWindowSize is the number of recent ids of unstamped messages
	// remembered to drop duplicates.
	idWindowSize = 1024
)

// item is one entry of the dispatcher queue: a message or an event.
type item struct {
	msg Message
	ev  *Event
}

// topicState is what the tracker knows of one topic.
type topicState struct {
	pos       Position  // last position delivered (or the baseline)
	known     bool      // pos is meaningful
	pending   bool      // a recovery request is awaiting its reply
	deadline  time.Time // when a pending request is considered lost
	noRecover bool      // the server would not recover this topic
	held      []Message // messages past a gap, held while pending
}

// tracker keeps the recovery position of every topic, drops duplicates,
// holds messages that arrive after a gap and decides when to ask the server
// for a replay (PROTOCOL §4, §5). It is not safe for concurrent use; the
// client guards it with its mutex.
type tracker struct {
	recoverable bool          // the server replays and the client asks
	timeout     time.Duration // how long a recovery request may go unanswered
	topics      map[string]*topicState
	ids         idWindow
}

// trackOut collects what a tracker call produced: items to dispatch, in
// order, and topics to ask recovery for, with the position to ask from.
type trackOut struct {
	items   []item
	recover map[string]Position
}

// deliver queues a message for the dispatcher.
func (o *trackOut) deliver(m Message) { o.items = append(o.items, item{msg: m}) }

// event queues an event for the dispatcher.
func (o *trackOut) event(ev Event) { o.items = append(o.items, item{ev: &ev}) }

// newTracker returns an empty tracker whose requests expire after timeout.
func newTracker(timeout time.Duration) *tracker {
	return &tracker{timeout: timeout, topics: make(map[string]*topicState)}
}

// state returns the state of topic, creating it.
func (t *tracker) state(topic string) *topicState {
	st, ok := t.topics[topic]
	if !ok {
		st = &topicState{}
		t.topics[topic] = st
	}
	return st
}

// reset starts a new connection: nothing is pending or held any more, and
// recoverable says whether this server replays.
func (t *tracker) reset(recoverable bool) {
	t.recoverable = recoverable
	for _, st := range t.topics {
		st.pending, st.held, st.noRecover = false, nil, false
	}
}

// prepare marks topics as pending a subscription request sent now and
// returns the positions to ask recovery from (known topics only). A pattern
// asks for every known concrete topic it matches: the server replays each
// (docs/subscriptions.md). It returns nil when the server does not recover.
func (t *tracker) prepare(topics []string, now time.Time) map[string]Position {
	if !t.recoverable {
		return nil
	}
	from := make(map[string]Position, len(topics))
	for _, pattern := range topics {
		if !topic.IsPattern(pattern) {
			continue
		}
		for name, st := range t.topics {
			if st.known && st.pos.Epoch != "" && !topic.IsPattern(name) && topic.Match(pattern, name) {
				st.pending, st.deadline = true, now.Add(t.timeout)
				from[name] = st.pos
			}
		}
	}
	for _, topic := range topics {
		st := t.state(topic)
		st.pending, st.deadline = true, now.Add(t.timeout)
		if st.known && st.pos.Epoch != "" {
			from[topic] = st.pos
		}
	}
	return from
}

// forget drops what is known of topics.
func (t *tracker) forget(topics []string) {
	for _, topic := range topics {
		delete(t.topics, topic)
	}
}

// positions returns the last position of every known topic.
func (t *tracker) positions() map[string]Position {
	m := make(map[string]Position, len(t.topics))
	for topic, st := range t.topics {
		if st.known {
			m[topic] = st.pos
		}
	}
	return m
}

// follows reports whether m is the message right after pos.
func follows(pos Position, m *Message) bool {
	if pos.Epoch == "" && pos.Offset == 0 {
		return m.Offset == 1
	}
	return m.Epoch == pos.Epoch && m.Offset == pos.Offset+1
}

// accept runs one message through the tracker at time now.
func (t *tracker) accept(m Message, now time.Time, o *trackOut) {
	if !m.stamped() {
		if m.ID == "" || t.ids.add(m.ID) {
			o.deliver(m)
		}
		return
	}
	st := t.state(m.Topic)
	switch {
	case !st.known:
		st.pos, st.known = m.position(), true
		o.deliver(m)
	case m.Epoch == st.pos.Epoch && m.Offset <= st.pos.Offset:
		// A duplicate (a replay overlapping what was delivered).
	case follows(st.pos, &m):
		st.pos = m.position()
		o.deliver(m)
	case st.pending && now.Before(st.deadline):
		st.hold(m)
	case t.recoverable && !st.noRecover:
		st.hold(m)
		t.ask(m.Topic, st, m.Epoch, now, o)
	default:
		o.event(Event{Kind: EventMissedData, Topic: m.Topic, From: st.pos, To: Position{Epoch: m.Epoch, Offset: m.Offset - 1}})
		st.pos = m.position()
		o.deliver(m)
	}
}

// hold keeps m until the pending request is answered.
func (st *topicState) hold(m Message) {
	if len(st.held) < maxHeld {
		st.held = append(st.held, m)
	}
}

// ask requests a replay of topic from its position; epoch names the buffer
// to replay from when the position is the empty one.
func (t *tracker) ask(topic string, st *topicState, epoch string, now time.Time, o *trackOut) {
	from := st.pos
	if from.Epoch == "" {
		from = Position{Epoch: epoch}
	}
	st.pending, st.deadline = true, now.Add(t.timeout)
	if o.recover == nil {
		o.recover = make(map[string]Position)
	}
	o.recover[topic] = from
}

// reply applies the server's subscription reply r.
func (t *tracker) reply(r *reply, now time.Time, o *trackOut) {
	if r.Action == actionUnsubscribe {
		t.forget(r.Granted)
		return
	}
	for _, topic := range r.Granted {
		st := t.state(topic)
		if res, ok := r.Recovery[topic]; ok {
			t.settle(topic, st, res, now, o)
			continue
		}
		if st.pending {
			st.noRecover = true // the server gave no position to recover from
			t.release(st, now, o)
		}
	}
	for _, f := range r.Failed {
		if st, ok := t.topics[f.Topic]; ok && st.pending {
			st.noRecover = true
			t.release(st, now, o)
		}
	}
}

// settle takes the server's position for topic and releases the held
// messages. When the server says it replayed up to a position the client
// has not reached, it asks again.
func (t *tracker) settle(topic string, st *topicState, res RecoveryResult, now time.Time, o *trackOut) {
	pos := Position{Epoch: res.Epoch, Offset: res.Offset}
	reached := st.known && st.pos.Epoch == pos.Epoch && st.pos.Offset >= pos.Offset
	switch {
	case !st.known:
		st.pos, st.known = pos, true
	case reached:
		// Up to date: the replay, if any, was delivered.
	case res.Recovered && t.recoverable:
		// The replay is complete only if the held messages reach pos.
	default:
		o.event(Event{Kind: EventMissedData, Topic: topic, From: st.pos, To: pos})
		st.pos = pos
	}
	t.release(st, now, o)
	if res.Recovered && t.recoverable && !st.pending && !(st.pos.Epoch == pos.Epoch && st.pos.Offset >= pos.Offset) {
		t.ask(topic, st, pos.Epoch, now, o)
	}
}

// release ends the pending state of a topic and runs the held messages
// through accept again, in arrival order.
func (t *tracker) release(st *topicState, now time.Time, o *trackOut) {
	st.pending = false
	held := st.held
	st.held = nil
	for _, m := range held {
		t.accept(m, now, o)
	}
}

// idWindow remembers the last idWindowSize ids.
type idWindow struct {
	seen map[string]struct{}
	ring []string
	next int
}

// add records id and reports whether it was new.
func (w *idWindow) add(id string) bool {
	if _, dup := w.seen[id]; dup {
		return false
	}
	if w.seen == nil {
		w.seen = make(map[string]struct{}, idWindowSize)
	}
	if len(w.ring) < idWindowSize {
		w.ring = append(w.ring, id)
	} else {
		delete(w.seen, w.ring[w.next])
		w.ring[w.next] = id
		w.next = (w.next + 1) % idWindowSize
	}
	w.seen[id] = struct{}{}
	return true
}
