package wse

import (
	"cmp"
	"container/heap"
	"slices"
	"time"
)

// ConnectionInfo describes one open connection, for dashboards and the
// control API.
type ConnectionInfo struct {
	// ID is the connection id (a UUIDv7: it sorts by connection time).
	ID string `json:"id"`
	// UserID is the JWT subject ("" without authentication).
	UserID string `json:"user_id"`
	// RemoteAddr is the peer address.
	RemoteAddr string `json:"remote_addr"`
	// Topics are the subscribed topics, sorted.
	Topics []string `json:"topics"`
	// Encrypted reports negotiated end-to-end encryption; MsgPack the
	// format=msgpack wire format.
	Encrypted bool `json:"encrypted"`
	MsgPack   bool `json:"msgpack"`
	// QueuedBytes is the output waiting to be written.
	QueuedBytes int `json:"queued_bytes"`
	// LastActivity is when the connection last completed a frame.
	LastActivity time.Time `json:"last_activity"`
}

// ConnectionInfos returns the details of up to limit open connections, the
// most recent first (limit <= 0: all). It copies each connection's topics
// under its lock, one connection at a time.
func (s *Server) ConnectionInfos(limit int) []ConnectionInfo {
	cs := newestConns(s.conns.snapshot(), limit)
	out := make([]ConnectionInfo, 0, len(cs))
	for _, c := range cs {
		info := ConnectionInfo{
			ID:           c.id,
			UserID:       c.userID,
			RemoteAddr:   c.ws.RemoteAddr(),
			Encrypted:    c.e2e.Load() != nil,
			MsgPack:      c.msgpack,
			QueuedBytes:  c.ws.QueuedBytes(),
			LastActivity: time.Unix(0, c.ws.LastActivity()).UTC(),
		}
		c.mu.Lock()
		info.Topics = make([]string, 0, len(c.topics))
		for t := range c.topics {
			info.Topics = append(info.Topics, t)
		}
		c.mu.Unlock()
		slices.Sort(info.Topics)
		out = append(out, info)
	}
	return out
}

// newestConns returns the limit connections with the greatest ids (the
// most recent), newest first (limit <= 0: all). It keeps a min-heap of the
// best limit seen, so a dashboard listing 200 of 100,000 connections costs
// O(n log limit) instead of a full sort.
func newestConns(cs []*conn, limit int) []*conn {
	byNewest := func(a, b *conn) int { return cmp.Compare(b.id, a.id) }
	if limit <= 0 || len(cs) <= limit {
		slices.SortFunc(cs, byNewest)
		return cs
	}
	h := connHeap(slices.Clone(cs[:limit]))
	heap.Init(&h)
	for _, c := range cs[limit:] {
		if c.id > h[0].id {
			h[0] = c
			heap.Fix(&h, 0)
		}
	}
	slices.SortFunc(h, byNewest)
	return h
}

// connHeap is a min-heap of connections by id.
type connHeap []*conn

func (h connHeap) Len() int           { return len(h) }
func (h connHeap) Less(i, j int) bool { return h[i].id < h[j].id }
func (h connHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }

// Push and Pop satisfy heap.Interface; newestConns never grows the heap.
func (h *connHeap) Push(x any) { *h = append(*h, x.(*conn)) }
func (h *connHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
