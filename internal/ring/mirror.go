package ring

// MirrorResult says what AppendAt did with a message.
type MirrorResult int

// AppendAt outcomes.
const (
	// Mirrored: the message was stored at its position (stamp was called).
	Mirrored MirrorResult = iota
	// MirrorOld: the buffer already holds or passed that offset in that
	// epoch; nothing was done.
	MirrorOld
	// MirrorGap: the offset is beyond the next one of the buffer's epoch;
	// nothing was done. The caller fetches the missing messages and appends
	// them first, or calls again with jump.
	MirrorGap
)

// AppendAt stores a message whose position was assigned elsewhere (a
// broker's shared stream) instead of by the Store, so the buffer mirrors that
// stream. With no buffer for topic, or a buffer of another epoch, the buffer
// is (re)created in epoch starting at offset; in the buffer's epoch the
// message must be the next one (offset == last+1): an older one is
// MirrorOld, a later one MirrorGap unless jump is set, in which case the
// buffer drops what it stores and continues from offset, so a Recover from
// before the jump is not recovered. stamp builds the bytes to store and
// runs under the topic's lock, like Append's; it is called only for
// Mirrored. AppendAt returns the outcome and the buffer's last offset
// afterwards.
func (s *Store) AppendAt(topic, epoch string, offset uint64, jump bool, stamp func() []byte) (MirrorResult, uint64) {
	res, last := s.pushAt(topic, epoch, offset, jump, stamp)
	if res == Mirrored && s.total.Load() > s.cfg.MemoryBudget {
		s.enforceBudget(topic)
	}
	return res, last
}

// pushAt is the locked part of AppendAt.
func (s *Store) pushAt(topic, epoch string, offset uint64, jump bool, stamp func() []byte) (MirrorResult, uint64) {
	if offset == 0 {
		return MirrorOld, 0
	}
	sh := s.shardFor(topic)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.topics[topic]
	switch {
	case b != nil && b.epoch == epoch && offset < b.head:
		return MirrorOld, b.last()
	case b != nil && b.epoch == epoch && offset > b.head && !jump:
		return MirrorGap, b.last()
	case b != nil && b.epoch == epoch && offset > b.head:
		for b.tail != b.head {
			s.total.Add(-b.dropOldest())
		}
		b.head, b.tail = offset, offset
	case b == nil || b.epoch != epoch:
		if b != nil {
			s.dropLocked(sh, b)
		}
		b = newBuffer(topic, epoch, min(initialSlots, s.cfg.BufferSize))
		b.head, b.tail = offset, offset
		sh.topics[topic] = b
		sh.link(b)
	}
	data := stamp()
	freed, overwrote := b.push(data, s.cfg.BufferSize)
	if overwrote {
		sh.overwritten++
	}
	sh.appends++
	b.lastWrite = s.clock()
	sh.touch(b)
	s.total.Add(int64(len(data)) - freed)
	return Mirrored, b.last()
}

// Seed creates an empty buffer for topic whose last offset is last in
// epoch, when the topic has no buffer: a mirror that has not received a
// message yet then answers Position and Recover with the stream's position.
// It reports whether it created the buffer.
func (s *Store) Seed(topic, epoch string, last uint64) bool {
	if epoch == "" {
		return false
	}
	sh := s.shardFor(topic)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.topics[topic] != nil {
		return false
	}
	b := newBuffer(topic, epoch, min(initialSlots, s.cfg.BufferSize))
	b.head, b.tail = last+1, last+1
	b.lastWrite = s.clock()
	sh.topics[topic] = b
	sh.link(b)
	return true
}

// Drop removes topic's buffer, so that its next message starts a new epoch
// and no earlier position can be recovered. It reports whether there was one.
func (s *Store) Drop(topic string) bool {
	sh := s.shardFor(topic)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.topics[topic]
	if b == nil {
		return false
	}
	s.dropLocked(sh, b)
	return true
}
