package wsconn

import "sync"

// runQueue is the FIFO of connections with output to write, served by the
// flushers. A connection is on it at most once (Conn.scheduled).
type runQueue struct {
	mu      sync.Mutex
	cond    sync.Cond
	items   []*Conn // items[off:] are waiting
	off     int
	idle    int // flushers waiting on cond
	stopped bool
}

func (q *runQueue) init() {
	q.cond.L = &q.mu
}

// push appends c and wakes an idle flusher. It never blocks for long.
func (q *runQueue) push(c *Conn) {
	q.mu.Lock()
	if q.stopped {
		q.mu.Unlock()
		return
	}
	if len(q.items) == cap(q.items) && q.off > 0 && q.off >= len(q.items)/2 {
		n := copy(q.items, q.items[q.off:])
		clear(q.items[n:])
		q.items = q.items[:n]
		q.off = 0
	}
	q.items = append(q.items, c)
	wake := q.idle > 0
	q.mu.Unlock()
	if wake {
		q.cond.Signal()
	}
}

// pop waits for work and appends up to max connections to dst. ok is false
// once the queue is stopped.
func (q *runQueue) pop(dst []*Conn, max int) (batch []*Conn, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.off == len(q.items) && !q.stopped {
		q.idle++
		q.cond.Wait()
		q.idle--
	}
	if q.stopped {
		return dst, false
	}
	n := min(max, len(q.items)-q.off)
	dst = append(dst, q.items[q.off:q.off+n]...)
	clear(q.items[q.off : q.off+n])
	q.off += n
	if q.off == len(q.items) {
		q.items, q.off = q.items[:0], 0
	}
	return dst, true
}

// stop wakes every flusher for exit and drops the waiting connections.
func (q *runQueue) stop() {
	q.mu.Lock()
	q.stopped = true
	q.items, q.off = nil, 0
	q.mu.Unlock()
	q.cond.Broadcast()
}
