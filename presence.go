package wse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wse-go/wse/cluster"

	"github.com/wse-go/wse/internal/topic"
	"github.com/wse-go/wse/internal/wsconn"
	"github.com/wse-go/wse/protocol"
)

// Member is one user present in a topic.
type Member struct {
	// Data is the user's most recent presence data.
	Data map[string]any `json:"data"`
	// Connections is how many of the user's connections are present.
	Connections int `json:"connections"`
}

// PresenceStats counts a topic's presence.
type PresenceStats struct {
	NumUsers       int `json:"num_users"`
	NumConnections int `json:"num_connections"`
}

// presenceShards is the number of presence registry shards.
const presenceShards = 32

// presenceRegistry tracks users per topic, sharded by topic.
type presenceRegistry struct {
	seed   maphash.Seed
	topics atomic.Int64 // topics with at least one member
	users  atomic.Int64 // members summed over topics
	shards [presenceShards]presenceShard
}

type presenceShard struct {
	// mu guards topics.
	mu     sync.Mutex
	topics map[string]*presenceTopic
}

type presenceTopic struct {
	users map[string]*presenceMember
	conns int // local and remote connections of all users
}

// presenceMember is one user in one topic: its local connections and, in a
// cluster, how many connections each other node reports for it.
type presenceMember struct {
	data   json.RawMessage
	ts     int64 // unix nanos of the data's last change, for last-write-wins
	conns  map[*conn]struct{}
	remote map[string]int // node id → connections on that node
}

// connections counts the member's local and remote connections.
func (m *presenceMember) connections() int {
	n := len(m.conns)
	for _, k := range m.remote {
		n += k
	}
	return n
}

// empty reports whether no node has a connection of the member any more.
func (m *presenceMember) empty() bool { return len(m.conns) == 0 && len(m.remote) == 0 }

func newPresenceRegistry() *presenceRegistry {
	p := &presenceRegistry{seed: maphash.MakeSeed()}
	for i := range p.shards {
		p.shards[i].topics = make(map[string]*presenceTopic)
	}
	return p
}

func (p *presenceRegistry) shard(topic string) *presenceShard {
	return &p.shards[maphash.String(p.seed, topic)%presenceShards]
}

// encodePresence validates and encodes presence data.
func (s *Server) encodePresence(data map[string]any) (json.RawMessage, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPresenceData, err)
	}
	if len(raw) > s.cfg.Presence.MaxDataSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrPresenceDataTooLarge, len(raw), s.cfg.Presence.MaxDataSize)
	}
	return raw, nil
}

// joinPresence tracks c's user in topics with data. A user's first
// connection in a topic emits presence_join. Topics at MaxMembers refuse new
// users; the error wraps ErrPresenceFull and the other topics still join.
func (s *Server) joinPresence(c *conn, topics []string, data map[string]any) error {
	raw, err := s.encodePresence(data)
	if err != nil {
		return err
	}
	var full []string
	user := c.user()
	for _, t := range topics {
		if topic.IsPattern(t) {
			continue // presence is kept per concrete topic only
		}
		c.mu.Lock()
		_, subscribed := c.topics[t]
		gone := c.gone
		c.mu.Unlock()
		if !subscribed || gone {
			continue
		}
		sh := s.presence.shard(t)
		sh.mu.Lock()
		pt := sh.topics[t]
		if pt == nil {
			pt = &presenceTopic{users: make(map[string]*presenceMember)}
		}
		m := pt.users[user]
		joined := m == nil
		if joined {
			if max := s.cfg.Presence.MaxMembers; max > 0 && len(pt.users) >= max {
				sh.mu.Unlock()
				full = append(full, t)
				continue
			}
			m = &presenceMember{conns: make(map[*conn]struct{})}
			if len(pt.users) == 0 {
				sh.topics[t] = pt
				s.presence.topics.Add(1)
			}
			pt.users[user] = m
			s.presence.users.Add(1)
		}
		m.data, m.ts = raw, time.Now().UnixNano()
		if _, ok := m.conns[c]; !ok {
			m.conns[c] = struct{}{}
			pt.conns++
		}
		local, ts := len(m.conns), m.ts
		sh.mu.Unlock()
		s.clusterPresence(cluster.PresenceJoin, t, user, raw, local, ts)
		c.mu.Lock()
		if c.presence == nil {
			c.presence = make(map[string]struct{})
		}
		c.presence[t] = struct{}{}
		c.mu.Unlock()
		if joined {
			s.announcePresence(EventPresenceJoin, "presence_join", t, user, raw)
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("%w: %v", ErrPresenceFull, full)
	}
	return nil
}

// leavePresence removes c from the presence of topics; the user's last
// connection leaving a topic emits presence_leave.
func (s *Server) leavePresence(c *conn, topics []string) {
	if !s.cfg.Presence.Enabled {
		return
	}
	user := c.user()
	for _, t := range topics {
		c.mu.Lock()
		_, had := c.presence[t]
		delete(c.presence, t)
		c.mu.Unlock()
		if !had {
			continue
		}
		s.removePresence(t, user, c)
	}
}

// removePresence removes one connection of user from topic t.
func (s *Server) removePresence(t, user string, c *conn) {
	sh := s.presence.shard(t)
	sh.mu.Lock()
	pt := sh.topics[t]
	var m *presenceMember
	if pt != nil {
		m = pt.users[user]
	}
	if m == nil {
		sh.mu.Unlock()
		return
	}
	if _, ok := m.conns[c]; !ok {
		sh.mu.Unlock()
		return
	}
	delete(m.conns, c)
	pt.conns--
	localGone := len(m.conns) == 0
	left := s.dropIfEmptyLocked(sh, pt, t, user, m)
	data := m.data
	sh.mu.Unlock()
	if localGone {
		s.clusterPresence(cluster.PresenceLeave, t, user, nil, 0, time.Now().UnixNano())
	}
	if left {
		s.announcePresence(EventPresenceLeave, "presence_leave", t, user, data)
	}
}

// dropIfEmptyLocked removes member m of user from topic t when no node has
// a connection of it any more, and reports whether it did. sh.mu is held.
func (s *Server) dropIfEmptyLocked(sh *presenceShard, pt *presenceTopic, t, user string, m *presenceMember) bool {
	if !m.empty() {
		return false
	}
	delete(pt.users, user)
	s.presence.users.Add(-1)
	if len(pt.users) == 0 {
		delete(sh.topics, t)
		s.presence.topics.Add(-1)
	}
	return true
}

// announcePresence emits the event (joins and leaves) and sends the presence
// message to every subscriber of the topic. Presence messages are never
// recovery-stamped.
func (s *Server) announcePresence(ev EventType, kind, t, user string, data json.RawMessage) {
	if ev != "" {
		s.in.push(Event{Type: ev, UserID: user, Presence: &PresenceChange{Topic: t, UserID: user, Data: data}})
	}
	frame := wsconn.BuildFrame(wsconn.OpText, protocol.Presence(kind, t, user, data))
	s.hub.each(t, func(c *conn) { _ = c.deliver(frame) })
}

// UpdatePresence replaces the presence data of the connection's user in
// every topic where the connection has presence, and sends presence_update
// to those topics' subscribers.
func (s *Server) UpdatePresence(connID string, data map[string]any) error {
	if !s.cfg.Presence.Enabled {
		return ErrPresenceDisabled
	}
	c, err := s.lookup(connID)
	if err != nil {
		return err
	}
	raw, err := s.encodePresence(data)
	if err != nil {
		return err
	}
	c.mu.Lock()
	topics := make([]string, 0, len(c.presence))
	for t := range c.presence {
		topics = append(topics, t)
	}
	c.mu.Unlock()
	if len(topics) == 0 {
		return fmt.Errorf("%w: %q", ErrNoPresence, connID)
	}
	user := c.user()
	for _, t := range topics {
		sh := s.presence.shard(t)
		sh.mu.Lock()
		var m *presenceMember
		if pt := sh.topics[t]; pt != nil {
			m = pt.users[user]
		}
		var ts int64
		if m != nil {
			m.data, m.ts = raw, time.Now().UnixNano()
			ts = m.ts
		}
		local := 0
		if m != nil {
			local = len(m.conns)
		}
		sh.mu.Unlock()
		if m != nil {
			s.clusterPresence(cluster.PresenceUpdate, t, user, raw, local, ts)
			s.announcePresence("", "presence_update", t, user, raw)
		}
	}
	return nil
}

// Presence returns the users present in topic. With a Broker that is a
// PresenceManager and no local subscriber of topic, it asks the broker.
func (s *Server) Presence(topic string) map[string]Member {
	if s.pm != nil && !s.follows(topic) {
		if m, ok := s.sharedPresence(topic); ok {
			return m
		}
	}
	out := make(map[string]Member)
	sh := s.presence.shard(topic)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if pt := sh.topics[topic]; pt != nil {
		for user, m := range pt.users {
			out[user] = Member{Data: decodeObject(m.data), Connections: m.connections()}
		}
	}
	return out
}

// PresenceStats returns the number of users and connections present in
// topic, in O(1); with a Broker and no local subscriber of topic, from
// the broker.
func (s *Server) PresenceStats(topic string) PresenceStats {
	if s.pm != nil && !s.follows(topic) {
		ctx, cancel := context.WithTimeout(context.Background(), brokerTimeout)
		st, err := s.pm.PresenceStats(ctx, topic)
		cancel()
		if err == nil {
			return st
		}
	}
	sh := s.presence.shard(topic)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if pt := sh.topics[topic]; pt != nil {
		return PresenceStats{NumUsers: len(pt.users), NumConnections: pt.conns}
	}
	return PresenceStats{}
}

// sweepPresence removes members whose connections are gone; it is a safety
// net behind the cleanup on close and returns how many entries it removed.
func (s *Server) sweepPresence() int {
	type stale struct {
		topic, user string
		c           *conn
	}
	var found []stale
	for i := range s.presence.shards {
		sh := &s.presence.shards[i]
		sh.mu.Lock()
		for t, pt := range sh.topics {
			for user, m := range pt.users {
				for c := range m.conns {
					if c.ws.Closed() {
						found = append(found, stale{t, user, c})
					}
				}
			}
		}
		sh.mu.Unlock()
	}
	for _, st := range found {
		st.c.mu.Lock()
		delete(st.c.presence, st.topic)
		st.c.mu.Unlock()
		s.removePresence(st.topic, st.user, st.c)
	}
	return len(found)
}

// presenceErrorCode maps a subscribe error to the protocol error code sent
// to a client.
func presenceErrorCode(err error) string {
	switch {
	case errors.Is(err, ErrPresenceDataTooLarge), errors.Is(err, ErrInvalidPresenceData):
		return protocol.CodeInvalidMessage
	case errors.Is(err, ErrPresenceFull), errors.Is(err, ErrSubscriptionLimit):
		return protocol.CodeLimit
	default:
		return protocol.CodeServerError
	}
}

// decodeObject decodes a JSON object, or returns an empty map.
func decodeObject(raw json.RawMessage) map[string]any {
	m := map[string]any{}
	_ = json.Unmarshal(raw, &m)
	return m
}
