package wse

import (
	"errors"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wse-go/wse/internal/e2e"
	"github.com/wse-go/wse/internal/topic"
	"github.com/wse-go/wse/internal/wsconn"
	"github.com/wse-go/wse/protocol"
)

// conn is the engine's state for one registered WebSocket connection.
type conn struct {
	id      string
	userID  string // JWT sub; empty without auth
	msgpack bool   // format=msgpack
	srv     *Server
	ws      *wsconn.Conn

	// e2e is the connection's end-to-end encryption session, set once by
	// client_hello (PROTOCOL §5); nil = plaintext.
	e2e atomic.Pointer[e2e.Session]

	// overSince is the unix-nano time the outbound queue was first seen over
	// its limit (0 = under it).
	overSince atomic.Int64

	// mu guards topics, queueGroups, presence, acl and gone.
	mu          sync.Mutex
	topics      map[string]struct{}
	queueGroups map[queueKey]struct{} // queue group memberships
	presence    map[string]struct{}   // topics where the connection has presence
	acl         *topic.ACL            // explicit rules: JWT wse_topics claim and SetTopicACL
	gone        bool                  // set once the connection is closed and cleaned up

	// Rate limiter state: only the connection's poller goroutine touches it.
	tokens    float64
	refilled  int64 // unix nanos
	lastWarn  int64
	lastLimit int64
}

// user returns the identity used for presence: the JWT sub, else the
// connection id.
func (c *conn) user() string {
	if c.userID != "" {
		return c.userID
	}
	return c.id
}

// deliver enqueues a pre-built message frame: as is, or, on an encrypted
// connection, its payload sealed into a binary "E:" frame (PROTOCOL §5).
// Pings, PONGs, errors and server_hello use send and stay in plaintext.
func (c *conn) deliver(frame []byte) error {
	if s := c.e2e.Load(); s != nil {
		payload := wsconn.FramePayload(frame)
		n := len(payload) + e2e.Overhead
		frame = s.Seal(wsconn.AppendHeader(make([]byte, 0, wsconn.FrameSize(n)), wsconn.OpBinary, n), payload)
	}
	return c.send(frame)
}

// send enqueues a pre-built frame; a full queue drops it and counts.
func (c *conn) send(frame []byte) error {
	err := c.ws.Enqueue(frame)
	switch {
	case err == nil:
		c.srv.stats.framesOut.Add(1)
		return nil
	case errors.Is(err, wsconn.ErrTotalQueueFull):
		// The process is over its output budget and this connection is
		// among the backed-up ones: cut it now, so that it reconnects and
		// recovers instead of missing messages while it stays open.
		c.srv.stats.slowConsumerDrops.Add(1)
		if c.ws.Closed() {
			return ErrQueueFull
		}
		c.srv.stats.slowConsumerCloses.Add(1)
		c.srv.refuse(refusalOutputBudget)
		c.ws.CloseNow(protocol.CloseSlowConsumer, "slow consumer")
		return ErrQueueFull
	case errors.Is(err, wsconn.ErrQueueFull):
		c.srv.stats.slowConsumerDrops.Add(1)
		c.overSince.CompareAndSwap(0, time.Now().UnixNano())
		return ErrQueueFull
	default:
		return ErrUnknownConnection
	}
}

// allow takes one token from the inbound rate limiter. It returns whether
// the message may pass, and whether the bucket is below 20%.
func (c *conn) allow(now int64, capacity, refill float64) (ok, low bool) {
	if capacity <= 0 {
		return true, false
	}
	if c.refilled == 0 {
		c.tokens = capacity
	} else {
		c.tokens = min(capacity, c.tokens+float64(now-c.refilled)/float64(time.Second)*refill)
	}
	c.refilled = now
	if c.tokens < 1 {
		return false, true
	}
	c.tokens--
	return true, c.tokens < capacity*0.2
}

// registryShards is the number of connection registry shards.
const registryShards = 32

// registry holds the open connections by id, sharded to spread contention.
type registry struct {
	seed   maphash.Seed
	count  atomic.Int64
	shards [registryShards]registryShard
}

type registryShard struct {
	// mu guards conns.
	mu    sync.RWMutex
	conns map[string]*conn
}

func newRegistry() *registry {
	r := &registry{seed: maphash.MakeSeed()}
	for i := range r.shards {
		r.shards[i].conns = make(map[string]*conn)
	}
	return r
}

func (r *registry) shard(id string) *registryShard {
	return &r.shards[maphash.String(r.seed, id)%registryShards]
}

// add queues first to c and makes c visible, under the shard lock: a
// concurrent BroadcastAll either misses c or finds first already queued.
func (r *registry) add(c *conn, first []byte) {
	s := r.shard(c.id)
	// Counted before server_ready is queued: a client that has read it must
	// find itself in ConnectionCount.
	r.count.Add(1)
	s.mu.Lock()
	_ = c.send(first)
	s.conns[c.id] = c
	s.mu.Unlock()
}

// remove deletes id and reports whether it was present.
func (r *registry) remove(id string) bool {
	s := r.shard(id)
	s.mu.Lock()
	_, ok := s.conns[id]
	delete(s.conns, id)
	s.mu.Unlock()
	if ok {
		r.count.Add(-1)
	}
	return ok
}

func (r *registry) get(id string) *conn {
	s := r.shard(id)
	s.mu.RLock()
	c := s.conns[id]
	s.mu.RUnlock()
	return c
}

// each calls f for every connection, one shard at a time under its read
// lock; f must not block.
func (r *registry) each(f func(*conn)) {
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.RLock()
		for _, c := range s.conns {
			f(c)
		}
		s.mu.RUnlock()
	}
}

// snapshot returns the open connections.
func (r *registry) snapshot() []*conn {
	out := make([]*conn, 0, r.count.Load())
	r.each(func(c *conn) { out = append(out, c) })
	return out
}
