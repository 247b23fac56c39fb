package wsconn

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// flushBatch is the most connections a flusher takes from the run-queue
	// at a time.
	flushBatch = 16
	// flushRounds is the most writev calls a flusher makes for one
	// connection before putting it back at the end of the run-queue.
	flushRounds = 8
)

// flusher is a goroutine writing queued output of scheduled connections.
type flusher struct {
	e     *Engine
	iov   []unix.Iovec
	batch []*Conn
}

func newFlusher(e *Engine) *flusher {
	return &flusher{
		e:     e,
		iov:   make([]unix.Iovec, 0, iovMax),
		batch: make([]*Conn, 0, flushBatch),
	}
}

// run serves the run-queue until it stops.
func (f *flusher) run() {
	for {
		batch, ok := f.e.rq.pop(f.batch[:0], flushBatch)
		if !ok {
			return
		}
		for i, c := range batch {
			// The run-queue is in scheduling order, so due times ascend
			// within a batch: one wait each at most Config.WriteDelay.
			if due := c.due.Load(); due != 0 {
				if wait := time.Until(time.Unix(0, due)); wait > 0 {
					time.Sleep(wait)
				}
			}
			f.flush(c)
			batch[i] = nil
		}
		f.batch = batch[:0]
	}
}

// flush writes c's pending output until it is empty, the socket is full, or
// flushRounds writes were made (then c goes back on the run-queue).
func (f *flusher) flush(c *Conn) {
	for range flushRounds {
		if !f.flushOnce(c) {
			return
		}
	}
	f.e.rq.push(c)
}

// flushOnce makes one writev of everything pending (up to IOV_MAX frames). It
// reports whether output remains to be written now; when it returns false,
// c is no longer scheduled.
func (f *flusher) flushOnce(c *Conn) bool {
	e := f.e
	c.mu.Lock()
	if c.dropPending {
		c.dropPending = false
		if n := c.q.dropUnstarted(c.closeQueued); n > 0 {
			e.stats.discarded.Add(uint64(n))
		}
	}
	if c.state.Load() == stateClosed || c.q.len() == 0 || c.closeWritten || c.finish.Load() {
		c.scheduled = false
		c.mu.Unlock()
		return false
	}
	iov := f.fill(&c.q)
	c.flushing = true
	c.mu.Unlock()

	var n int
	var err error = unix.EBADF
	c.fdMu.RLock()
	if c.fd >= 0 {
		n, err = writev(c.fd, iov)
	}
	c.fdMu.RUnlock()
	clear(iov)
	e.stats.writes.Add(1)

	c.mu.Lock()
	c.flushing = false
	if n > 0 {
		e.stats.bytesOut.Add(uint64(n))
		if frames := c.q.advance(n); frames > 0 {
			e.stats.framesOut.Add(uint64(frames))
		}
	}
	if c.dropPending {
		c.dropPending = false
		if k := c.q.dropUnstarted(c.closeQueued); k > 0 {
			e.stats.discarded.Add(uint64(k))
		}
	}
	switch {
	case err == nil || errors.Is(err, unix.EINTR):
	case errors.Is(err, unix.EAGAIN):
		c.waitOut = true
		c.scheduled = false
		if c.registered {
			c.fdMu.RLock()
			if c.fd >= 0 {
				ev := unix.EpollEvent{Events: pollOut, Fd: int32(c.fd)}
				_ = unix.EpollCtl(c.p.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev)
			}
			c.fdMu.RUnlock()
		}
		c.mu.Unlock()
		return false
	default:
		c.scheduled = false
		c.mu.Unlock()
		c.kill()
		return false
	}
	finish := false
	if c.closeQueued && !c.closeWritten && c.q.len() == 0 {
		c.closeWritten = true
		finish = c.peerClosed
		c.fdMu.RLock()
		if c.fd >= 0 {
			_ = unix.Shutdown(c.fd, unix.SHUT_WR)
		}
		c.fdMu.RUnlock()
	}
	more := c.q.len() > 0
	if !more {
		c.scheduled = false
	}
	c.mu.Unlock()
	if finish {
		c.kill()
	}
	return more
}

// fill builds the iovecs for q's pending frames. c.mu is held.
func (f *flusher) fill(q *frameQueue) []unix.Iovec {
	iov := f.iov[:0]
	for i := q.off; i < len(q.buf) && len(iov) < iovMax; i++ {
		b := q.buf[i]
		if i == q.off {
			b = b[q.head:]
		}
		var v unix.Iovec
		v.Base = &b[0]
		v.SetLen(len(b))
		iov = append(iov, v)
	}
	return iov
}
