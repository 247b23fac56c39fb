// Package ring keeps the per-topic recovery buffers of the WSE engine.
//
// Every topic that has publications gets a buffer: a ring of stamped messages
// with an epoch (8 lower-case hex characters, fresh whenever the buffer is
// created) and offsets that start at 1 in each epoch and grow by exactly 1 per
// publication. A client that reconnects names the last position it saw,
// (epoch, offset), and Recover returns exactly the messages it missed, or
// reports that the gap cannot be closed and gives it a new baseline.
//
// Positions. The position of a topic is the epoch of its buffer and the last
// offset assigned in it (inclusive). A topic without a buffer has the empty
// position ("", 0); offset 0 never names a message, so the empty position is
// never reused by a later message. See Store.Recover for the exact rules.
//
// Memory. A buffer holds at most Config.BufferSize messages; a full buffer
// overwrites its oldest message. Buffers not written for Config.TTL are dropped
// by Store.Sweep, and when the bytes of all stored messages exceed
// Config.MemoryBudget the least recently written buffers are dropped whole.
// A dropped topic starts again with a new epoch.
//
// Concurrency. A Store is safe for concurrent use by any number of goroutines.
// Buffers live in shards selected by a hash of the topic; each shard has one
// mutex, so operations on topics in different shards do not contend. The
// callbacks a Store receives (stamp in Append, with in Recover) run while the
// topic's shard lock is held: they must be short, must not block for long, and
// must not call back into the Store. Holding that lock is the point: an Append
// and a Recover on the same topic are totally ordered, so a subscriber that is
// registered inside with, and a publisher that reads the subscriber set inside
// stamp, see each message exactly once (either in the replay or live).
package ring
