package wse

import (
	"container/heap"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/wse-go/wse/internal/topic"
)

// hubShards is the number of topic registry shards (a power of two).
const hubShards = 64

// hub maps subscriptions (topics and patterns) to their local subscribers,
// sharded by hash so that subscribes to different topics do not contend and
// fan-out takes only a read lock on one shard. Patterns with at least one
// subscriber are also in an index, so that a publication finds the patterns
// that match it without looking at the others; with no pattern subscribed
// a publication costs one atomic load more than an exact-only hub.
//
// Lock order: a shard's mu, then pmu.
type hub struct {
	seed   maphash.Seed
	shards [hubShards]hubShard

	// pmu guards patterns.
	pmu      sync.RWMutex
	patterns topic.Patterns
	// npat is patterns.Len(), read without pmu on the publish path.
	npat atomic.Int64
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
	// messages counts publications fanned out to the topic since it
	// gained its first subscriber.
	messages atomic.Uint64
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

// add subscribes c to key (a topic or a pattern); it reports whether c is
// the key's first subscriber.
func (h *hub) add(key string, c *conn) bool {
	s := h.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	subs := s.topics[key]
	if subs == nil {
		subs = &subscribers{idx: make(map[*conn]int)}
		s.topics[key] = subs
	}
	if _, ok := subs.idx[c]; ok {
		return false
	}
	subs.idx[c] = len(subs.list)
	subs.list = append(subs.list, c)
	first := len(subs.list) == 1
	if first && topic.IsPattern(key) {
		h.pmu.Lock()
		h.patterns.Add(key)
		h.npat.Store(int64(h.patterns.Len()))
		h.pmu.Unlock()
	}
	return first
}

// remove unsubscribes c from topic; it reports whether c was the topic's
// last subscriber.
func (h *hub) remove(key string, c *conn) bool {
	s := h.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	subs := s.topics[key]
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
		delete(s.topics, key)
		if topic.IsPattern(key) {
			h.pmu.Lock()
			h.patterns.Remove(key)
			h.npat.Store(int64(h.patterns.Len()))
			h.pmu.Unlock()
		}
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

// publish is each for a publication: it also counts the message for the
// topic (see topMessages).
func (h *hub) publish(topic string, f func(*conn)) int {
	s := h.shard(topic)
	s.mu.RLock()
	defer s.mu.RUnlock()
	subs := s.topics[topic]
	if subs == nil {
		return 0
	}
	subs.messages.Add(1)
	for _, c := range subs.list {
		f(c)
	}
	return len(subs.list)
}

// TopicMessages is a topic's publication count, as TopTopics reports it.
type TopicMessages struct {
	// Topic is the topic name.
	Topic string `json:"topic"`
	// Messages counts publications fanned out to the topic's local
	// subscribers since it last gained its first subscriber.
	Messages uint64 `json:"messages"`
}

// topMessages returns the n topics with the most messages, most first
// (ties by name), in O(topics · log n).
func (h *hub) topMessages(n int) []TopicMessages {
	if n <= 0 {
		return nil
	}
	top := make(topicHeap, 0, n)
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		for t, subs := range s.topics {
			tm := TopicMessages{Topic: t, Messages: subs.messages.Load()}
			switch {
			case len(top) < n:
				heap.Push(&top, tm)
			case top.less(top[0], tm):
				top[0] = tm
				heap.Fix(&top, 0)
			}
		}
		s.mu.RUnlock()
	}
	out := []TopicMessages(top)
	slices.SortFunc(out, func(a, b TopicMessages) int {
		if top.less(a, b) {
			return 1
		}
		if top.less(b, a) {
			return -1
		}
		return 0
	})
	return out
}

// topicHeap is a min-heap of topics by message count: its root is the
// smallest of the current top n.
type topicHeap []TopicMessages

// less orders by count, then by name descending, so that among equal
// counts the alphabetically first names are kept.
func (topicHeap) less(a, b TopicMessages) bool {
	if a.Messages != b.Messages {
		return a.Messages < b.Messages
	}
	return a.Topic > b.Topic
}

func (h topicHeap) Len() int           { return len(h) }
func (h topicHeap) Less(i, j int) bool { return h.less(h[i], h[j]) }
func (h topicHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *topicHeap) Push(x any)        { *h = append(*h, x.(TopicMessages)) }
func (h *topicHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
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

// eachMatching calls f once for every subscriber a publication to topic
// reaches: the topic's own subscribers and those of every subscribed pattern
// that matches it, each connection once however many of its subscriptions
// match. f runs under one shard's read lock at a time; it must not block or
// subscribe. It returns the number of connections f was called for.
func (h *hub) eachMatching(topic string, f func(*conn)) int {
	if h.npat.Load() == 0 {
		return h.publish(topic, f)
	}
	var buf [8]string
	pats := buf[:0]
	h.pmu.RLock()
	h.patterns.Each(topic, func(p string) bool {
		if p != topic { // a topic named like a pattern is its own key
			pats = append(pats, p)
		}
		return true
	})
	h.pmu.RUnlock()
	if len(pats) == 0 {
		return h.publish(topic, f)
	}
	seen := make(map[*conn]struct{})
	visit := func(c *conn) {
		if _, dup := seen[c]; !dup {
			seen[c] = struct{}{}
			f(c)
		}
	}
	h.publish(topic, visit)
	for _, p := range pats {
		h.each(p, visit)
	}
	return len(seen)
}
