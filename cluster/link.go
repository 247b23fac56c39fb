package cluster

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wse-go/wse/internal/topic"
)

const (
	// maxInterest caps the topics and patterns kept per peer; a peer asking
	// for more receives every message.
	maxInterest = 1 << 20
	// maxSyncEntries caps the presence entries accumulated from one full sync.
	maxSyncEntries = 1 << 22
	// controlSlack is how many control frames may queue beyond SendQueue
	// before the link is closed as too slow.
	controlSlack = 4096
	// ioBufferSize is the size of a link's read and write buffers.
	ioBufferSize = 64 << 10
	// pingPayload is the size of the timestamp carried by PING and PONG.
	pingPayload = 8
)

var (
	// errPeerShutdown ends a reader that received SHUTDOWN.
	errPeerShutdown = errors.New("cluster: peer shut down")
	// errPeerRetired ends a reader that received RETIRE.
	errPeerRetired = errors.New("cluster: peer retired the link")
)

// outFrame is one encoded frame waiting in a send queue.
type outFrame struct {
	b   []byte
	typ frameType
}

// link is one established connection to a peer. It has two goroutines: a
// writer (writeLoop) that drains the queue and sends heartbeats, and a
// reader (run) that first queues the initial sync, then reads frames and
// calls the delegate, and finally tears the link down.
type link struct {
	n         *Node
	conn      net.Conn // the link's stream (TLS or plain)
	raw       net.Conn // the TCP connection under conn; closed without blocking
	br        *bufio.Reader
	inbound   bool
	peerID    string
	peerAddr  string // advertised by the peer; may be empty
	caps      uint32 // capabilities both sides support
	maxOut    int    // largest frame we may send: min(ours, the peer's)
	preferred bool   // dialed by the lower node id: wins duplicate resolution
	replaced  *link  // the link this one replaced; its reader ends before ours starts

	connectedAt time.Time
	lastSeen    atomic.Int64 // unix nanos of the last frame received
	rtt         atomic.Int64 // nanoseconds
	ready       atomic.Bool  // the peer's interest is known; Publish may use the link
	graceful    atomic.Bool  // the peer sent SHUTDOWN
	// inherit is the ready link this one replaced, until this one is ready:
	// Publish routes by its interest meanwhile, so that replacing a link
	// (duplicate resolution) skips no publication.
	inherit atomic.Pointer[link]

	wake       chan struct{} // cap 1: queue not empty
	done       chan struct{} // closed by close
	writerDone chan struct{} // closed when writeLoop returns
	gone       chan struct{} // closed when run has torn the link down

	mu sync.Mutex
	// queue holds frames for the writer; spare is the writer's last batch,
	// reused. msgs counts MSG frames in queue. While syncing, control frames
	// from Interest and SendPresence wait in pending so that they follow the
	// initial RESYNC and PRESENCE_SYNC. successor is the link that
	// replaced this one once it retires. All guarded by mu.
	queue     []outFrame
	spare     []outFrame
	msgs      int
	msgBytes  int
	syncing   bool
	pending   []outFrame
	successor *link
	closed    bool
	closeErr  error

	imu sync.RWMutex
	// The peer's interest: all (the peer gets everything), drained (the
	// peer gets nothing), exact topics and glob patterns. Guarded by imu;
	// written only by the reader.
	all      bool
	drained  bool
	exact    map[string]struct{}
	patterns topic.Patterns
	// queues maps a topic to the queue groups the peer has members in
	// (QueueInterestKey entries); nqueue counts its entries and is read
	// without imu on the publish path.
	queues map[string]map[string]struct{}
	nqueue atomic.Int64

	// Reader-only state of chunked RESYNC and PRESENCE_SYNC in progress.
	rsActive bool
	rsAll    bool
	rsExact  map[string]struct{}
	rsPats   topic.Patterns
	rsQueues map[string]map[string]struct{}
	rsNQueue int
	psState  []Presence
}

// newLink wraps an established connection after a successful HELLO exchange.
func newLink(n *Node, raw, conn net.Conn, br *bufio.Reader, inbound bool, h hello) *link {
	l := &link{
		n:           n,
		conn:        conn,
		raw:         raw,
		br:          br,
		inbound:     inbound,
		peerID:      h.nodeID,
		peerAddr:    h.addr,
		caps:        h.caps & localCaps,
		maxOut:      min(n.cfg.MaxFrameSize, int(min(h.maxFrame, math.MaxInt32))),
		connectedAt: time.Now(),
		wake:        make(chan struct{}, 1),
		done:        make(chan struct{}),
		writerDone:  make(chan struct{}),
		gone:        make(chan struct{}),
		syncing:     true,
		exact:       make(map[string]struct{}),
	}
	if inbound {
		l.preferred = h.nodeID < n.id
	} else {
		l.preferred = n.id < h.nodeID
	}
	l.lastSeen.Store(l.connectedAt.UnixNano())
	return l
}

// address returns the peer's advertised address or the link's remote address.
func (l *link) address() string {
	if l.peerAddr != "" {
		return l.peerAddr
	}
	return l.conn.RemoteAddr().String()
}

// signal wakes the writer.
func (l *link) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// sendMsg queues a MSG frame, failing with ErrQueueFull or ErrLinkClosed.
// A retired link passes the frame to its successor: a Publish that read
// the link list before the replacement still reaches the peer.
func (l *link) sendMsg(b []byte) error {
	l.mu.Lock()
	switch {
	case l.closed:
		l.mu.Unlock()
		return ErrLinkClosed
	case l.successor != nil:
		next := l.successor
		l.mu.Unlock()
		return next.sendMsg(b)
	case l.msgs >= l.n.cfg.SendQueue, l.msgs > 0 && l.msgBytes+len(b) > l.n.cfg.SendQueueBytes:
		l.mu.Unlock()
		return ErrQueueFull
	}
	l.queue = append(l.queue, outFrame{b: b, typ: frameMsg})
	l.msgs++
	l.msgBytes += len(b)
	l.mu.Unlock()
	l.signal()
	return nil
}

// sendControl queues a control frame. While the initial sync is being queued
// it waits in pending, so it cannot overtake the sync. A peer so slow that
// control frames pile up beyond SendQueue+controlSlack loses the link (a new
// link resynchronizes everything). A retired link drops them: its
// successor's initial sync carries the same state.
func (l *link) sendControl(b []byte, typ frameType) {
	l.mu.Lock()
	if l.endedLocked() {
		l.mu.Unlock()
		return
	}
	if l.syncing {
		l.pending = append(l.pending, outFrame{b: b, typ: typ})
		l.mu.Unlock()
		return
	}
	over := len(l.queue) >= l.n.cfg.SendQueue+controlSlack
	if !over {
		l.queue = append(l.queue, outFrame{b: b, typ: typ})
	}
	l.mu.Unlock()
	if over {
		l.close(fmt.Errorf("%w: control frames", ErrQueueFull))
		return
	}
	l.signal()
}

// sendFirst queues a frame ahead of anything held back by the sync: the
// sync itself, and SHUTDOWN.
func (l *link) sendFirst(b []byte, typ frameType) {
	l.mu.Lock()
	if !l.endedLocked() {
		l.queue = append(l.queue, outFrame{b: b, typ: typ})
	}
	l.mu.Unlock()
	l.signal()
}

// endSync releases the control frames held back while the sync was queued.
func (l *link) endSync() {
	l.mu.Lock()
	if l.successor == nil {
		l.queue = append(l.queue, l.pending...)
	}
	l.pending = nil
	l.syncing = false
	l.mu.Unlock()
	l.signal()
}

// queued returns the number of frames waiting.
func (l *link) queued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue) + len(l.pending)
}

// close closes the link once; err is the reason (nil for a clean end).
func (l *link) close(err error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.closeErr = err
	l.mu.Unlock()
	close(l.done)
	// Closing the TCP connection, not the TLS stream, never blocks on a
	// close_notify write to a peer that does not read.
	_ = l.raw.Close()
}

// endedLocked reports whether l takes no more frames of its own: it is
// closed, or retired in favour of a successor. l.mu must be held.
func (l *link) endedLocked() bool {
	return l.closed || l.successor != nil
}

// retire ends l in favour of next, its replacement after duplicate
// resolution, without losing what l carries: the frames already queued go
// out, then RETIRE, and the reader goes on until the peer's RETIRE (next's
// reader starts only then, so deliveries stay in order). Publications that
// still reach l are passed to next. DeadAfter bounds the whole handoff.
func (l *link) retire(next *link) {
	l.mu.Lock()
	if l.endedLocked() {
		l.mu.Unlock()
		return
	}
	l.successor = next
	l.queue = append(l.queue, outFrame{b: encodeFrame(frameRetire, 0, "", nil), typ: frameRetire})
	l.mu.Unlock()
	l.signal()
	time.AfterFunc(l.n.cfg.DeadAfter, func() { l.close(ErrDuplicateLink) })
}

// isClosed reports whether close was called.
func (l *link) isClosed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// reason returns why the link closed.
func (l *link) reason() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closeErr
}

// routes reports whether Publish sends topic name on l: by the peer's
// interest once l is ready, by the interest of the link it replaced before.
func (l *link) routes(name string) bool {
	if l.ready.Load() {
		return l.wants(name)
	}
	prev := l.inherit.Load()
	return prev != nil && prev.wants(name)
}

// wants reports whether the peer has asked for messages on topic name.
func (l *link) wants(name string) bool {
	l.imu.RLock()
	defer l.imu.RUnlock()
	switch {
	case l.drained:
		return false
	case l.all:
		return true
	}
	if _, ok := l.exact[name]; ok {
		return true
	}
	return l.patterns.Any(name)
}

// writeLoop sends queued frames in batches through a buffered writer, and
// a PING every Heartbeat. It closes the link on a write error and after
// writing SHUTDOWN, and stops after writing RETIRE (the reader ends the
// link once the peer's RETIRE arrives).
func (l *link) writeLoop() {
	defer close(l.writerDone)
	cfg := &l.n.cfg
	bw := bufio.NewWriterSize(l.conn, ioBufferSize)
	tick := time.NewTicker(cfg.Heartbeat)
	defer tick.Stop()
	for {
		ping := false
		select {
		case <-l.done:
			return
		case <-l.wake:
		case <-tick.C:
			ping = true
		}
		l.mu.Lock()
		batch := l.queue
		l.queue = l.spare
		l.spare = nil
		l.msgs, l.msgBytes = 0, 0
		l.mu.Unlock()
		if ping {
			var ts [pingPayload]byte
			binary.BigEndian.PutUint64(ts[:], uint64(time.Now().UnixNano()))
			batch = append(batch, outFrame{b: encodeFrame(framePing, 0, "", ts[:]), typ: framePing})
		}
		last, err := l.writeBatch(bw, batch)
		if err != nil {
			l.n.failFrames(l, batch, err)
		}
		clear(batch)
		l.mu.Lock()
		l.spare = batch[:0]
		l.mu.Unlock()
		switch {
		case err != nil:
			l.close(err)
			return
		case last == frameShutdown:
			l.close(nil)
			return
		case last == frameRetire:
			return
		}
	}
}

// writeBatch writes and flushes batch, stopping after a SHUTDOWN or RETIRE
// frame (last is then its type, 0 otherwise). Counters move only when the
// flush succeeds.
func (l *link) writeBatch(bw *bufio.Writer, batch []outFrame) (last frameType, err error) {
	if len(batch) == 0 {
		return 0, nil
	}
	if err := l.conn.SetWriteDeadline(time.Now().Add(l.n.cfg.DeadAfter)); err != nil {
		return 0, err
	}
	var bytes, msgs uint64
	frames := uint64(0)
	for _, f := range batch {
		if _, err := bw.Write(f.b); err != nil {
			return 0, err
		}
		bytes += uint64(len(f.b))
		frames++
		if f.typ == frameMsg {
			msgs++
		}
		if f.typ == frameShutdown || f.typ == frameRetire {
			last = f.typ
			break
		}
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	st := &l.n.stats
	st.bytesSent.Add(bytes)
	st.framesSent.Add(frames)
	st.msgsSent.Add(msgs)
	return last, nil
}

// run queues the initial sync, reads until the link fails, and tears the
// link down.
func (l *link) run() {
	n := l.n
	l.initialSync()
	if l.replaced != nil {
		// Deliveries from one peer never overlap: the replaced link's reader
		// (already closed) finishes before this one reads.
		<-l.replaced.gone
		l.replaced = nil
	}
	if l.caps&CapInterest == 0 {
		l.imu.Lock()
		l.all = true
		l.imu.Unlock()
		n.linkReady(l)
	}
	err := l.readLoop()
	switch {
	case errors.Is(err, errPeerShutdown):
		err = nil
	case errors.Is(err, errPeerRetired):
		// The peer sends nothing more here. It reads on until our RETIRE,
		// which follows as soon as this side installs the replacement too.
		timer := time.NewTimer(n.cfg.DeadAfter)
		select {
		case <-l.writerDone:
		case <-timer.C:
		}
		timer.Stop()
		err = ErrDuplicateLink
	}
	l.close(err)
	<-l.writerDone
	l.mu.Lock()
	rest := append(l.queue, l.pending...)
	l.queue, l.pending = nil, nil
	l.mu.Unlock()
	n.failFrames(l, rest, ErrLinkClosed)
	n.detach(l)
	close(l.gone)
	if err := l.reason(); err != nil {
		n.log.Info("cluster: link closed", "peer", l.peerID, "addr", l.address(), "err", err)
	} else {
		n.log.Info("cluster: link closed", "peer", l.peerID, "addr", l.address(), "graceful", l.graceful.Load())
	}
}

// initialSync queues RESYNC with the local interest and PRESENCE_SYNC with
// the local presence state, then releases the frames held meanwhile.
func (l *link) initialSync() {
	n := l.n
	maxPayload := l.maxOut - frameOverhead
	if l.caps&CapInterest != 0 {
		chunks := chunkTopics(n.d.LocalTopics(), maxPayload)
		for i, c := range chunks {
			l.sendFirst(encodeFrame(frameResync, moreFlag(i, len(chunks)), "", c), frameResync)
		}
	}
	if l.caps&CapPresence != 0 {
		chunks, skipped := chunkPresence(n.d.LocalPresence(), maxPayload)
		if skipped > 0 {
			n.log.Warn("cluster: presence entries too large for the peer skipped", "peer", l.peerID, "addr", l.address(), "count", skipped)
		}
		for i, c := range chunks {
			l.sendFirst(encodeFrame(framePresenceSync, moreFlag(i, len(chunks)), "", c), framePresenceSync)
		}
	}
	if n.draining.Load() {
		l.sendFirst(encodeFrame(frameDrain, 0, "", nil), frameDrain)
	}
	l.endSync()
}

// moreFlag returns flagMore for every chunk but the last.
func moreFlag(i, n int) uint8 {
	if i < n-1 {
		return flagMore
	}
	return 0
}

// readLoop reads frames until an error; any frame refreshes liveness, and
// DeadAfter without one ends the link with ErrPeerTimeout.
func (l *link) readLoop() error {
	n := l.n
	st := &n.stats
	// The read deadline moves forward at most every DeadAfter/8, so a link
	// is closed after between 7/8 and all of DeadAfter without a frame.
	var deadlineSet time.Time
	step := n.cfg.DeadAfter / 8
	for {
		if now := time.Now(); now.Sub(deadlineSet) >= step {
			if err := l.conn.SetReadDeadline(now.Add(n.cfg.DeadAfter)); err != nil {
				return err
			}
			deadlineSet = now
		}
		f, size, err := readFrame(l.br, n.cfg.MaxFrameSize)
		st.bytesReceived.Add(uint64(size))
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return fmt.Errorf("%w: %w", ErrPeerTimeout, err)
			}
			if errors.Is(err, ErrBadFrame) || errors.Is(err, ErrFrameTooLarge) {
				st.badFrames.Add(1)
			}
			return err
		}
		st.framesReceived.Add(1)
		l.lastSeen.Store(time.Now().UnixNano())
		if err := l.handle(f); err != nil {
			if errors.Is(err, ErrBadFrame) {
				st.badFrames.Add(1)
			}
			return err
		}
	}
}

// handle acts on one received frame.
func (l *link) handle(f frame) error {
	n := l.n
	switch f.typ {
	case framePing:
		if len(f.payload) <= pingPayload {
			l.sendControl(encodeFrame(framePong, 0, "", f.payload), framePong)
		}
	case framePong:
		if len(f.payload) == pingPayload {
			sent := int64(binary.BigEndian.Uint64(f.payload))
			if d := time.Now().UnixNano() - sent; d >= 0 {
				l.rtt.Store(d)
			}
		}
	case frameShutdown:
		l.graceful.Store(true)
		return errPeerShutdown
	case frameRetire:
		return errPeerRetired
	case frameDrain:
		l.imu.Lock()
		l.drained = true
		l.imu.Unlock()
	case frameMsg:
		return l.deliverMsg(f)
	case frameSub, frameUnsub:
		topics, err := decodeTopicList(f.payload)
		if err != nil {
			return err
		}
		l.applyInterest(topics, f.typ == frameSub)
	case frameResync:
		topics, err := decodeTopicList(f.payload)
		if err != nil {
			return err
		}
		if l.resync(topics, f.flags&flagMore == 0) {
			n.linkReady(l)
		}
	case framePeerAnnounce, framePeerList:
		if l.caps&CapGossip == 0 {
			return nil
		}
		ms, err := decodeMembers(f.payload)
		if err != nil {
			return err
		}
		n.learn(ms)
	case framePresence:
		if l.caps&CapPresence == 0 {
			return nil
		}
		p, err := decodePresence(f.topic, f.payload)
		if err != nil {
			return err
		}
		n.d.OnPresence(l.peerID, p)
	case framePresenceSync:
		if l.caps&CapPresence == 0 {
			return nil
		}
		state, err := decodePresenceSync(f.payload)
		if err != nil {
			return err
		}
		if room := maxSyncEntries - len(l.psState); len(state) > room {
			n.log.Warn("cluster: presence sync truncated", "peer", l.peerID, "addr", l.address(), "max", maxSyncEntries)
			state = state[:room]
		}
		l.psState = append(l.psState, state...)
		if f.flags&flagMore == 0 {
			full := l.psState
			l.psState = nil
			n.d.OnPresenceSync(l.peerID, full)
		}
	case frameHello:
		return fmt.Errorf("%w: HELLO on an established link", ErrBadFrame)
	default:
		n.stats.unknownFrames.Add(1)
	}
	return nil
}

// applyInterest adds (on) or removes topics from the peer's interest, and
// from a RESYNC in progress so that the RESYNC's end does not undo it.
func (l *link) applyInterest(topics []string, on bool) {
	if l.rsActive {
		l.rsNQueue += applyTo(l.rsExact, &l.rsPats, &l.rsQueues, topics, on)
		if len(l.rsExact)+l.rsPats.Len()+l.rsNQueue > maxInterest {
			l.rsAll = true
		}
	}
	l.imu.Lock()
	defer l.imu.Unlock()
	nq := l.nqueue.Add(int64(applyTo(l.exact, &l.patterns, &l.queues, topics, on)))
	if len(l.exact)+l.patterns.Len()+int(nq) > maxInterest {
		l.all = true
	}
}

// applyTo adds or removes topics in exact, patterns and queues, and returns
// the change in the number of queue entries. The peer's pattern interest is
// indexed the same way as local pattern subscriptions, so routing a
// publication costs the patterns that can match it, not all.
func applyTo(exact map[string]struct{}, patterns *topic.Patterns, queues *map[string]map[string]struct{}, topics []string, on bool) int {
	dq := 0
	for _, t := range topics {
		if qt, g, ok := parseQueueKey(t); ok {
			if *queues == nil {
				*queues = make(map[string]map[string]struct{})
			}
			dq += applyQueueKey(*queues, qt, g, on)
			continue
		}
		switch {
		case topic.IsPattern(t) && on:
			patterns.Add(t)
		case topic.IsPattern(t):
			patterns.Remove(t)
		case on:
			exact[t] = struct{}{}
		default:
			delete(exact, t)
		}
	}
	return dq
}

// resync adds one RESYNC chunk; the first chunk of a series starts a new
// set, the last one replaces the peer's interest with it. It reports
// whether this was the last chunk.
func (l *link) resync(topics []string, final bool) bool {
	if !l.rsActive {
		l.rsActive = true
		l.rsAll = false
		l.rsExact = make(map[string]struct{}, len(topics))
		l.rsPats = topic.Patterns{}
		l.rsQueues, l.rsNQueue = nil, 0
	}
	l.rsNQueue += applyTo(l.rsExact, &l.rsPats, &l.rsQueues, topics, true)
	if len(l.rsExact)+l.rsPats.Len()+l.rsNQueue > maxInterest {
		l.rsAll = true
	}
	if !final {
		return false
	}
	l.imu.Lock()
	l.exact, l.patterns, l.queues = l.rsExact, l.rsPats, l.rsQueues
	l.nqueue.Store(int64(l.rsNQueue))
	l.all = l.rsAll || l.caps&CapInterest == 0
	l.imu.Unlock()
	l.rsActive, l.rsExact, l.rsPats, l.rsQueues = false, nil, topic.Patterns{}, nil
	return true
}
