package wse

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/wse-go/wse/cluster"
	"github.com/wse-go/wse/internal/ring"
	"github.com/wse-go/wse/internal/wsconn"
	"github.com/wse-go/wse/protocol"
)

// Bounds of the engine's broker calls.
const (
	// brokerTimeout bounds one publish, subscribe or history call.
	brokerTimeout = 2 * time.Second
	// recoverCatchUp bounds the wait for this node's copy of a stream to
	// reach a position another node already delivered.
	recoverCatchUp = time.Second
)

// brokerCounters are the engine's own broker counters (the broker keeps
// its connection counters itself).
type brokerCounters struct {
	// gaps counts holes in a topic's stream seen on receipt; gapsFilled
	// those closed from the stream's history, the rest reach clients as an
	// offset jump they recover from.
	gaps       atomic.Uint64
	gapsFilled atomic.Uint64
	// fallbacks counts publications delivered to local subscribers only,
	// unstamped, because the broker refused them.
	fallbacks atomic.Uint64
	// subscribeErrors counts interest changes the broker refused (they are
	// retried by the broker when it is back).
	subscribeErrors atomic.Uint64
}

// newNodeID returns a random node name for the broker.
func newNodeID() string {
	var b [8]byte
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return hex.EncodeToString(b[:])
}

// setBroker adopts cfg.Broker: its history and presence when it has them.
// A broker and the mesh are exclusive.
func (s *Server) setBroker(b Broker) {
	if b == nil {
		return
	}
	s.broker = b
	s.nodeID = newNodeID()
	if h, ok := b.(HistoryBroker); ok {
		s.hist = h
	}
	if pm, ok := b.(PresenceManager); ok && s.cfg.Presence.Enabled {
		s.pm = pm
	}
}

// startBroker connects the broker; the server does not start without it.
func (s *Server) startBroker() error {
	if s.broker == nil {
		return nil
	}
	if err := s.broker.Start(s.nodeID, (*brokerHandler)(s)); err != nil {
		return fmt.Errorf("wse: start broker: %w", err)
	}
	if s.pm != nil {
		s.goTracked(s.syncPresenceLoop)
	}
	return nil
}

// NodeID returns the name this node has on its broker ("" without one).
func (s *Server) NodeID() string { return s.nodeID }

// BrokerStatus reports the broker's state; ok is false without a broker.
func (s *Server) BrokerStatus() (st BrokerStatus, ok bool) {
	if s.broker == nil {
		return BrokerStatus{}, false
	}
	return s.broker.Status(), true
}

// publishBroker is Broadcast through the broker. With shared history the
// publication is appended to the topic's stream and delivered here by the
// broker like on every other node, so all nodes stamp the same position;
// without, it is delivered here at once and sent to the other nodes. When
// the broker fails, local subscribers still get it (unstamped with shared
// history: the stream never had it) and the error reaches the publisher.
func (s *Server) publishBroker(topicName string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), brokerTimeout)
	defer cancel()
	if s.hist == nil {
		n := s.publishLocal(topicName, body, allGroups)
		if _, err := s.broker.Publish(ctx, topicName, body, PublishOptions{}); err != nil {
			return n, fmt.Errorf("%w: publish %q: %w", ErrBroker, topicName, err)
		}
		return n, nil
	}
	s.stats.published.Add(1)
	opts := PublishOptions{History: s.ring != nil && isJSONObject(body)}
	if _, err := s.broker.Publish(ctx, topicName, body, opts); err != nil {
		s.brokerStats.fallbacks.Add(1)
		tagged, _ := protocol.TagTopic(body, topicName)
		n := s.fanout(topicName, wsconn.BuildFrame(wsconn.OpText, tagged), allGroups)
		return n, fmt.Errorf("%w: publish %q: %w", ErrBroker, topicName, err)
	}
	return s.hub.count(topicName), nil
}

// brokerInterest tells the broker about a change of this node's interest
// in topic. The caller holds interestMu.
func (s *Server) brokerInterest(topic string, on bool) {
	ctx, cancel := context.WithTimeout(context.Background(), brokerTimeout)
	defer cancel()
	var err error
	if on {
		err = s.broker.Subscribe(ctx, topic)
	} else {
		err = s.broker.Unsubscribe(ctx, topic)
	}
	if err != nil {
		s.brokerStats.subscribeErrors.Add(1)
		s.cfg.Logger.Warn("wse: broker interest", "topic", topic, "on", on, "error", err)
	}
}

// holdInterest makes the broker send topic's publications to this node
// before a recovering subscription reads the stream, so that nothing
// published meanwhile falls between the read and live delivery; the pin
// keeps the interest even if the topic's other subscribers leave
// meanwhile. The returned func releases the pin.
func (s *Server) holdInterest(topic string) (release func()) {
	s.interestMu.Lock()
	s.pins[topic]++
	s.interestMu.Unlock()
	s.interestChanged(topic)
	return func() {
		s.interestMu.Lock()
		if s.pins[topic]--; s.pins[topic] <= 0 {
			delete(s.pins, topic)
		}
		s.interestMu.Unlock()
		s.interestChanged(topic)
	}
}

// interestTopics returns the topics this node has told the broker about.
func (s *Server) interestTopics() []string {
	s.interestMu.Lock()
	defer s.interestMu.Unlock()
	out := make([]string, 0, len(s.interest))
	for t := range s.interest {
		out = append(out, t)
	}
	return out
}

// appendMirror stores pub in this node's copy of the topic's stream and,
// when it is the next message, fans it out stamped with its shared
// position, under the topic's recovery lock like a local publication.
func (s *Server) appendMirror(topic string, pub Publication, jump bool) (ring.MirrorResult, uint64) {
	return s.ring.AppendAt(topic, pub.Epoch, pub.Offset, jump, func() []byte {
		stamped, _ := protocol.Stamp(pub.Body, topic, pub.Epoch, pub.Offset)
		frame := wsconn.BuildFrame(wsconn.OpText, stamped)
		s.fanout(topic, frame, allGroups)
		return frame
	})
}

// deliverMirrored delivers a stream publication. A hole before it (the
// broker connection dropped, or a message was lost in transit) is filled
// from the stream's history when it is short enough; otherwise subscribers
// see the offset jump and recover.
func (s *Server) deliverMirrored(topic string, pub Publication) {
	res, last := s.appendMirror(topic, pub, false)
	if res != ring.MirrorGap {
		return
	}
	s.brokerStats.gaps.Add(1)
	if missing := pub.Offset - last - 1; missing <= uint64(s.cfg.Recovery.MaxMessages) {
		ctx, cancel := context.WithTimeout(context.Background(), brokerTimeout)
		hr, err := s.hist.History(ctx, topic, last, int(missing))
		cancel()
		if err == nil && hr.Position.Epoch == pub.Epoch {
			for _, p := range hr.Publications {
				if p.Offset >= pub.Offset {
					break
				}
				if r, _ := s.appendMirror(topic, p, false); r == ring.MirrorGap {
					break
				}
			}
		}
	}
	if r, _ := s.appendMirror(topic, pub, false); r == ring.MirrorGap {
		s.appendMirror(topic, pub, true)
		return
	}
	s.brokerStats.gapsFilled.Add(1)
}

// catchUp runs after the broker connection came back: each topic's copy is
// brought up to its stream, or dropped when the stream was lost (a new
// epoch), so clients learn of the gap. Without shared history the local
// buffers are dropped: what other nodes published meanwhile is lost, and
// the next message's new epoch tells clients so.
func (s *Server) catchUp() {
	if s.ring == nil {
		return
	}
	for _, t := range s.interestTopics() {
		if s.hist == nil {
			s.ring.Drop(t)
			continue
		}
		epoch, last, ok := s.ring.Position(t)
		if !ok {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), brokerTimeout)
		hr, err := s.hist.History(ctx, t, last, s.cfg.Recovery.MaxMessages)
		cancel()
		switch {
		case err != nil:
			continue
		case hr.Position.Epoch != epoch:
			s.ring.Drop(t)
			continue
		}
		for _, p := range hr.Publications {
			s.deliverMirrored(t, Publication{Epoch: hr.Position.Epoch, Offset: p.Offset, Body: p.Body})
		}
	}
}

// recoverShared is recoverTopic with a shared stream: the replay comes from
// this node's copy when it holds the client's position, else from the
// stream itself, joined to the copy under the topic's recovery lock so that
// the replay is queued before any later live message, without gap or
// duplicate. pos nil subscribes and reports the stream's position.
func (s *Server) recoverShared(c *conn, t string, pos *Position) (RecoveryResult, error) {
	defer s.holdInterest(t)()
	if pos == nil {
		if _, _, ok := s.ring.Position(t); ok {
			return s.subscribeAtCopy(c, t, false)
		}
	} else {
		if res, done, err := s.recoverFromCopy(c, t, *pos); done {
			return res, err
		}
	}
	deadline := time.Now().Add(recoverCatchUp)
	for {
		res, retry, err := s.recoverFromStream(c, t, pos)
		if !retry || time.Now().After(deadline) {
			if retry {
				return s.subscribeAtCopy(c, t, pos != nil)
			}
			return res, err
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// recoverFromCopy replays from this node's copy of the stream when it
// holds everything after pos; done is false when the stream is needed.
func (s *Server) recoverFromCopy(c *conn, t string, pos Position) (RecoveryResult, bool, error) {
	epoch, last, ok := s.ring.Position(t)
	if !ok || pos.Offset == 0 || epoch != pos.Epoch || pos.Offset > last {
		return RecoveryResult{}, false, nil
	}
	var out RecoveryResult
	var addErr error
	done := false
	s.ring.RecoverWithResult(t, pos.Epoch, pos.Offset, func(r ring.RecoverResult) {
		if !r.Recovered {
			return
		}
		done = true
		if addErr = s.addTopic(c, t); addErr != nil {
			return
		}
		for _, frame := range r.Msgs {
			_ = c.deliver(frame)
		}
		out = RecoveryResult{Epoch: r.Epoch, Offset: r.Offset, Recovered: true, Count: len(r.Msgs)}
	})
	if done && addErr == nil {
		s.countRecovery(out)
	}
	return out, done, addErr
}

// recoverFromStream reads the stream after pos and joins it to this node's
// copy. retry is true when the copy is behind (or in another epoch than)
// the stream read: messages are still in flight to this node.
func (s *Server) recoverFromStream(c *conn, t string, pos *Position) (RecoveryResult, bool, error) {
	since, limit := uint64(0), 0
	if pos != nil {
		since, limit = pos.Offset, s.cfg.Recovery.MaxMessages+1
	}
	ctx, cancel := context.WithTimeout(context.Background(), brokerTimeout)
	hr, err := s.hist.History(ctx, t, since, limit)
	cancel()
	if err != nil {
		s.cfg.Logger.Warn("wse: broker history", "topic", t, "error", err)
		res, err := s.subscribeAtCopy(c, t, pos != nil)
		return res, false, err
	}
	top := hr.Position
	s.ring.Seed(t, top.Epoch, top.Offset)
	replay := pos != nil && fullReplay(hr, *pos, s.cfg.Recovery.MaxMessages)
	var out RecoveryResult
	var addErr error
	retry := false
	s.ring.RecoverWithResult(t, top.Epoch, top.Offset, func(r ring.RecoverResult) {
		if !r.Recovered && top.Epoch != "" {
			retry = true
			return
		}
		if addErr = s.addTopic(c, t); addErr != nil {
			return
		}
		out = RecoveryResult{Epoch: r.Epoch, Offset: r.Offset}
		if !replay {
			return
		}
		for _, p := range hr.Publications {
			stamped, _ := protocol.Stamp(p.Body, t, top.Epoch, p.Offset)
			_ = c.deliver(wsconn.BuildFrame(wsconn.OpText, stamped))
		}
		for _, frame := range r.Msgs {
			_ = c.deliver(frame)
		}
		out.Recovered, out.Count = true, len(hr.Publications)+len(r.Msgs)
	})
	if pos != nil && !retry && addErr == nil {
		s.countRecovery(out)
	}
	return out, retry, addErr
}

// subscribeAtCopy subscribes c to t without a replay and reports this
// node's current position of t: nothing is recovered. count adds it to the
// recovery counters (the client asked for a replay).
func (s *Server) subscribeAtCopy(c *conn, t string, count bool) (RecoveryResult, error) {
	var out RecoveryResult
	var addErr error
	s.ring.RecoverWithResult(t, "", 0, func(r ring.RecoverResult) {
		addErr = s.addTopic(c, t)
		out = RecoveryResult{Epoch: r.Epoch, Offset: r.Offset}
	})
	if addErr == nil && count {
		s.stats.recoveries.Add(1)
	}
	return out, addErr
}

// fullReplay reports whether hr holds every message after pos, at most max.
func fullReplay(hr HistoryResult, pos Position, max int) bool {
	top := hr.Position
	if pos.Offset > 0 && pos.Epoch != top.Epoch || pos.Offset > top.Offset {
		return false
	}
	missing := top.Offset - pos.Offset
	if missing == 0 {
		return true
	}
	if missing > uint64(max) || uint64(len(hr.Publications)) != missing {
		return false
	}
	return hr.Publications[0].Offset == pos.Offset+1
}

// countRecovery adds a recovering subscription's outcome to the counters.
func (s *Server) countRecovery(res RecoveryResult) {
	s.stats.recoveries.Add(1)
	if res.Recovered {
		s.stats.recovered.Add(1)
		s.stats.replayed.Add(uint64(res.Count))
	}
}

// brokerPresence writes a local presence change to the shared presence.
func (s *Server) brokerPresence(kind uint8, topic, user string, p cluster.Presence) {
	if kind == cluster.PresenceLeave || p.Conns <= 0 {
		s.pm.RemovePresence(topic, user)
		return
	}
	s.pm.SetPresence(topic, PresenceEntry{Node: s.nodeID, User: user, Conns: p.Conns, Data: p.Data, TS: p.TS})
}

// syncPresenceLoop re-reads the shared presence of every topic this node
// has interest in, every Presence.SyncInterval: members of nodes that
// stopped refreshing them (crashed) leave, missed changes are applied.
func (s *Server) syncPresenceLoop() {
	t := time.NewTicker(s.cfg.Presence.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			followed := make(map[string]bool)
			for _, topic := range s.interestTopics() {
				followed[topic] = true
				ctx, cancel := context.WithTimeout(context.Background(), brokerTimeout)
				entries, err := s.pm.Presence(ctx, topic)
				cancel()
				if err == nil {
					s.replaceTopicPresence(topic, entries)
				}
			}
			s.dropUnfollowedPresence(followed)
		}
	}
}

// follows reports whether this node has interest in topic.
func (s *Server) follows(topic string) bool {
	s.interestMu.Lock()
	defer s.interestMu.Unlock()
	return s.interest[topic]
}

// sharedPresence aggregates the broker's presence of topic per user: the
// connections of every node, the data written last.
func (s *Server) sharedPresence(topic string) (map[string]Member, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), brokerTimeout)
	entries, err := s.pm.Presence(ctx, topic)
	cancel()
	if err != nil {
		return nil, false
	}
	type acc struct {
		conns int
		ts    int64
		data  json.RawMessage
	}
	users := make(map[string]*acc, len(entries))
	for _, e := range entries {
		a := users[e.User]
		if a == nil {
			a = &acc{ts: e.TS, data: e.Data}
			users[e.User] = a
		}
		a.conns += e.Conns
		if e.TS > a.ts {
			a.ts, a.data = e.TS, e.Data
		}
	}
	out := make(map[string]Member, len(users))
	for u, a := range users {
		out[u] = Member{Data: decodeObject(a.data), Connections: a.conns}
	}
	return out, true
}

// dropUnfollowedPresence forgets, without events, the other nodes'
// members of topics this node no longer follows: nothing refreshes them.
// followed is what the caller just synced; a topic outside it is checked
// again before it is dropped (it may have gained a subscriber meanwhile).
func (s *Server) dropUnfollowedPresence(followed map[string]bool) {
	var stale []string
	for i := range s.presence.shards {
		sh := &s.presence.shards[i]
		sh.mu.Lock()
		for t, pt := range sh.topics {
			if !followed[t] && len(pt.users) > 0 {
				stale = append(stale, t)
			}
		}
		sh.mu.Unlock()
	}
	for _, t := range stale {
		if s.follows(t) {
			continue
		}
		sh := s.presence.shard(t)
		sh.mu.Lock()
		if pt := sh.topics[t]; pt != nil {
			for user, m := range pt.users {
				for _, n := range m.remote {
					pt.conns -= n
				}
				m.remote = nil
				s.dropIfEmptyLocked(sh, pt, t, user, m)
			}
		}
		sh.mu.Unlock()
	}
}

// replaceTopicPresence makes the other nodes' members of topic exactly
// entries (this node's own entries are skipped).
func (s *Server) replaceTopicPresence(topic string, entries []PresenceEntry) {
	keep := make(map[[2]string]bool, len(entries))
	for _, e := range entries {
		keep[[2]string{e.Node, e.User}] = true
	}
	var gone [][2]string
	sh := s.presence.shard(topic)
	sh.mu.Lock()
	if pt := sh.topics[topic]; pt != nil {
		for user, m := range pt.users {
			for node := range m.remote {
				if !keep[[2]string{node, user}] {
					gone = append(gone, [2]string{node, user})
				}
			}
		}
	}
	sh.mu.Unlock()
	for _, g := range gone {
		s.applyRemotePresence(g[0], cluster.Presence{Kind: cluster.PresenceLeave, Topic: topic, UserID: g[1]})
	}
	for _, e := range entries {
		if e.Node != s.nodeID {
			s.applyRemotePresence(e.Node, cluster.Presence{Kind: cluster.PresenceJoin, Topic: topic, UserID: e.User,
				Data: e.Data, Conns: e.Conns, TS: e.TS})
		}
	}
}

// brokerHandler receives the broker's inbound traffic.
type brokerHandler Server

var _ BrokerHandler = (*brokerHandler)(nil)

// HandlePublication delivers a publication from the broker: positioned
// ones through this node's copy of the stream, the others as they are
// (stamped locally without shared history, like a mesh peer's).
func (h *brokerHandler) HandlePublication(topic string, pub Publication) {
	s := (*Server)(h)
	switch {
	case s.hist == nil:
		s.publishLocal(topic, pub.Body, allGroups)
	case pub.Offset == 0 || s.ring == nil:
		tagged, _ := protocol.TagTopic(pub.Body, topic)
		s.fanout(topic, wsconn.BuildFrame(wsconn.OpText, tagged), allGroups)
	default:
		s.deliverMirrored(topic, pub)
	}
}

// HandlePresence merges another node's presence change.
func (h *brokerHandler) HandlePresence(topic string, e PresenceEntry, leave bool) {
	s := (*Server)(h)
	if e.Node == s.nodeID || s.pm == nil {
		return
	}
	kind := cluster.PresenceUpdate
	if leave {
		kind = cluster.PresenceLeave
	}
	s.applyRemotePresence(e.Node, cluster.Presence{Kind: kind, Topic: topic, UserID: e.User, Data: e.Data, Conns: e.Conns, TS: e.TS})
}

// HandleReconnect catches up on what was published while the broker
// connection was down.
func (h *brokerHandler) HandleReconnect() { (*Server)(h).catchUp() }
