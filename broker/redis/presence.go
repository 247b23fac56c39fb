package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/wse-go/wse"
)

// presenceBatch is the number of entries written per pipelined round trip.
const presenceBatch = 512

// presenceMessage is a presence change announced on a topic's channel.
type presenceMessage struct {
	wse.PresenceEntry
	Leave bool `json:"l,omitempty"`
}

// presenceWriter owns this node's presence entries and writes them to
// Redis from one goroutine: changes as they come, everything every
// PresenceTTL/3. Callers never wait for Redis.
type presenceWriter struct {
	b *Broker
	// mu guards local and dirty.
	mu sync.Mutex
	// local is this node's entries by topic and user.
	local map[string]map[string]wse.PresenceEntry
	// dirty are the (topic, user) pairs changed since the last write.
	dirty map[[2]string]bool
	wake  chan struct{}
}

func newPresenceWriter(b *Broker) *presenceWriter {
	return &presenceWriter{b: b, local: make(map[string]map[string]wse.PresenceEntry),
		dirty: make(map[[2]string]bool), wake: make(chan struct{}, 1)}
}

// SetPresence records this node's entry for e.User in topic; the writer
// stores and announces it.
func (b *Broker) SetPresence(topic string, e wse.PresenceEntry) {
	p := b.presence
	e.Node = b.node
	p.mu.Lock()
	users := p.local[topic]
	if users == nil {
		users = make(map[string]wse.PresenceEntry)
		p.local[topic] = users
	}
	users[e.User] = e
	p.dirty[[2]string{topic, e.User}] = true
	p.mu.Unlock()
	p.signal()
}

// RemovePresence removes this node's entry for user in topic.
func (b *Broker) RemovePresence(topic, user string) {
	p := b.presence
	p.mu.Lock()
	if users := p.local[topic]; users != nil {
		delete(users, user)
		if len(users) == 0 {
			delete(p.local, topic)
		}
	}
	p.dirty[[2]string{topic, user}] = true
	p.mu.Unlock()
	p.signal()
}

// Presence returns the unexpired entries of every node for topic.
func (b *Broker) Presence(ctx context.Context, topic string) ([]wse.PresenceEntry, error) {
	ch := b.channel(topic)
	arr, err := presenceGetScript.Exec(ctx, b.client, []string{ch + ":p", ch + ":pz"}, nil).AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("redis broker: presence %q: %w", topic, err)
	}
	out := make([]wse.PresenceEntry, 0, len(arr)/2)
	for i := 0; i+1 < len(arr); i += 2 {
		var e wse.PresenceEntry
		if err := json.Unmarshal([]byte(arr[i+1]), &e); err != nil {
			return nil, fmt.Errorf("redis broker: presence entry %q: %w", arr[i], err)
		}
		out = append(out, e)
	}
	return out, nil
}

// PresenceStats counts the distinct users and the connections of topic.
func (b *Broker) PresenceStats(ctx context.Context, topic string) (wse.PresenceStats, error) {
	entries, err := b.Presence(ctx, topic)
	if err != nil {
		return wse.PresenceStats{}, err
	}
	users := make(map[string]bool, len(entries))
	var st wse.PresenceStats
	for _, e := range entries {
		users[e.User] = true
		st.NumConnections += e.Conns
	}
	st.NumUsers = len(users)
	return st, nil
}

func (p *presenceWriter) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run writes changes when woken and refreshes every entry every
// PresenceTTL/3, until the broker stops.
func (p *presenceWriter) run() {
	t := time.NewTicker(p.b.cfg.PresenceTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-p.b.stop:
			return
		case <-p.wake:
			p.flush()
		case <-t.C:
			p.refresh()
		}
	}
}

// field is the hash field of one node's entry of user.
func (p *presenceWriter) field(user string) string { return p.b.node + " " + user }

// flush writes and announces up to presenceBatch changed entries and
// reports whether the writes succeeded. Failed writes stay dirty and are
// retried on the next wake or refresh.
func (p *presenceWriter) flush() bool {
	p.mu.Lock()
	var sets, removes []rueidis.LuaExec
	var keys [][2]string
	for k := range p.dirty {
		keys = append(keys, k)
		if len(keys) == presenceBatch {
			break
		}
	}
	ttl := strconv.FormatInt(p.b.cfg.PresenceTTL.Milliseconds(), 10)
	for _, k := range keys {
		ch := p.b.channel(k[0])
		e, ok := p.local[k[0]][k[1]]
		if ok {
			v, _ := json.Marshal(e)
			msg, _ := json.Marshal(presenceMessage{PresenceEntry: e})
			sets = append(sets, rueidis.LuaExec{Keys: []string{ch + ":p", ch + ":pz", ch}, Args: []string{p.field(k[1]), string(v), ttl, "r" + string(msg)}})
		} else {
			msg, _ := json.Marshal(presenceMessage{PresenceEntry: wse.PresenceEntry{Node: p.b.node, User: k[1]}, Leave: true})
			removes = append(removes, rueidis.LuaExec{Keys: []string{ch + ":p", ch + ":pz", ch}, Args: []string{p.field(k[1]), "r" + string(msg)}})
		}
		delete(p.dirty, k)
	}
	more := len(p.dirty) > 0
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	failed := false
	if len(sets) > 0 {
		failed = anyFailed(presenceSetScript.ExecMulti(ctx, p.b.client, sets...))
	}
	if len(removes) > 0 {
		failed = anyFailed(presenceRemoveScript.ExecMulti(ctx, p.b.client, removes...)) || failed
	}
	if failed {
		p.mu.Lock()
		for _, k := range keys {
			p.dirty[k] = true
		}
		p.mu.Unlock()
		return false // retried by the next refresh tick
	}
	if more {
		p.signal()
	}
	return true
}

// drain flushes until nothing is pending or a write fails (bounded by
// the batch count).
func (p *presenceWriter) drain() {
	for range 64 {
		p.mu.Lock()
		pending := len(p.dirty)
		p.mu.Unlock()
		if pending == 0 || !p.flush() {
			return
		}
	}
}

// refresh rewrites every entry of this node, extending its expiry (and
// restoring it if Redis lost it), then writes pending changes.
func (p *presenceWriter) refresh() {
	p.mu.Lock()
	ttl := strconv.FormatInt(p.b.cfg.PresenceTTL.Milliseconds(), 10)
	var all []rueidis.LuaExec
	for topic, users := range p.local {
		ch := p.b.channel(topic)
		for user, e := range users {
			v, _ := json.Marshal(e)
			all = append(all, rueidis.LuaExec{Keys: []string{ch + ":p", ch + ":pz", ch}, Args: []string{p.field(user), string(v), ttl, ""}})
		}
	}
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 0; i < len(all); i += presenceBatch {
		anyFailed(presenceSetScript.ExecMulti(ctx, p.b.client, all[i:min(i+presenceBatch, len(all))]...))
	}
	p.flush()
}

// anyFailed reports whether one of the results is an error.
func anyFailed(results []rueidis.RedisResult) bool {
	for _, r := range results {
		if r.Error() != nil {
			return true
		}
	}
	return false
}
