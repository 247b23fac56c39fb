package wse

import (
	"hash/maphash"
	"sync"
)

// hubShards is the number of topic registry shards (a power of two).
const hubShards = 64

// hub maps topics to their local subscribers, sharded by topic hash so that
// subscribes to different topics do not contend and fan-out takes only a read
// lock on one shard.
type hub struct {
	seed   maphash.Seed
	shards [hubShards]hubShard
}

type hubShard struct {
	// mu guards topics.
	mu     sync.RWMutex
	topics map[string]*subscribers
}

// subscribers is a topic's subscriber list: a slice for fast iteration and an
// index for O(1) removal.
type subscribers struct {
	list []*conn
	idx  map[*conn]int
}

func newHub() *hub {
	h := &hub{seed: maphash.MakeSeed()}
	for i := range h.shards {
		h.shards[i].topics = make(map[string]*subscribers)
	}
	return h
}

func (h *hub) shard(topic string) *hubShard {
	return &h.shards[maphash.String(h.seed, topic)&(hubShards-1)]
}

// add subscribes c to topic; it reports whether c is the topic's first
// subscriber.
func (h *hub) add(topic string, c *conn) bool {
	s := h.shard(topic)
	s.mu.Lock()
	defer s.mu.Unlock()
	subs := s.topics[topic]
	if subs == nil {
		subs = &subscribers{idx: make(map[*conn]int)}
		s.topics[topic] = subs
	}
	if _, ok := subs.idx[c]; ok {
		return false
	}
	subs.idx[c] = len(subs.list)
	subs.list = append(subs.list, c)
	return len(subs.list) == 1
}

// remove unsubscribes c from topic; it reports whether c was the topic's
// last subscriber.
func (h *hub) remove(topic string, c *conn) bool {
	s := h.shard(topic)
	s.mu.Lock()
	defer s.mu.Unlock()
	subs := s.topics[topic]
	if subs == nil {
		return false
	}
	i, ok := subs.idx[c]
	if !ok {
		return false
	}
	last := len(subs.list) - 1
	moved := subs.list[last]
	subs.list[i] = moved
	subs.idx[moved] = i
	subs.list[last] = nil
	subs.list = subs.list[:last]
	delete(subs.idx, c)
	if len(subs.list) == 0 {
		delete(s.topics, topic)
		return true
	}
	return false
}

// count returns the number of subscribers of topic.
func (h *hub) count(topic string) int {
	s := h.shard(topic)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if subs := s.topics[topic]; subs != nil {
		return len(subs.list)
	}
	return 0
}

// each calls f for every subscriber of topic under the shard's read lock; f
// must not block or subscribe.
func (h *hub) each(topic string, f func(*conn)) int {
	s := h.shard(topic)
	s.mu.RLock()
	defer s.mu.RUnlock()
	subs := s.topics[topic]
	if subs == nil {
		return 0
	}
	for _, c := range subs.list {
		f(c)
	}
	return len(subs.list)
}

// topicCount returns the number of topics with at least one subscriber.
func (h *hub) topicCount() int {
	n := 0
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		n += len(s.topics)
		s.mu.RUnlock()
	}
	return n
}

// topicNames returns the topics with at least one subscriber.
func (h *hub) topicNames() []string {
	var out []string
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		for t := range s.topics {
			out = append(out, t)
		}
		s.mu.RUnlock()
	}
	return out
}
