package wsconn

import (
	"sync"
	"time"
)

// closeTimer enforces Config.CloseTimeout with one goroutine per Engine.
// Every close gets the same timeout, so deadlines come in order and a FIFO is
// a priority queue.
type closeTimer struct {
	timeout time.Duration
	wake    chan struct{} // capacity 1: the queue went from empty to non-empty
	done    chan struct{} // closed by stop

	mu      sync.Mutex
	entries []timerEntry // entries[off:] are waiting, by deadline
	off     int
}

type timerEntry struct {
	deadline time.Time
	c        *Conn
}

func (t *closeTimer) init(timeout time.Duration) {
	t.timeout = timeout
	t.wake = make(chan struct{}, 1)
	t.done = make(chan struct{})
}

// add starts c's close timeout.
func (t *closeTimer) add(c *Conn) {
	t.mu.Lock()
	wasEmpty := t.off == len(t.entries)
	if len(t.entries) == cap(t.entries) && t.off > 0 && t.off >= len(t.entries)/2 {
		n := copy(t.entries, t.entries[t.off:])
		clear(t.entries[n:])
		t.entries = t.entries[:n]
		t.off = 0
	}
	t.entries = append(t.entries, timerEntry{deadline: time.Now().Add(t.timeout), c: c})
	t.mu.Unlock()
	if wasEmpty {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

// next returns the first entry if it is due, or how long to wait for it
// (0 when the queue is empty).
func (t *closeTimer) next(now time.Time) (c *Conn, wait time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.off == len(t.entries) {
		return nil, 0
	}
	e := t.entries[t.off]
	if d := e.deadline.Sub(now); d > 0 {
		return nil, d
	}
	t.entries[t.off] = timerEntry{}
	t.off++
	if t.off == len(t.entries) {
		t.entries, t.off = t.entries[:0], 0
	}
	return e.c, 0
}

// run is the timer goroutine. It returns after stop.
func (t *closeTimer) run() {
	tm := time.NewTimer(time.Hour)
	defer tm.Stop()
	for {
		c, wait := t.next(time.Now())
		if c != nil {
			c.closeTimedOut()
			continue
		}
		var fire <-chan time.Time
		if wait > 0 {
			tm.Reset(wait)
			fire = tm.C
		}
		select {
		case <-fire:
		case <-t.wake:
		case <-t.done:
			return
		}
	}
}

// stop ends run.
func (t *closeTimer) stop() {
	close(t.done)
}
