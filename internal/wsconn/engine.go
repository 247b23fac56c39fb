package wsconn

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Handler receives a connection's input. See the package documentation for
// the goroutines it runs on.
type Handler interface {
	// OnMessage receives one complete message (op OpText or OpBinary). It runs
	// on a poller goroutine and must not block; data is valid only during the
	// call.
	OnMessage(c *Conn, op Opcode, data []byte)
	// OnClose is called exactly once per adopted connection, after which the
	// Conn accepts no more writes. code is the close code sent (when we closed
	// first) or received (when the peer did), CloseNoStatus for a peer close
	// frame without code, and CloseAbnormal when the link just dropped or was
	// aborted.
	OnClose(c *Conn, code int, reason string)
}

// AdoptOptions are the per-connection options of Engine.Adopt.
type AdoptOptions struct {
	// Buffered holds bytes read past the handshake; they are processed as the
	// connection's first input. Adopt copies them.
	Buffered []byte
	// Initial is a pre-built frame written before anything else (for example
	// a server_ready message). It is not copied and must not be modified.
	Initial []byte
	// Context is returned by Conn.Context.
	Context any
	// Paused delays input processing (Buffered, then the socket) until
	// Conn.Resume, so that no OnMessage runs before the caller is ready, for
	// example before it has registered the Conn returned by Adopt. Output
	// works at once. A paused connection is still closed by Abort, Stop, a
	// failed write or an expired close.
	Paused bool
}

// Stats is a snapshot of an Engine's counters.
type Stats struct {
	Conns          int64  // connections adopted and not yet closed
	Adopted        uint64 // connections adopted
	Closed         uint64 // connections closed (OnClose called)
	BytesIn        uint64 // bytes read
	BytesOut       uint64 // bytes written
	FramesIn       uint64 // messages and control frames received
	FramesOut      uint64 // frames written completely
	Reads          uint64 // read system calls that returned data
	Writes         uint64 // writev system calls
	Dropped        uint64 // frames refused by Enqueue with ErrQueueFull
	Discarded      uint64 // queued frames discarded by CloseNow
	ProtocolErrors uint64 // connections failed for a protocol violation
	CloseTimeouts  uint64 // closes ended by Config.CloseTimeout
	// QueuedBytes is the pending output of all connections (a shared frame
	// counted once per connection).
	QueuedBytes int64
	// TotalDropped counts the frames of Dropped refused for
	// Config.MaxTotalQueueBytes rather than a connection's own bound.
	TotalDropped uint64
	// Refused counts the connections failed by the parser, by close code:
	// 1002 (protocol error), 1007 (invalid UTF-8 or close payload), 1009
	// (frame or message over MaxMessageSize) and 1013 (MaxTotalReadBytes
	// reached); their sum is ProtocolErrors.
	Refused map[int]uint64
	// ReadBufferedBytes is the input held in incomplete frames and
	// fragmented messages over all connections (buffer capacities).
	ReadBufferedBytes int64
}

// engineStats holds the live counters behind Stats.
type engineStats struct {
	conns          atomic.Int64
	adopted        atomic.Uint64
	closed         atomic.Uint64
	bytesIn        atomic.Uint64
	bytesOut       atomic.Uint64
	framesIn       atomic.Uint64
	framesOut      atomic.Uint64
	reads          atomic.Uint64
	writes         atomic.Uint64
	dropped        atomic.Uint64
	discarded      atomic.Uint64
	protocolErrors atomic.Uint64
	closeTimeouts  atomic.Uint64
	queued         atomic.Int64
	totalDropped   atomic.Uint64
	refusedProto   atomic.Uint64 // 1002
	refusedPayload atomic.Uint64 // 1007
	refusedTooBig  atomic.Uint64 // 1009
	refusedBusy    atomic.Uint64 // 1013
	reading        atomic.Int64
}

// Engine lifecycle states.
const (
	engineNew = iota
	engineRunning
	engineStopped
)

// Engine owns the epoll loops, flushers and timer serving adopted
// connections. Create it with NewEngine, then Start; Stop ends it.
type Engine struct {
	cfg   Config
	rq    runQueue
	timer closeTimer
	stats engineStats
	next  atomic.Uint32 // round-robin poller choice

	mu      sync.Mutex // guards state and pollers
	state   int
	pollers []*poller

	pollWG sync.WaitGroup // poller goroutines
	wg     sync.WaitGroup // flusher and timer goroutines
}

// NewEngine returns an Engine configured by cfg (zero fields take their
// defaults). It returns an error wrapping ErrInvalidConfig for an invalid
// Config. No goroutine runs until Start.
func NewEngine(cfg Config) (*Engine, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg}
	e.rq.init()
	e.timer.init(cfg.CloseTimeout)
	return e, nil
}

// Config returns the Engine's configuration with defaults applied.
func (e *Engine) Config() Config {
	return e.cfg
}

// Start creates the epoll instances and starts the pollers, flushers and the
// timer goroutine. It returns ErrStarted when called twice and ErrStopped
// after Stop.
func (e *Engine) Start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch e.state {
	case engineRunning:
		return ErrStarted
	case engineStopped:
		return ErrStopped
	}
	pollers := make([]*poller, 0, e.cfg.Pollers)
	for range e.cfg.Pollers {
		p, err := newPoller(e)
		if err != nil {
			for _, q := range pollers {
				q.shutdown()
			}
			return err
		}
		pollers = append(pollers, p)
	}
	e.pollers = pollers
	e.state = engineRunning
	for _, p := range pollers {
		e.pollWG.Go(p.run)
	}
	for range e.cfg.Flushers {
		e.wg.Go(newFlusher(e).run)
	}
	e.wg.Go(e.timer.run)
	return nil
}

// Stop aborts every connection (OnClose reports CloseAbnormal unless a close
// had started), stops all goroutines of the Engine and waits for them. It is
// idempotent. Callbacks may still run during Stop, never after it returns.
func (e *Engine) Stop() {
	e.mu.Lock()
	state := e.state
	e.state = engineStopped
	e.mu.Unlock()
	if state != engineRunning {
		return
	}
	for _, p := range e.pollers {
		p.stop()
	}
	e.pollWG.Wait()
	e.rq.stop()
	e.timer.stop()
	e.wg.Wait()
}

// Adopt takes ownership of nc, an upgraded WebSocket connection (a
// *net.TCPConn, or any net.Conn implementing syscall.Conn), and serves it
// with h. nc is closed in every case: on success the Engine keeps a duplicate
// of its descriptor. It returns ErrStopped unless the Engine is running.
func (e *Engine) Adopt(nc net.Conn, h Handler, o AdoptOptions) (*Conn, error) {
	defer nc.Close()
	if h == nil {
		return nil, ErrNilHandler
	}
	e.mu.Lock()
	running := e.state == engineRunning
	pollers := e.pollers
	e.mu.Unlock()
	if !running {
		return nil, ErrStopped
	}
	var remote string
	if a := nc.RemoteAddr(); a != nil {
		remote = a.String()
	}
	fd, err := dupConn(nc)
	if err != nil {
		return nil, err
	}
	if n := e.cfg.SendBufferSize; n > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, n); err != nil {
			_ = unix.Close(fd)
			return nil, fmt.Errorf("wsconn: set SO_SNDBUF: %w", err)
		}
	}
	_ = nc.Close()

	p := pollers[int(e.next.Add(1))%len(pollers)]
	c := &Conn{e: e, p: p, h: h, ctx: o.Context, remote: remote, fd: fd}
	c.q.total = &e.stats.queued
	c.rd.max = e.cfg.MaxMessageSize
	c.rd.total, c.rd.limit = &e.stats.reading, e.cfg.MaxTotalReadBytes
	c.touch()
	initial := len(o.Initial) > 0
	if initial {
		c.q.push(o.Initial)
		c.scheduled = true
	}
	var buffered []byte
	if len(o.Buffered) > 0 {
		buffered = append([]byte(nil), o.Buffered...)
	}
	e.stats.conns.Add(1)
	c.paused.Store(o.Paused)
	if !p.post(inboxItem{c: c, kind: inboxAdopt, paused: o.Paused, data: buffered}) {
		e.stats.conns.Add(-1)
		c.state.Store(stateClosed)
		c.fdMu.Lock()
		_ = unix.Close(c.fd)
		c.fd = -1
		c.fdMu.Unlock()
		return nil, ErrStopped
	}
	e.stats.adopted.Add(1)
	if initial {
		e.rq.push(c)
	}
	return c, nil
}

// Stats returns a snapshot of the Engine's counters.
func (e *Engine) Stats() Stats {
	s := &e.stats
	return Stats{
		Conns:          s.conns.Load(),
		Adopted:        s.adopted.Load(),
		Closed:         s.closed.Load(),
		BytesIn:        s.bytesIn.Load(),
		BytesOut:       s.bytesOut.Load(),
		FramesIn:       s.framesIn.Load(),
		FramesOut:      s.framesOut.Load(),
		Reads:          s.reads.Load(),
		Writes:         s.writes.Load(),
		Dropped:        s.dropped.Load(),
		Discarded:      s.discarded.Load(),
		ProtocolErrors: s.protocolErrors.Load(),
		CloseTimeouts:  s.closeTimeouts.Load(),
		QueuedBytes:    s.queued.Load(),
		TotalDropped:   s.totalDropped.Load(),
		Refused: map[int]uint64{
			CloseProtocolError:  s.refusedProto.Load(),
			CloseInvalidPayload: s.refusedPayload.Load(),
			CloseMessageTooBig:  s.refusedTooBig.Load(),
			CloseTryAgainLater:  s.refusedBusy.Load(),
		},
		ReadBufferedBytes: s.reading.Load(),
	}
}
