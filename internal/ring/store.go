package ring

import (
	"hash/maphash"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// numShards is the number of shards of a Store; a power of two.
const numShards = 64

// epochStep is added to the epoch counter for each new buffer. It is odd, so
// the first 2^32 epochs of a Store are all distinct.
const epochStep = 0x9e3779b9

// Store holds one recovery buffer per topic. It is safe for concurrent use;
// see the package documentation for the rules that apply to callbacks.
type Store struct {
	cfg  Config
	seed maphash.Seed
	// start is the Store's creation time; elapsed returns the time since
	// start, read from the monotonic clock (time.Since outside of tests).
	start   time.Time
	elapsed func() time.Duration

	// epochBase is random per Store; epochSeq counts the buffers created.
	epochBase uint32
	epochSeq  atomic.Uint32

	// total is the length of all stored messages, over all shards.
	total atomic.Int64

	// evictMu serializes the enforcement of the memory budget. Lock order:
	// evictMu before any shard lock; at most one shard lock at a time.
	evictMu sync.Mutex

	shards [numShards]shard
}

// shard is a slice of the topic space with its own lock.
type shard struct {
	mu sync.Mutex
	// topics maps a topic to its buffer.
	topics map[string]*buffer
	// oldest and newest are the ends of the list of this shard's buffers
	// ordered by lastWrite.
	oldest, newest *buffer
	// Counters reported by Stats.
	appends, overwritten, evictedTTL, evictedBudget, trimmed uint64
}

// Stats is a snapshot of a Store's counters.
type Stats struct {
	// Topics is the number of buffers held.
	Topics int
	// Bytes is the total length of the stored messages.
	Bytes int64
	// Appends counts the messages appended since the Store was created.
	Appends uint64
	// Overwritten counts messages that a full buffer overwrote with a newer one.
	Overwritten uint64
	// EvictedTTL counts buffers dropped by Sweep.
	EvictedTTL uint64
	// EvictedBudget counts buffers dropped whole to stay within the memory budget.
	EvictedBudget uint64
	// TrimmedBudget counts messages dropped from the oldest end of a buffer
	// that, as the only one left, still exceeded the memory budget alone.
	TrimmedBudget uint64
}

// RecoverResult is the outcome of a Store.Recover call.
type RecoverResult struct {
	// Epoch is the topic's current epoch, "" when the topic has no buffer.
	Epoch string
	// Offset is the topic's last offset (inclusive), 0 when it has no buffer.
	// Together with Epoch it is the client's new baseline.
	Offset uint64
	// Recovered reports whether Msgs is exactly what the client missed.
	Recovered bool
	// Msgs are the stored messages after the client's position, oldest
	// first; nil when nothing is missing or when not Recovered. The slices are
	// shared with the Store and must not be modified.
	Msgs [][]byte
}

// NewStore returns an empty Store configured by cfg, or an error wrapping
// ErrInvalidConfig when a field is out of range.
func NewStore(cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{
		cfg:       cfg,
		seed:      maphash.MakeSeed(),
		start:     time.Now(),
		epochBase: rand.Uint32(),
	}
	s.elapsed = func() time.Duration { return time.Since(s.start) }
	for i := range s.shards {
		s.shards[i].topics = make(map[string]*buffer)
	}
	return s, nil
}

// Config returns the configuration in effect, defaults applied.
func (s *Store) Config() Config { return s.cfg }

// Append publishes one message in topic. It assigns the next offset (creating
// the buffer with a fresh epoch if the topic has none), calls stamp(epoch,
// offset) to build the bytes to store, stores them, overwriting the oldest
// message when the buffer is full, and returns them with their position.
//
// stamp runs under the topic's lock, so offsets are assigned and stored in
// order; it must not call into the Store. A caller that registers subscribers
// in Recover's callback must take its snapshot of the topic's subscribers
// inside stamp: then each subscriber gets every message exactly once, either
// in its replay or live. The returned bytes are the stored ones: the caller
// sends them and must not modify them afterwards.
//
// When the stored bytes exceed the memory budget, Append then drops the least
// recently written buffers of other topics; if no other buffer is left, it
// drops the oldest messages of topic itself.
func (s *Store) Append(topic string, stamp func(epoch string, offset uint64) []byte) (data []byte, epoch string, offset uint64) {
	data, epoch, offset = s.push(topic, stamp)
	if s.total.Load() > s.cfg.MemoryBudget {
		s.enforceBudget(topic)
	}
	return data, epoch, offset
}

// push is the locked part of Append.
func (s *Store) push(topic string, stamp func(epoch string, offset uint64) []byte) ([]byte, string, uint64) {
	sh := s.shardFor(topic)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.topics[topic]
	if b == nil {
		b = newBuffer(topic, s.newEpoch(), min(initialSlots, s.cfg.BufferSize))
		sh.topics[topic] = b
		sh.link(b)
	}
	offset := b.head
	data := stamp(b.epoch, offset)
	freed, overwrote := b.push(data, s.cfg.BufferSize)
	if overwrote {
		sh.overwritten++
	}
	sh.appends++
	b.lastWrite = s.clock()
	sh.touch(b)
	s.total.Add(int64(len(data)) - freed)
	return data, b.epoch, offset
}

// Position returns the current epoch and last offset of topic, and false
// (with "", 0) when the topic has no buffer. It never creates one.
func (s *Store) Position(topic string) (epoch string, offset uint64, ok bool) {
	sh := s.shardFor(topic)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.topics[topic]
	if b == nil {
		return "", 0, false
	}
	return b.epoch, b.last(), true
}

// Recover returns the messages of topic after the client's position (epoch,
// offset), oldest first, and whether they are exactly what the client missed.
// with, when not nil, runs once while the topic's lock is held, after the
// replay was taken and before any later Append of topic; the caller registers
// the subscriber there so that no message is lost or duplicated between the
// replay and live delivery. with must not call into the Store. RecoverWithResult
// also hands the result to the callback, so the replay can be queued under
// the same lock, ahead of any later live message.
//
// The result always carries the topic's current position, which the client
// takes as its new baseline when not recovered. The rules:
//
//   - offset 0 means the client has seen no message (the empty position, or
//     any epoch with offset 0). If the topic has no buffer, it is recovered
//     with nothing to replay and position ("", 0). If it has one and that
//     buffer still holds every message from offset 1 on, at most MaxMessages
//     of them, all of them are replayed (recovered); otherwise not recovered.
//   - offset > 0 with the buffer's epoch: offsets offset+1..last are replayed
//     when none was overwritten or dropped and there are at most MaxMessages;
//     offset == last is recovered with nothing to replay; any failure, and an
//     offset beyond last (never handed out), is not recovered.
//   - offset > 0 with another epoch (including ""), or when the topic has no
//     buffer: not recovered. With no buffer the position is ("", 0): offset 0
//     is never given to a message and any later message has a new epoch, so
//     the baseline is never reused.
//
// Recovering from offset 0 cannot notice a buffer that was created and then
// dropped whole (TTL or budget) since the client took its baseline; callers
// should pass offset 0 only for clients whose baseline really was empty, and
// use Position for clients that have no baseline at all.
func (s *Store) Recover(topic, epoch string, offset uint64, with func()) RecoverResult {
	if with == nil {
		return s.RecoverWithResult(topic, epoch, offset, nil)
	}
	return s.RecoverWithResult(topic, epoch, offset, func(RecoverResult) { with() })
}

// RecoverWithResult is Recover with a callback that also receives the result;
// with runs under the topic's lock and must not call into the Store.
func (s *Store) RecoverWithResult(topic, epoch string, offset uint64, with func(RecoverResult)) RecoverResult {
	sh := s.shardFor(topic)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	res := s.replay(sh.topics[topic], epoch, offset)
	if with != nil {
		with(res)
	}
	return res
}

// replay applies the rules documented on Recover to buffer b (nil when the
// topic has none). The caller holds b's shard lock.
func (s *Store) replay(b *buffer, epoch string, offset uint64) RecoverResult {
	if b == nil {
		return RecoverResult{Recovered: offset == 0}
	}
	last := b.last()
	res := RecoverResult{Epoch: b.epoch, Offset: last}
	var from uint64
	switch {
	case offset == 0:
		from = 1
	case epoch == b.epoch && offset <= last:
		from = offset + 1
	default:
		return res
	}
	if from > last {
		res.Recovered = true
		return res
	}
	if from < b.tail || last-from >= uint64(s.cfg.MaxMessages) {
		return res
	}
	res.Msgs = b.read(from, last)
	res.Recovered = true
	return res
}

// Sweep drops the buffers that were not written for longer than the TTL
// before now and returns how many it dropped. The engine calls it from a timer.
func (s *Store) Sweep(now time.Time) int {
	elapsed := now.Sub(s.start)
	if elapsed <= s.cfg.TTL {
		return 0
	}
	cutoff := int64(elapsed - s.cfg.TTL)
	dropped := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for sh.oldest != nil && sh.oldest.lastWrite < cutoff {
			s.dropLocked(sh, sh.oldest)
			sh.evictedTTL++
			dropped++
		}
		sh.mu.Unlock()
	}
	return dropped
}

// Renew drops every buffer, so that the next message of each topic starts
// a new epoch, and returns how many it dropped. The engine calls it when
// messages may have been lost before they reached the Store (a cluster link
// lost): a client then sees its epoch end, which it reports as missed data,
// instead of consecutive offsets over a hole.
func (s *Store) Renew() int {
	dropped := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for sh.oldest != nil {
			s.dropLocked(sh, sh.oldest)
			dropped++
		}
		sh.mu.Unlock()
	}
	return dropped
}

// Stats returns a snapshot of the Store's counters. Shards are read one after
// the other, so under concurrent writes the figures are not one instant's.
func (s *Store) Stats() Stats {
	st := Stats{Bytes: s.total.Load()}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		st.Topics += len(sh.topics)
		st.Appends += sh.appends
		st.Overwritten += sh.overwritten
		st.EvictedTTL += sh.evictedTTL
		st.EvictedBudget += sh.evictedBudget
		st.TrimmedBudget += sh.trimmed
		sh.mu.Unlock()
	}
	return st
}

// enforceBudget drops buffers, least recently written first, other than
// topic's until the stored bytes fit the budget; if only topic's buffer is
// left, it drops that buffer's oldest messages.
func (s *Store) enforceBudget(topic string) {
	s.evictMu.Lock()
	defer s.evictMu.Unlock()
	for s.total.Load() > s.cfg.MemoryBudget {
		if !s.evictOldest(topic) {
			s.trim(topic)
			return
		}
	}
}

// evictOldest drops the least recently written buffer of any topic but
// except and reports whether there was one.
func (s *Store) evictOldest(except string) bool {
	victim := -1
	var oldest int64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		if b := sh.oldestExcept(except); b != nil && (victim < 0 || b.lastWrite < oldest) {
			victim, oldest = i, b.lastWrite
		}
		sh.mu.Unlock()
	}
	if victim < 0 {
		return false
	}
	sh := &s.shards[victim]
	sh.mu.Lock()
	if b := sh.oldestExcept(except); b != nil {
		s.dropLocked(sh, b)
		sh.evictedBudget++
	}
	sh.mu.Unlock()
	return true
}

// trim drops the oldest messages of topic's buffer until the stored bytes fit
// the budget or the buffer is empty. The buffer keeps its epoch and offsets.
func (s *Store) trim(topic string) {
	sh := s.shardFor(topic)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.topics[topic]
	for b != nil && b.tail != b.head && s.total.Load() > s.cfg.MemoryBudget {
		s.total.Add(-b.dropOldest())
		sh.trimmed++
	}
}

// dropLocked removes buffer b from shard sh, whose lock the caller holds.
func (s *Store) dropLocked(sh *shard, b *buffer) {
	delete(sh.topics, b.topic)
	sh.unlink(b)
	s.total.Add(-b.bytes)
}

func (s *Store) shardFor(topic string) *shard {
	return &s.shards[maphash.String(s.seed, topic)&(numShards-1)]
}

// clock returns the time elapsed since the Store's start in nanoseconds.
func (s *Store) clock() int64 { return int64(s.elapsed()) }

// newEpoch returns a fresh epoch: 8 lower-case hex digits, distinct from the
// previous 2^32-1 epochs of this Store and random across Stores.
func (s *Store) newEpoch() string {
	return hex8(s.epochBase + s.epochSeq.Add(1)*epochStep)
}

func hex8(v uint32) string {
	const digits = "0123456789abcdef"
	var buf [8]byte
	for i := 7; i >= 0; i-- {
		buf[i] = digits[v&0xf]
		v >>= 4
	}
	return string(buf[:])
}

// link appends b as the newest buffer of the shard. The caller holds sh.mu.
func (sh *shard) link(b *buffer) {
	b.older, b.newer = sh.newest, nil
	if sh.newest != nil {
		sh.newest.newer = b
	} else {
		sh.oldest = b
	}
	sh.newest = b
}

// unlink removes b from the shard's list. The caller holds sh.mu.
func (sh *shard) unlink(b *buffer) {
	if b.older != nil {
		b.older.newer = b.newer
	} else {
		sh.oldest = b.newer
	}
	if b.newer != nil {
		b.newer.older = b.older
	} else {
		sh.newest = b.older
	}
	b.older, b.newer = nil, nil
}

// touch moves b, just written, to the newest end. The caller holds sh.mu.
func (sh *shard) touch(b *buffer) {
	if sh.newest != b {
		sh.unlink(b)
		sh.link(b)
	}
}

// oldestExcept returns the least recently written buffer of the shard whose
// topic is not except, or nil. The caller holds sh.mu.
func (sh *shard) oldestExcept(except string) *buffer {
	b := sh.oldest
	if b != nil && b.topic == except {
		b = b.newer
	}
	return b
}
