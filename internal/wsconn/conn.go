package wsconn

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Connection states (Conn.state).
const (
	stateOpen    uint32 = iota // accepts writes
	stateClosing               // close started: no more writes
	stateClosed                // finalized: descriptor closed, OnClose called
)

// Conn is one adopted WebSocket connection. All its methods are safe for
// concurrent use and never block on the network.
type Conn struct {
	e      *Engine
	p      *poller
	h      Handler
	ctx    any
	remote string

	lastActivity atomic.Int64
	due          atomic.Int64  // unix nanos before which no flusher writes (Config.WriteDelay); 0 = now
	state        atomic.Uint32 // written under mu
	finish       atomic.Bool   // the poller must finalize the connection
	paused       atomic.Bool   // adopted with AdoptOptions.Paused and not resumed

	// fdMu guards the descriptor against being closed while in use. Any
	// goroutine may use fd under the read lock; the poller also uses it without
	// the lock. Only the poller closes it, under the write lock, and sets -1.
	fdMu sync.RWMutex
	fd   int

	// mu guards the fields below. Lock order: mu, then fdMu, then poller.mu.
	mu           sync.Mutex
	q            frameQueue
	closeCode    int    // close code to report to OnClose; 0: CloseAbnormal
	closeReason  string // close reason to report to OnClose
	scheduled    bool   // on the run-queue or being flushed
	flushing     bool   // a flusher is writing frames of q without mu
	waitOut      bool   // waiting for EPOLLOUT; the poller reschedules
	registered   bool   // fd is in the poller's epoll set
	dropPending  bool   // CloseNow: discard unstarted frames after the current write
	closeQueued  bool   // our close frame is the last frame of q
	closeWritten bool   // our close frame was written and SHUT_WR done
	peerClosed   bool   // the peer's close frame arrived

	// Poller goroutine only.
	rd      parser
	early   []byte // a paused connection's bytes read past the handshake
	discard bool   // input is read and dropped
	done    bool   // finalized
}

// Enqueue appends a pre-built frame (BuildFrame) to the connection's output
// and returns at once: a flusher writes it. frame must not be modified
// afterwards; it may be shared by many connections. It returns ErrClosed once
// the connection is closing, and ErrQueueFull (dropping the frame, counted in
// Stats.Dropped) when the pending output would exceed Config.MaxQueueBytes.
// An empty frame is ignored.
func (c *Conn) Enqueue(frame []byte) error {
	if len(frame) == 0 {
		return nil
	}
	c.mu.Lock()
	if c.state.Load() != stateOpen {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.q.bytes+len(frame) > c.e.cfg.MaxQueueBytes {
		c.mu.Unlock()
		c.e.stats.dropped.Add(1)
		return ErrQueueFull
	}
	if max := c.e.cfg.MaxTotalQueueBytes; max > 0 && c.q.bytes > c.e.cfg.MaxQueueBytes/16 &&
		c.e.stats.queued.Load()+int64(len(frame)) > max {
		c.mu.Unlock()
		c.e.stats.dropped.Add(1)
		c.e.stats.totalDropped.Add(1)
		return ErrTotalQueueFull
	}
	c.q.push(frame)
	sched := c.scheduleLocked()
	if sched && c.e.cfg.WriteDelay > 0 {
		c.due.Store(time.Now().Add(c.e.cfg.WriteDelay).UnixNano())
	}
	c.mu.Unlock()
	if sched {
		c.e.rq.push(c)
	}
	return nil
}

// scheduleLocked marks the connection scheduled and reports whether the
// caller must push it on the run-queue. c.mu is held.
func (c *Conn) scheduleLocked() bool {
	if c.scheduled || c.waitOut {
		return false
	}
	c.scheduled = true
	c.due.Store(0)
	return true
}

// Close starts the closing handshake: a close frame with code and reason goes
// out after the frames already queued, then the write side is shut down and
// the connection waits (at most Config.CloseTimeout) for the peer's close frame
// or end of stream before closing. Writes fail from now on. Close on a closing
// or closed connection does nothing.
func (c *Conn) Close(code int, reason string) {
	c.close(code, reason, false)
}

// CloseNow is Close for slow consumers: queued frames not yet started are
// discarded (a partly written frame is completed), so the close frame is next.
// On a connection already closing, it discards what is queued before the close
// frame.
func (c *Conn) CloseNow(code int, reason string) {
	c.close(code, reason, true)
}

func (c *Conn) close(code int, reason string, now bool) {
	c.mu.Lock()
	st := c.state.Load()
	if st == stateClosed {
		c.mu.Unlock()
		return
	}
	started := false
	if st == stateOpen {
		c.state.Store(stateClosing)
		c.closeCode, c.closeReason = code, reason
		c.q.push(CloseFrame(code, reason))
		c.closeQueued = true
		started = true
	}
	if now && c.closeQueued {
		if c.flushing {
			c.dropPending = true
		} else if n := c.q.dropUnstarted(true); n > 0 {
			c.e.stats.discarded.Add(uint64(n))
		}
	}
	sched := c.scheduleLocked()
	c.mu.Unlock()
	if sched {
		c.e.rq.push(c)
	}
	if started {
		c.e.timer.add(c)
	}
}

// Abort closes the connection at once, without a close frame: queued output is
// lost and the peer sees the TCP connection end. OnClose reports the close code
// of a close already started, else CloseAbnormal.
func (c *Conn) Abort() {
	c.mu.Lock()
	switch c.state.Load() {
	case stateClosed:
		c.mu.Unlock()
		return
	case stateOpen:
		c.closeCode = CloseAbnormal
		c.state.Store(stateClosing)
	}
	c.mu.Unlock()
	c.kill()
}

// kill makes the poller finalize the connection: it shuts the socket down
// (ending any exchange with the peer) and posts a finish request.
func (c *Conn) kill() {
	if c.finish.Swap(true) {
		return
	}
	c.fdMu.RLock()
	if c.fd >= 0 {
		_ = unix.Shutdown(c.fd, unix.SHUT_RDWR)
	}
	c.fdMu.RUnlock()
	c.p.post(inboxItem{c: c, kind: inboxFinish})
}

// closeTimedOut is called by the timer goroutine when the close timeout of c
// expires.
func (c *Conn) closeTimedOut() {
	if c.state.Load() == stateClosed {
		return
	}
	c.e.stats.closeTimeouts.Add(1)
	c.kill()
}

// Resume starts input processing of a connection adopted with
// AdoptOptions.Paused: its buffered bytes first, then the socket. It does
// nothing on a connection not paused, or already resumed.
func (c *Conn) Resume() {
	if c.paused.CompareAndSwap(true, false) {
		c.p.post(inboxItem{c: c, kind: inboxResume})
	}
}

// QueuedBytes returns the bytes of output waiting to be written.
func (c *Conn) QueuedBytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.q.bytes
}

// LastActivity returns the time, in Unix nanoseconds, of the last read that
// completed a frame (data or control), or of the adoption.
func (c *Conn) LastActivity() int64 {
	return c.lastActivity.Load()
}

// Context returns AdoptOptions.Context.
func (c *Conn) Context() any {
	return c.ctx
}

// RemoteAddr returns the peer's address as the net.Conn reported it.
func (c *Conn) RemoteAddr() string {
	return c.remote
}

// Closed reports whether the connection no longer accepts writes (closing or
// closed).
func (c *Conn) Closed() bool {
	return c.state.Load() != stateOpen
}

// frame is the parser's sink; it runs on the poller goroutine.
func (c *Conn) frame(op Opcode, payload []byte) bool {
	c.p.frames++
	switch op {
	case OpText, OpBinary:
		if c.state.Load() == stateOpen {
			c.h.OnMessage(c, op, payload)
		}
	case OpPing:
		if c.state.Load() == stateOpen {
			_ = c.Enqueue(BuildFrame(OpPong, payload))
		}
	case OpClose:
		c.peerClose(payload)
		return false
	}
	return !c.finish.Load()
}

// peerClose handles the peer's close frame on the poller goroutine: it answers
// with the same code unless our close frame is already queued, and finishes
// the connection once ours is written.
func (c *Conn) peerClose(payload []byte) {
	code, reason, fail := parseClosePayload(payload)
	if fail != 0 {
		c.protocolError(fail)
		return
	}
	c.discard = true
	c.mu.Lock()
	c.peerClosed = true
	started := false
	if c.state.Load() == stateOpen {
		c.state.Store(stateClosing)
		c.closeCode, c.closeReason = code, reason
		c.q.push(CloseFrame(code, ""))
		c.closeQueued = true
		started = true
	}
	if c.closeWritten {
		c.finish.Store(true)
	}
	sched := started && c.scheduleLocked()
	c.mu.Unlock()
	if sched {
		c.e.rq.push(c)
	}
	if started {
		c.e.timer.add(c)
	}
}

// protocolError fails the connection on the poller goroutine (RFC 6455
// section 7.1.7): input is dropped from now on and a close frame with code is
// sent at once, as CloseNow does.
func (c *Conn) protocolError(code int) {
	c.e.stats.protocolErrors.Add(1)
	switch code {
	case CloseProtocolError:
		c.e.stats.refusedProto.Add(1)
	case CloseInvalidPayload:
		c.e.stats.refusedPayload.Add(1)
	case CloseMessageTooBig:
		c.e.stats.refusedTooBig.Add(1)
	case CloseTryAgainLater:
		c.e.stats.refusedBusy.Add(1)
	}
	c.discard = true
	c.rd.reset()
	c.CloseNow(code, "")
}

// onWritable runs on the poller goroutine when EPOLLOUT fires.
func (c *Conn) onWritable() {
	c.mu.Lock()
	sched := false
	if c.waitOut {
		c.waitOut = false
		ev := unix.EpollEvent{Events: pollIn, Fd: int32(c.fd)}
		_ = unix.EpollCtl(c.p.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev)
		sched = c.state.Load() != stateClosed && c.scheduleLocked()
	}
	c.mu.Unlock()
	if sched {
		c.e.rq.push(c)
	}
}

// touch records input activity.
func (c *Conn) touch() {
	c.lastActivity.Store(time.Now().UnixNano())
}
