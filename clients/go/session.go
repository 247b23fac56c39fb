package wseclient

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wse-go/wse/internal/e2e"
)

// waitKind tells who waits for a subscription reply.
type waitKind int

const (
	waitApp         waitKind = iota // Subscribe or Unsubscribe
	waitResubscribe                 // the subscription sent after server_ready
	waitRecover                     // a replay asked for after a gap
)

// waiter is a subscription request awaiting its reply.
type waiter struct {
	action   string
	group    string   // the queue group of the request; "" for a subscription
	topics   []string // sorted, without duplicates
	kind     waitKind
	deadline time.Time // when an automatic request is forgotten; zero for waitApp
	ch       chan waitResult
}

// waitResult is the outcome of a request: the reply or why none came.
type waitResult struct {
	res SubscribeResult
	err error
}

// newWaiter returns a waiter for a request of action on topics.
func newWaiter(action string, topics []string, kind waitKind, deadline time.Time) *waiter {
	ts := slices.Clone(topics)
	slices.Sort(ts)
	return &waiter{action: action, topics: slices.Compact(ts), kind: kind, deadline: deadline, ch: make(chan waitResult, 1)}
}

// readyResult is what a session reports once: ready, with the waiters of
// its first subscription requests, or failed before server_ready.
type readyResult struct {
	waiters []*waiter
	err     error
}

// session is one WebSocket connection. Its reader goroutine reads, answers
// pings, runs the recovery tracker and feeds the dispatcher queue; its pinger
// goroutine sends the client's pings. Both end when the connection does.
type session struct {
	c       *Client
	conn    net.Conn
	rd      wsutil.Reader
	readyCh chan readyResult // receives exactly one readyResult
	done    chan struct{}    // closed when the reader has returned
	wg      sync.WaitGroup   // the reader and the pinger
	err     error            // why the session ended; read after done
	closing atomic.Bool      // the client sent its close frame

	// The reader goroutine's own state.
	greeted     bool       // server_ready was handled
	ready       bool       // the session became the client's current one
	recoverable bool       // the connection asks for recovery
	offer       *e2e.Offer // the key pair offered in client_hello, until server_hello
	keyRefusal  string     // the message of a KEY_EXCHANGE_FAILED error

	// key seals and opens "E:" frames once the exchange completed; it is
	// set before the session becomes current and never changes after.
	key atomic.Pointer[e2e.Session]

	// wmu serializes frame writes. It is held while a request's waiter is
	// registered and the request written, so that waiters are in the order
	// of the requests.
	wmu sync.Mutex

	mu sync.Mutex
	// waiters are the requests awaiting a reply, oldest first.
	waiters []*waiter
	// lost is set when the session ended; later requests fail at once.
	lost bool
}

// newSession starts the reader of a connection whose handshake left br
// (possibly nil) holding the first bytes read.
func newSession(c *Client, conn net.Conn, br *bufio.Reader) *session {
	s := &session{c: c, conn: conn, readyCh: make(chan readyResult, 1), done: make(chan struct{})}
	var src io.Reader = conn
	if br != nil && br.Buffered() > 0 {
		src = io.MultiReader(br, conn)
	}
	s.rd = wsutil.Reader{
		Source:         src,
		State:          ws.StateClientSide,
		MaxMessageSize: c.opts.MaxMessageSize,
		OnIntermediate: s.control,
	}
	s.wg.Add(1)
	go s.readLoop()
	return s
}

// readLoop reads until the connection ends, then cleans up.
func (s *session) readLoop() {
	defer s.wg.Done()
	err := s.read()
	s.c.mu.Lock()
	if s.c.sess == s {
		s.c.sess = nil
		s.c.ready = make(chan struct{})
	}
	s.c.mu.Unlock()
	s.mu.Lock()
	s.lost = true
	for _, w := range s.waiters {
		w.ch <- waitResult{err: ErrConnectionLost}
	}
	s.waiters = nil
	s.mu.Unlock()
	_ = s.conn.Close()
	s.err = err
	if !s.ready {
		s.readyCh <- readyResult{err: err}
	}
	close(s.done)
}

// read handles messages until an error ends the connection.
func (s *session) read() error {
	for {
		if !s.closing.Load() {
			if err := s.conn.SetReadDeadline(time.Now().Add(s.c.opts.ReadTimeout)); err != nil {
				return err
			}
		}
		op, data, err := s.next()
		if err != nil {
			return err
		}
		if err := s.handle(op, data); err != nil {
			return err
		}
	}
}

// next returns the opcode and payload of the next text or binary message,
// handling the control frames before it.
func (s *session) next() (ws.OpCode, []byte, error) {
	for {
		hdr, err := s.rd.NextFrame()
		if err != nil {
			return 0, nil, err
		}
		if hdr.OpCode.IsControl() {
			if err := s.control(hdr, &s.rd); err != nil {
				return 0, nil, err
			}
			continue
		}
		data, err := io.ReadAll(&s.rd)
		return hdr.OpCode, data, err
	}
}

// control handles a control frame: pings are answered, a close frame is
// answered and ends the session with a *CloseError.
func (s *session) control(h ws.Header, r io.Reader) error {
	p, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	switch h.OpCode {
	case ws.OpPing:
		return s.writeFrame(ws.OpPong, p)
	case ws.OpClose:
		code, reason := ws.ParseCloseFrameData(p)
		if !s.closing.Load() {
			var body []byte
			if !code.Empty() {
				body = ws.NewCloseFrameBody(code, "")
			}
			_ = s.writeFrame(ws.OpClose, body)
		}
		if code.Empty() {
			code = ws.StatusNoStatusRcvd
		}
		return &CloseError{Code: CloseCode(code), Reason: reason}
	}
	return nil
}

// clientFrame returns a complete masked client frame.
func clientFrame(op ws.OpCode, payload []byte) []byte {
	h := ws.Header{Fin: true, OpCode: op, Masked: true, Mask: ws.NewMask(), Length: int64(len(payload))}
	var buf bytes.Buffer
	buf.Grow(ws.HeaderSize(h) + len(payload))
	_ = ws.WriteHeader(&buf, h) // writes to a bytes.Buffer do not fail
	start := buf.Len()
	buf.Write(payload)
	b := buf.Bytes()
	ws.Cipher(b[start:], h.Mask, 0)
	return b
}

// writeFrame writes one frame. A failed write closes the connection, which
// ends the session.
func (s *session) writeFrame(op ws.OpCode, payload []byte) error {
	frame := clientFrame(op, payload)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.writeLocked(frame)
}

// writeLocked writes frame; s.wmu must be held.
func (s *session) writeLocked(frame []byte) error {
	err := s.conn.SetWriteDeadline(time.Now().Add(s.c.opts.WriteTimeout))
	if err == nil {
		_, err = s.conn.Write(frame)
	}
	if err != nil {
		_ = s.conn.Close()
	}
	return err
}

// writeMessage writes the text of a message, sealed on an encrypted
// connection.
func (s *session) writeMessage(text []byte) error {
	return s.writeFrame(s.seal(text))
}

// request registers w and writes the request text (sealed on an encrypted
// connection), in that order under s.wmu. When the session has ended, w
// gets ErrConnectionLost at once.
func (s *session) request(text []byte, w *waiter) error {
	frame := clientFrame(s.seal(text))
	s.wmu.Lock()
	defer s.wmu.Unlock()
	now := time.Now()
	s.mu.Lock()
	if s.lost {
		s.mu.Unlock()
		w.ch <- waitResult{err: ErrConnectionLost}
		return ErrConnectionLost
	}
	s.waiters = slices.DeleteFunc(s.waiters, func(o *waiter) bool {
		return o.kind != waitApp && now.After(o.deadline)
	})
	s.waiters = append(s.waiters, w)
	s.mu.Unlock()
	return s.writeLocked(frame)
}

// drop forgets w, whose caller stopped waiting.
func (s *session) drop(w *waiter) {
	s.mu.Lock()
	s.waiters = slices.DeleteFunc(s.waiters, func(o *waiter) bool { return o == w })
	s.mu.Unlock()
}

// match removes and returns the waiter r answers: the oldest one with the
// same action and topics, else the oldest with the same action.
func (s *session) match(r *reply) *waiter {
	topics := r.topics()
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := slices.IndexFunc(s.waiters, func(w *waiter) bool {
		return w.action == r.Action && w.group == r.Group && slices.Equal(w.topics, topics)
	})
	if idx < 0 {
		idx = slices.IndexFunc(s.waiters, func(w *waiter) bool { return w.action == r.Action && w.group == r.Group })
	}
	if idx < 0 {
		return nil
	}
	w := s.waiters[idx]
	s.waiters = slices.Delete(s.waiters, idx, idx+1)
	return w
}

// closeGracefully sends the client's close frame (1000).
func (s *session) closeGracefully() {
	s.closing.Store(true)
	_ = s.writeFrame(ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
	_ = s.conn.SetReadDeadline(time.Now().Add(closeWait))
}

// pingLoop sends the client's ping every interval until the session ends.
func (s *session) pingLoop(interval time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			if s.writeFrame(ws.OpText, clientPing(now)) != nil {
				return
			}
		}
	}
}

// handle decodes one frame of opcode op, opening it first when it is
// encrypted, and acts on it. Frames that are not WSE messages, and "E:"
// frames that cannot be decrypted (counted), are delivered as they are.
func (s *session) handle(op ws.OpCode, frame []byte) error {
	data, err := openFrame(op, frame, s.c.opts.Encryption, s.key.Load())
	if err != nil {
		s.c.decryptFailures.Add(1)
		return s.emit(&trackOut{items: []item{{msg: Message{Raw: frame}}}})
	}
	m, err := decode(data, s.c.opts.MaxMessageSize)
	if err != nil {
		return s.emit(&trackOut{items: []item{{msg: Message{Raw: data}}}})
	}
	if m.Type == "batch" {
		var p struct {
			Messages []json.RawMessage `json:"messages"`
		}
		if json.Unmarshal(m.Payload, &p) == nil {
			for _, raw := range p.Messages {
				sub, err := decodeText(raw)
				if err != nil {
					continue
				}
				if err := s.dispatch(sub); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return s.dispatch(m)
}

// dispatch acts on one message: protocol messages are consumed, the others
// go through the recovery tracker to the dispatcher queue.
func (s *session) dispatch(m Message) error {
	switch m.Type {
	case "server_ready":
		if s.greeted {
			return nil
		}
		return s.onReady(m)
	case "ping":
		var p struct {
			ServerTime json.RawMessage `json:"server_time"`
		}
		_ = json.Unmarshal(m.Payload, &p)
		return s.writeFrame(ws.OpText, pong(p.ServerTime, time.Now()))
	case "PONG", "pong":
		var p struct {
			ClientTimestamp int64 `json:"client_timestamp"`
		}
		if json.Unmarshal(m.Payload, &p) == nil && p.ClientTimestamp > 0 {
			if rtt := time.Now().UnixMilli() - p.ClientTimestamp; rtt >= 0 {
				s.c.rtt.Store(int64(time.Duration(rtt) * time.Millisecond))
			}
		}
		return nil
	case "server_hello":
		return s.onHello(m)
	case "error":
		s.noteKeyRefusal(m)
	case "subscription_update":
		return s.onReply(m)
	}
	var o trackOut
	s.c.mu.Lock()
	s.c.rec.accept(m, time.Now(), &o)
	s.c.mu.Unlock()
	return s.emit(&o)
}

// readyPayload is the payload of server_ready.
type readyPayload struct {
	Details struct {
		ConnectionID string `json:"connection_id"`
		UserID       string `json:"user_id"`
		Features     struct {
			Compression bool `json:"compression"`
			Recovery    bool `json:"recovery"`
			Presence    bool `json:"presence"`
			Cluster     bool `json:"cluster"`
			Encryption  bool `json:"encryption"`
			MsgPack     bool `json:"msgpack"`
		} `json:"features"`
	} `json:"details"`
}

// onReady handles server_ready: it records the connection and sends
// client_hello. With Options.Encryption the hello offers a fresh public key
// and the session waits for server_hello (onHello); otherwise it starts at
// once.
func (s *session) onReady(m Message) error {
	var p readyPayload
	_ = json.Unmarshal(m.Payload, &p) // missing details leave zero values
	d := p.Details
	f := Features{Compression: d.Features.Compression, Recovery: d.Features.Recovery, Presence: d.Features.Presence,
		Cluster: d.Features.Cluster, Encryption: d.Features.Encryption, MsgPack: d.Features.MsgPack}
	c := s.c
	s.greeted = true
	s.recoverable = f.Recovery && !c.opts.DisableRecovery
	c.mu.Lock()
	c.connID, c.userID, c.features, c.encrypted = d.ConnectionID, d.UserID, f, false
	c.rec.reset(s.recoverable)
	c.mu.Unlock()

	var key string
	if c.opts.Encryption {
		offer, err := e2e.NewOffer()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrKeyExchange, err)
		}
		s.offer, key = offer, offer.PublicKey()
	}
	if err := s.writeFrame(ws.OpText, clientHello(s.recoverable, c.opts.MsgPack, key, time.Now())); err != nil {
		return err
	}
	if s.offer != nil {
		return nil
	}
	return s.start(nil)
}

// start sends the subscription of every wanted topic (recovering from the
// last positions), reports EventConnected and refused, if not nil, then
// makes the session the client's current one.
func (s *session) start(refused *Event) error {
	c := s.c
	now := time.Now()
	type group struct {
		topics []string
		from   map[string]Position
	}
	c.mu.Lock()
	connID := c.connID
	byPresence := make(map[string][]string)
	for topic, presence := range c.topics {
		byPresence[presence] = append(byPresence[presence], topic)
	}
	groups := make(map[string]group, len(byPresence))
	for presence, topics := range byPresence {
		slices.Sort(topics)
		groups[presence] = group{topics: topics, from: c.rec.prepare(topics, now)}
	}
	byQueue := make(map[string][]string)
	for q := range c.queues {
		byQueue[q.group] = append(byQueue[q.group], q.topic)
	}
	c.mu.Unlock()

	var waiters []*waiter
	for _, presence := range slices.Sorted(maps.Keys(groups)) {
		g := groups[presence]
		w := newWaiter(actionSubscribe, g.topics, waitResubscribe, now.Add(c.opts.RecoveryTimeout))
		if err := s.request(subscriptionRequest(actionSubscribe, g.topics, json.RawMessage(presence), s.recoverable, g.from, now), w); err != nil {
			return err
		}
		waiters = append(waiters, w)
	}
	for _, name := range slices.Sorted(maps.Keys(byQueue)) {
		topics := byQueue[name]
		slices.Sort(topics)
		w := newWaiter(actionSubscribe, topics, waitResubscribe, now.Add(c.opts.RecoveryTimeout))
		w.group = name
		if err := s.request(queueRequest(actionSubscribe, topics, name, now), w); err != nil {
			return err
		}
		waiters = append(waiters, w)
	}
	if !c.push(item{ev: &Event{Kind: EventConnected, ConnID: connID}}) {
		return ErrClosed
	}
	if refused != nil && !c.push(item{ev: refused}) {
		return ErrClosed
	}
	c.mu.Lock()
	c.sess = s
	close(c.ready)
	c.mu.Unlock()
	if c.opts.PingInterval > 0 {
		s.wg.Add(1)
		go s.pingLoop(c.opts.PingInterval)
	}
	s.ready = true
	s.readyCh <- readyResult{waiters: waiters}
	return nil
}

// onReply handles a subscription_update reply: the tracker takes the
// positions, refused topics are no longer wanted, and the waiting request,
// if any, gets the result.
func (s *session) onReply(m Message) error {
	r, ok := parseReply(m.Payload)
	if !ok {
		return nil
	}
	var o trackOut
	c := s.c
	c.mu.Lock()
	switch {
	case r.Group != "" && r.Action == actionSubscribe:
		for _, f := range r.Failed {
			delete(c.queues, queueWant{f.Topic, r.Group})
		}
	case r.Group != "":
	default:
		c.rec.reply(&r, time.Now(), &o)
		if r.Action == actionSubscribe {
			for _, f := range r.Failed {
				delete(c.topics, f.Topic)
			}
		}
	}
	c.mu.Unlock()
	if w := s.match(&r); w != nil {
		if w.kind == waitResubscribe && len(r.Failed) > 0 {
			o.event(Event{Kind: EventSubscribeFailed, Failed: r.Failed})
		}
		w.ch <- waitResult{res: r.result()}
	}
	return s.emit(&o)
}

// emit queues what the tracker produced and sends the recovery request it
// asked for.
func (s *session) emit(o *trackOut) error {
	for _, it := range o.items {
		if !s.c.push(it) {
			return ErrClosed
		}
	}
	if len(o.recover) == 0 {
		return nil
	}
	topics := slices.Sorted(maps.Keys(o.recover))
	now := time.Now()
	w := newWaiter(actionSubscribe, topics, waitRecover, now.Add(s.c.opts.RecoveryTimeout))
	return s.request(subscriptionRequest(actionSubscribe, topics, nil, true, o.recover, now), w)
}
