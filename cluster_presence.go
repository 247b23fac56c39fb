package wse

import (
	"encoding/json"

	"github.com/wse-go/wse/cluster"
)

// clusterPresence tells the peers about a local presence change: the
// user's local connection count in the topic, and its data.
func (s *Server) clusterPresence(kind uint8, topic, user string, data json.RawMessage, conns int, ts int64) {
	if s.pm != nil {
		s.brokerPresence(kind, topic, user, cluster.Presence{Data: data, Conns: conns, TS: ts})
		return
	}
	node := s.clusterNode()
	if node == nil {
		return
	}
	node.SendPresence(cluster.Presence{Kind: kind, Topic: topic, UserID: user, Data: data, Conns: conns, TS: ts})
}

// applyRemotePresence merges one presence change of node from into the
// registry. A user that appears (on any node) emits presence_join to local
// subscribers, one that disappears emits presence_leave; data changes follow
// last-write-wins by origin timestamp.
func (s *Server) applyRemotePresence(from string, p cluster.Presence) {
	if !s.cfg.Presence.Enabled {
		return
	}
	sh := s.presence.shard(p.Topic)
	sh.mu.Lock()
	pt := sh.topics[p.Topic]
	var m *presenceMember
	if pt != nil {
		m = pt.users[p.UserID]
	}
	remove := p.Kind == cluster.PresenceLeave || p.Conns <= 0
	if remove {
		if m == nil || m.remote[from] == 0 {
			sh.mu.Unlock()
			return
		}
		pt.conns -= m.remote[from]
		delete(m.remote, from)
		left := s.dropIfEmptyLocked(sh, pt, p.Topic, p.UserID, m)
		data := m.data
		sh.mu.Unlock()
		if left {
			s.announcePresence(EventPresenceLeave, "presence_leave", p.Topic, p.UserID, data)
		}
		return
	}
	if pt == nil {
		pt = &presenceTopic{users: make(map[string]*presenceMember)}
	}
	joined := m == nil
	if joined {
		m = &presenceMember{conns: make(map[*conn]struct{})}
		if len(pt.users) == 0 {
			sh.topics[p.Topic] = pt
			s.presence.topics.Add(1)
		}
		pt.users[p.UserID] = m
		s.presence.users.Add(1)
	}
	if m.remote == nil {
		m.remote = make(map[string]int)
	}
	pt.conns += p.Conns - m.remote[from]
	m.remote[from] = p.Conns
	changed := false
	if p.TS >= m.ts && len(p.Data) > 0 {
		changed = string(m.data) != string(p.Data)
		m.data, m.ts = append(json.RawMessage(nil), p.Data...), p.TS
	}
	data := m.data
	sh.mu.Unlock()
	switch {
	case joined:
		s.announcePresence(EventPresenceJoin, "presence_join", p.Topic, p.UserID, data)
	case changed && p.Kind == cluster.PresenceUpdate:
		s.announcePresence("", "presence_update", p.Topic, p.UserID, data)
	}
}

// replaceRemotePresence makes the registry hold exactly state for node from:
// entries of from that state lacks leave, the others are applied.
func (s *Server) replaceRemotePresence(from string, state []cluster.Presence) {
	keep := make(map[[2]string]bool, len(state))
	for _, p := range state {
		keep[[2]string{p.Topic, p.UserID}] = true
	}
	s.dropRemotePresence(from, keep)
	for _, p := range state {
		p.Kind = cluster.PresenceJoin
		s.applyRemotePresence(from, p)
	}
}

// dropRemotePresence removes node from's connections from every member not
// in keep (nil: from every member), emitting leaves for users that vanish.
func (s *Server) dropRemotePresence(from string, keep map[[2]string]bool) {
	var gone []cluster.Presence
	for i := range s.presence.shards {
		sh := &s.presence.shards[i]
		sh.mu.Lock()
		for t, pt := range sh.topics {
			for user, m := range pt.users {
				if m.remote[from] != 0 && !keep[[2]string{t, user}] {
					gone = append(gone, cluster.Presence{Kind: cluster.PresenceLeave, Topic: t, UserID: user})
				}
			}
		}
		sh.mu.Unlock()
	}
	for _, p := range gone {
		s.applyRemotePresence(from, p)
	}
}

// localPresence lists this node's members (users with local connections)
// for a peer's full sync.
func (s *Server) localPresence() []cluster.Presence {
	var out []cluster.Presence
	for i := range s.presence.shards {
		sh := &s.presence.shards[i]
		sh.mu.Lock()
		for t, pt := range sh.topics {
			for user, m := range pt.users {
				if len(m.conns) > 0 {
					out = append(out, cluster.Presence{Kind: cluster.PresenceJoin, Topic: t, UserID: user,
						Data: m.data, Conns: len(m.conns), TS: m.ts})
				}
			}
		}
		sh.mu.Unlock()
	}
	return out
}
