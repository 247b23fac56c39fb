package hooks

import (
	"encoding/json"
	"sync"
	"time"
)

// subscribeCache keeps the subscribe hook's answers per user and topic for
// a TTL. It is bounded in entries; topics and user ids are bounded in
// length by the engine, so it is bounded in bytes too. A nil cache caches
// nothing.
type subscribeCache struct {
	ttl  time.Duration
	size int
	// mu guards entries.
	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
}

type cacheKey struct{ who, topic string }

type cacheEntry struct {
	granted bool
	expires time.Time
}

func newSubscribeCache(ttl time.Duration, size int) *subscribeCache {
	return &subscribeCache{ttl: ttl, size: max(size, 1), entries: make(map[cacheKey]cacheEntry)}
}

// lookup splits topics into those cached as granted and those to ask;
// topics cached as refused are in neither.
func (c *subscribeCache) lookup(who string, topics []string) (granted, ask []string) {
	if c == nil {
		return nil, topics
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range topics {
		e, ok := c.entries[cacheKey{who, t}]
		switch {
		case !ok || now.After(e.expires):
			ask = append(ask, t)
		case e.granted:
			granted = append(granted, t)
		}
	}
	return granted, ask
}

// store records an answer. A full cache first drops its expired entries,
// then, if still full, everything: answers are only a shortcut.
func (c *subscribeCache) store(who, topic string, granted bool) {
	if c == nil {
		return
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.size {
		for k, e := range c.entries {
			if now.After(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.size {
			clear(c.entries)
		}
	}
	c.entries[cacheKey{who, topic}] = cacheEntry{granted: granted, expires: now.Add(c.ttl)}
}

// jsonText encodes v as compact JSON text.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
