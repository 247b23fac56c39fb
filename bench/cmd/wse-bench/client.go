package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wse-go/wse/bench/internal/stats"
	"github.com/wse-go/wse/bench/internal/wsclient"
	"github.com/wse-go/wse/bench/internal/wsframe"
)

// mode is what connection goroutines do with incoming frames.
type mode int

const (
	modeIdle   mode = iota // answer pings only
	modeFanout             // count stamped messages, record latency
	modeEcho               // closed-loop echo requests
)

// conn is one benchmark connection, owned by its goroutine once started.
type conn struct {
	ws     *wsclient.Conn
	id     int
	poller *wsclient.Poller
	dead   bool // removed from its poller and reset

	// Owned by the connection's goroutine; read by others only after it
	// ended.
	received  int64 // stamped messages
	lastSeq   int64
	reordered int64
	echoID    int64
	sent      []int64 // send times of outstanding echo requests (FIFO)
	wbuf      []byte
}

// client is the set of connections of one run and their shared counters.
type client struct {
	t      *target
	topic  string
	mode   mode
	dialer *wsclient.Dialer
	tokens []string

	conns   []*conn
	pollers []*wsclient.Poller
	loops   int
	stop    atomic.Bool // ends the poller loops
	wg      sync.WaitGroup

	// delivered counts stamped messages over all connections; echoes counts
	// echo answers.
	delivered atomic.Int64
	echoes    atomic.Int64
	// recording gates latency samples (the measured window).
	recording atomic.Bool
	latency   stats.Histogram
	// sending gates new echo requests.
	sending  atomic.Bool
	inflight int
	// wakeAt is the delivered count a waiting publisher needs; wake holds
	// one token per publisher.
	wakeAt atomic.Int64
	wake   []chan struct{}
	// closing is set before teardown: later disconnects are ours.
	closing atomic.Bool

	// mu guards the disconnect record.
	mu          sync.Mutex
	disconnects int
	closeCodes  map[string]int
}

// connectResult summarizes the connect phase.
type connectResult struct {
	ok        int
	errors    map[string]int
	elapsed   time.Duration
	handshake stats.Histogram
}

// connect opens n connections with concurrency dialers in parallel. Each is
// dialed, readied (connect command) and, when subscribe is set, subscribed
// before its goroutine starts. It stops at the deadline.
func (cl *client) connect(n, concurrency int, subscribe bool, deadline time.Time) *connectResult {
	res := &connectResult{errors: map[string]int{}}
	var next atomic.Int64
	var mu sync.Mutex
	conns := make([]*conn, n)
	start := time.Now()
	var wg sync.WaitGroup
	for range min(concurrency, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || time.Now().After(deadline) {
					return
				}
				t0 := time.Now()
				c, err := cl.open(i, subscribe, deadline)
				if err != nil {
					mu.Lock()
					res.errors[errKey(err)]++
					mu.Unlock()
					continue
				}
				res.handshake.Record(c.ws.ReadAt - t0.UnixNano())
				conns[i] = c
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	for _, c := range conns {
		if c != nil {
			cl.conns = append(cl.conns, c)
		}
	}
	res.ok = len(cl.conns)
	if err := cl.start(); err != nil {
		res.errors[errKey(err)]++
	}
	return res
}

// start detaches every connection from Go's poller and serves them with
// cl.loops epoll loops, each on its own goroutine, so that a message costs
// one read(2) and no goroutine switch.
func (cl *client) start() error {
	cl.pollers = make([]*wsclient.Poller, max(cl.loops, 1))
	for i := range cl.pollers {
		p, err := wsclient.NewPoller()
		if err != nil {
			return err
		}
		cl.pollers[i] = p
	}
	for i, c := range cl.conns {
		if err := c.ws.Detach(); err != nil {
			return err
		}
		c.poller = cl.pollers[i%len(cl.pollers)]
		if err := c.poller.Add(c.ws.Fd(), int32(i)); err != nil {
			return err
		}
	}
	for _, c := range cl.conns {
		if cl.mode == modeEcho {
			c.sent = make([]int64, 0, cl.inflight)
			for range cl.inflight {
				if !cl.sendEcho(c) {
					break
				}
			}
		}
		cl.process(c) // frames that arrived with the handshake
	}
	for _, p := range cl.pollers {
		cl.wg.Go(func() { cl.loop(p) })
	}
	return nil
}

// loop serves one poller until cl.stop.
func (cl *client) loop(p *wsclient.Poller) {
	ready := cl.readable
	for !cl.stop.Load() {
		if _, err := p.Wait(100*time.Millisecond, ready); err != nil {
			return
		}
	}
}

// readable reads what connection idx has and handles every complete frame.
func (cl *client) readable(idx int32) {
	c := cl.conns[idx]
	if c.dead {
		return
	}
	if _, err := c.ws.Fill(); err != nil {
		cl.kill(c, "read error")
		return
	}
	cl.process(c)
}

// process handles the complete frames buffered for c.
func (cl *client) process(c *conn) {
	for !c.dead {
		h, p, ok, err := c.ws.Parse()
		if err != nil {
			cl.kill(c, "protocol error")
			return
		}
		if !ok {
			return
		}
		switch h.Op {
		case wsframe.OpPing:
			_ = c.ws.Write(wsframe.OpPong, p)
		case wsframe.OpClose:
			cl.kill(c, strconv.Itoa(wsclient.CloseCode(p)))
		case wsframe.OpText, wsframe.OpBinary, wsframe.OpContinuation:
			cl.onData(c, p)
		}
	}
}

// kill removes c from its poller, resets it and records why.
func (cl *client) kill(c *conn, why string) {
	c.dead = true
	c.poller.Remove(c.ws.Fd())
	c.ws.Abort()
	cl.lost(c, why)
}

// errKey shortens an error to a stable key for counting.
func errKey(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// open dials connection i and waits until it is ready (and subscribed).
// c.ws.ReadAt is then the arrival time of the frame that completed it.
func (cl *client) open(i int, subscribe bool, deadline time.Time) (*conn, error) {
	tok := ""
	if cl.tokens != nil {
		tok = cl.tokens[i]
	}
	var hdr http.Header
	if tok != "" && cl.t.authHeader {
		hdr = http.Header{"Cookie": {"access_token=" + tok}}
	}
	ws, err := cl.dialer.Dial(hdr)
	if err != nil {
		return nil, err
	}
	c := &conn{ws: ws, id: i, lastSeq: -1}
	fail := func(err error) (*conn, error) {
		ws.Abort()
		return nil, err
	}
	if err := ws.SetReadDeadline(deadline); err != nil {
		return fail(err)
	}
	if cl.t.connectCmd != nil {
		if err := ws.WriteText(cl.t.connectCmd(tok)); err != nil {
			return fail(err)
		}
	}
	if err := c.await(cl.t.readyMark, cl.t.failMark); err != nil {
		return fail(err)
	}
	if subscribe && cl.t.subscribeCmd != nil {
		if err := ws.WriteText(cl.t.subscribeCmd(cl.topic)); err != nil {
			return fail(err)
		}
		if err := c.await(cl.t.subscribedMark, nil); err != nil {
			return fail(err)
		}
	}
	if err := ws.SetReadDeadline(time.Time{}); err != nil {
		return fail(err)
	}
	return c, nil
}

// await reads frames until one contains mark; a frame containing fail, a
// close frame or 16 frames without mark are errors.
func (c *conn) await(mark, fail []byte) error {
	for range 16 {
		h, p, err := c.ws.Next()
		if err != nil {
			return err
		}
		switch {
		case h.Op == wsframe.OpClose:
			return fmt.Errorf("%w: close %d", errRefused, wsclient.CloseCode(p))
		case h.Op == wsframe.OpPing:
			if err := c.ws.Write(wsframe.OpPong, p); err != nil {
				return err
			}
		case bytes.Contains(p, mark):
			return nil
		case fail != nil && bytes.Contains(p, fail):
			return fmt.Errorf("%w: %.100s", errRefused, p)
		}
	}
	return fmt.Errorf("%w: no %s in 16 frames", errRefused, mark)
}

// onData handles one data frame.
func (cl *client) onData(c *conn, p []byte) {
	if cl.t.isPing(p) {
		_ = c.ws.WriteText(cl.t.pingReply)
	}
	switch cl.mode {
	case modeFanout:
		var k int64
		rec := cl.recording.Load()
		for pos := 0; ; {
			seq, ts, next, ok := wsframe.NextStamp(p, pos)
			if !ok {
				break
			}
			pos = next
			k++
			if seq <= c.lastSeq {
				c.reordered++
			}
			c.lastSeq = seq
			if rec {
				cl.latency.Record(c.ws.ReadAt - ts)
			}
		}
		if k > 0 {
			c.received += k
			if cl.delivered.Add(k) >= cl.wakeAt.Load() {
				for _, ch := range cl.wake {
					select {
					case ch <- struct{}{}:
					default:
					}
				}
			}
		}
	case modeEcho:
		k := bytes.Count(p, cl.t.echoMark)
		for range k {
			if len(c.sent) == 0 {
				break
			}
			if cl.recording.Load() {
				cl.latency.Record(c.ws.ReadAt - c.sent[0])
			}
			c.sent = c.sent[:copy(c.sent, c.sent[1:])]
			cl.echoes.Add(1)
			cl.sendEcho(c)
		}
	}
}

// sendEcho sends one echo request if sending is on; it reports whether it
// did.
func (cl *client) sendEcho(c *conn) bool {
	if !cl.sending.Load() {
		return false
	}
	c.echoID++
	c.wbuf = cl.t.echoCmd(c.wbuf[:0], c.echoID)
	c.sent = append(c.sent, time.Now().UnixNano())
	if err := c.ws.WriteText(c.wbuf); err != nil {
		c.sent = c.sent[:len(c.sent)-1]
		return false
	}
	return true
}

// lost records a connection that ended before teardown.
func (cl *client) lost(c *conn, why string) {
	if cl.closing.Load() {
		return
	}
	cl.mu.Lock()
	cl.disconnects++
	if cl.closeCodes == nil {
		cl.closeCodes = map[string]int{}
	}
	cl.closeCodes[why]++
	cl.mu.Unlock()
}

// teardown stops the poller loops (bounded wait), then resets every
// connection.
func (cl *client) teardown(wait time.Duration) error {
	cl.closing.Store(true)
	cl.stop.Store(true)
	done := make(chan struct{})
	go func() {
		cl.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(wait):
		return errors.New("wse-bench: poller loops did not end")
	}
	for _, c := range cl.conns {
		if !c.dead {
			c.dead = true
			c.ws.Abort()
		}
	}
	for _, p := range cl.pollers {
		_ = p.Close()
	}
	return nil
}

// disconnectRecord returns the disconnect count and reasons.
func (cl *client) disconnectRecord() (int, map[string]int) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	m := make(map[string]int, len(cl.closeCodes))
	for k, v := range cl.closeCodes {
		m[k] = v
	}
	return cl.disconnects, m
}

// topErrors formats an error count map, most frequent first.
func topErrors(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	out := make([]string, 0, min(len(keys), 5))
	for _, k := range keys[:min(len(keys), 5)] {
		out = append(out, fmt.Sprintf("%d× %s", m[k], k))
	}
	return out
}
