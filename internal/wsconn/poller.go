package wsconn

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// Epoll interest sets: level-triggered input, plus output while a write is
// waiting for room.
const (
	pollIn  = unix.EPOLLIN | unix.EPOLLRDHUP
	pollOut = pollIn | unix.EPOLLOUT

	pollEvents = 256 // events per epoll_wait
)

// inboxKind says what a poller is asked to do with a connection.
type inboxKind uint8

const (
	inboxAdopt  inboxKind = iota // take the connection; unless paused, start reading
	inboxResume                  // start reading a paused connection
	inboxFinish                  // finalize (Conn.finish is set)
)

// inboxItem is a request posted to a poller by another goroutine.
type inboxItem struct {
	c      *Conn
	kind   inboxKind
	paused bool   // inboxAdopt: wait for inboxResume before reading
	data   []byte // inboxAdopt: bytes read past the handshake
}

// poller is one epoll loop and its goroutine. It reads and parses input,
// calls the Handler, and is the only closer of its connections' descriptors.
type poller struct {
	e      *Engine
	epfd   int
	wakefd int // eventfd: wakes epoll_wait when the inbox has items

	// Poller goroutine only.
	buf    []byte
	events []unix.EpollEvent
	conns  []*Conn // registered connections by descriptor
	frames uint64  // frames parsed by the current input call
	spare  []inboxItem

	mu      sync.Mutex
	inbox   []inboxItem
	woken   bool // wakefd was signalled and not yet drained
	stopped bool // no more posts; the loop exits
}

func newPoller(e *Engine) (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("wsconn: epoll_create1: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("wsconn: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(wakefd)
		return nil, fmt.Errorf("wsconn: epoll_ctl eventfd: %w", err)
	}
	return &poller{
		e:      e,
		epfd:   epfd,
		wakefd: wakefd,
		buf:    make([]byte, e.cfg.ReadBufferSize),
		events: make([]unix.EpollEvent, pollEvents),
	}, nil
}

// post hands it to the poller goroutine. It reports false when the poller
// has stopped.
func (p *poller) post(it inboxItem) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return false
	}
	p.inbox = append(p.inbox, it)
	if !p.woken {
		p.woken = true
		p.signalLocked()
	}
	return true
}

// signalLocked wakes epoll_wait. p.mu is held, so wakefd is open.
func (p *poller) signalLocked() {
	one := [8]byte{1}
	_, _ = unix.Write(p.wakefd, one[:])
}

// stop makes the loop exit; the poller then finalizes its connections.
func (p *poller) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		p.stopped = true
		p.signalLocked()
	}
}

// run is the poller goroutine.
func (p *poller) run() {
	defer p.shutdown()
	for {
		n, err := unix.EpollWait(p.epfd, p.events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		for i := range n {
			ev := p.events[i]
			fd := int(ev.Fd)
			if fd == p.wakefd {
				if p.drainInbox() {
					return
				}
				continue
			}
			if fd >= len(p.conns) || p.conns[fd] == nil {
				continue
			}
			c := p.conns[fd]
			if ev.Events&unix.EPOLLOUT != 0 {
				c.onWritable()
			}
			if ev.Events&^uint32(unix.EPOLLOUT) != 0 {
				p.onReadable(c)
			}
		}
	}
}

// drainInbox handles posted requests and reports whether the poller stopped.
func (p *poller) drainInbox() bool {
	var b [8]byte
	_, _ = unix.Read(p.wakefd, b[:])
	p.mu.Lock()
	items := p.inbox
	p.inbox = p.spare[:0]
	p.woken = false
	stopped := p.stopped
	p.mu.Unlock()
	for i := range items {
		it := items[i]
		items[i] = inboxItem{}
		switch it.kind {
		case inboxAdopt:
			p.adopt(it.c, it.data, it.paused)
		case inboxResume:
			data := it.c.early
			it.c.early = nil
			p.start(it.c, data)
		case inboxFinish:
			p.finalize(it.c)
		}
	}
	p.spare = items[:0]
	return stopped
}

// adopt takes a new connection into the poller's table, so that it is
// finalized on shutdown, and starts reading it unless it is paused.
func (p *poller) adopt(c *Conn, data []byte, paused bool) {
	if c.fd >= len(p.conns) {
		grown := make([]*Conn, max(c.fd+1, 2*len(p.conns), 1024))
		copy(grown, p.conns)
		p.conns = grown
	}
	p.conns[c.fd] = c
	if paused {
		c.early = data
		return
	}
	p.start(c, data)
}

// start processes a connection's buffered input, then registers it with
// epoll so that reading goes on from the socket.
func (p *poller) start(c *Conn, data []byte) {
	if c.done {
		return
	}
	if len(data) > 0 {
		p.input(c, data)
		if c.done {
			return
		}
	}
	if c.finish.Load() {
		p.finalize(c)
		return
	}
	c.mu.Lock()
	ev := unix.EpollEvent{Events: pollIn, Fd: int32(c.fd)}
	if c.waitOut {
		ev.Events = pollOut
	}
	err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev)
	c.registered = err == nil
	c.mu.Unlock()
	if err != nil {
		p.finalize(c)
	}
}

// onReadable reads once from c and processes what arrived.
func (p *poller) onReadable(c *Conn) {
	if c.finish.Load() {
		p.finalize(c)
		return
	}
	n, err := unix.Read(c.fd, p.buf)
	if err != nil && (errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR)) {
		return
	}
	if err != nil || n <= 0 {
		p.finalize(c)
		return
	}
	p.e.stats.reads.Add(1)
	p.e.stats.bytesIn.Add(uint64(n))
	p.input(c, p.buf[:n])
}

// input parses bytes read from c, then finalizes c if that was requested.
func (p *poller) input(c *Conn, data []byte) {
	if !c.discard {
		p.frames = 0
		if fail := c.rd.feed(data, c); fail != 0 {
			c.protocolError(fail)
		}
		if p.frames > 0 {
			c.touch()
			p.e.stats.framesIn.Add(p.frames)
		}
	}
	if c.finish.Load() {
		p.finalize(c)
	}
}

// finalize closes c's descriptor and calls OnClose, once.
func (p *poller) finalize(c *Conn) {
	if c.done {
		return
	}
	c.done = true
	c.discard = true
	c.rd.reset()

	c.mu.Lock()
	code, reason := c.closeCode, c.closeReason
	if code == 0 {
		code = CloseAbnormal
	}
	c.state.Store(stateClosed)
	c.q.release()
	c.mu.Unlock()

	c.early = nil
	c.fdMu.Lock()
	fd := c.fd
	c.fd = -1
	c.fdMu.Unlock()
	if fd >= 0 {
		if fd < len(p.conns) && p.conns[fd] == c {
			p.conns[fd] = nil
		}
		_ = unix.Close(fd)
	}
	p.e.stats.conns.Add(-1)
	p.e.stats.closed.Add(1)
	c.h.OnClose(c, code, reason)
}

// shutdown runs when the loop exits: it finalizes every connection of the
// poller and releases its descriptors.
func (p *poller) shutdown() {
	p.mu.Lock()
	p.stopped = true
	items := p.inbox
	p.inbox = nil
	p.mu.Unlock()
	for _, it := range items {
		p.finalize(it.c)
	}
	for _, c := range p.conns {
		if c != nil {
			p.finalize(c)
		}
	}
	p.conns = nil
	_ = unix.Close(p.epfd)
	p.mu.Lock()
	_ = unix.Close(p.wakefd)
	p.mu.Unlock()
}
