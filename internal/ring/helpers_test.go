package ring

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for Store.now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// newTestStore returns a Store configured by cfg that reads the time from the
// returned fake clock.
func newTestStore(t testing.TB, cfg Config) (*Store, *fakeClock) {
	t.Helper()
	s, err := NewStore(cfg)
	if err != nil {
		t.Fatalf("NewStore(%+v): %v", cfg, err)
	}
	clk := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s.start = clk.Now()
	s.elapsed = func() time.Duration { return clk.Now().Sub(s.start) }
	return s, clk
}

// msg builds the bytes stored for a message: "topic|epoch|offset|" padded
// with 'x' to at least size bytes.
func msg(topic, epoch string, offset uint64, size int) []byte {
	b := fmt.Appendf(nil, "%s|%s|%d|", topic, epoch, offset)
	for len(b) < size {
		b = append(b, 'x')
	}
	return b
}

// splitMsg returns the position stored in a message built by msg.
func splitMsg(b []byte) (topic, epoch string, offset uint64, ok bool) {
	parts := strings.SplitN(string(b), "|", 4)
	if len(parts) < 4 {
		return "", "", 0, false
	}
	off, err := strconv.ParseUint(parts[2], 10, 64)
	if err != nil {
		return "", "", 0, false
	}
	return parts[0], parts[1], off, true
}

// parseMsg is splitMsg that fails the test on a malformed message.
func parseMsg(t testing.TB, b []byte) (topic, epoch string, offset uint64) {
	t.Helper()
	topic, epoch, offset, ok := splitMsg(b)
	if !ok {
		t.Fatalf("malformed message %q", b)
	}
	return topic, epoch, offset
}

// appendN appends n messages of size bytes to topic and returns the epoch of
// the last one.
func appendN(t testing.TB, s *Store, topic string, n, size int) string {
	t.Helper()
	var epoch string
	for range n {
		_, epoch, _ = s.Append(topic, func(e string, o uint64) []byte { return msg(topic, e, o, size) })
	}
	return epoch
}

// checkInvariants verifies the Store's internal structure: every shard's list
// holds exactly its map's buffers in lastWrite order, each buffer's counters
// match its slots, and the total matches the sum of the buffers.
func checkInvariants(t testing.TB, s *Store) {
	t.Helper()
	var total int64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n := 0
		var prev *buffer
		for b := sh.oldest; b != nil; b = b.newer {
			n++
			if b.older != prev {
				t.Errorf("shard %d: broken back link at %q", i, b.topic)
			}
			if prev != nil && prev.lastWrite > b.lastWrite {
				t.Errorf("shard %d: %q written after %q but listed before it", i, prev.topic, b.topic)
			}
			if sh.topics[b.topic] != b {
				t.Errorf("shard %d: listed buffer %q is not in the map", i, b.topic)
			}
			if b.tail > b.head || b.head-b.tail > uint64(len(b.slots)) || len(b.slots) > s.cfg.BufferSize {
				t.Errorf("%q: tail %d head %d with %d slots", b.topic, b.tail, b.head, len(b.slots))
			}
			var sum int64
			for o := b.tail; o < b.head; o++ {
				sum += int64(len(b.slots[o&uint64(len(b.slots)-1)]))
			}
			if sum != b.bytes {
				t.Errorf("%q: bytes %d, slots hold %d", b.topic, b.bytes, sum)
			}
			total += b.bytes
			prev = b
		}
		if prev != sh.newest {
			t.Errorf("shard %d: newest is not the list's end", i)
		}
		if n != len(sh.topics) {
			t.Errorf("shard %d: %d listed buffers, %d in the map", i, n, len(sh.topics))
		}
		sh.mu.Unlock()
	}
	if got := s.total.Load(); got != total {
		t.Errorf("total %d, buffers hold %d", got, total)
	}
}
