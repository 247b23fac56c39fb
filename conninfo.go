package wse

import (
	"cmp"
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
	cs := s.conns.snapshot()
	slices.SortFunc(cs, func(a, b *conn) int { return cmp.Compare(b.id, a.id) })
	if limit > 0 && len(cs) > limit {
		cs = cs[:limit]
	}
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
