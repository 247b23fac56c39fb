package ring

// buffer is the ring of one topic. It is guarded by the lock of its shard.
//
// Offsets tail..head-1 are stored; the message with offset o sits in
// slots[o&(len(slots)-1)]. head is the next offset to assign, so head-1 is the
// topic's last offset; tail == head when no message is stored (every message
// was trimmed for the memory budget). A new buffer has head == tail == 1.
type buffer struct {
	topic string
	epoch string
	slots [][]byte
	head  uint64
	tail  uint64
	// bytes is the total length of the stored messages.
	bytes int64
	// lastWrite is the time of the last push, in nanoseconds since the
	// Store's start; it orders the shard's LRU list.
	lastWrite int64
	// older and newer link the shard's list of buffers by lastWrite.
	older, newer *buffer
}

func newBuffer(topic, epoch string, slots int) *buffer {
	return &buffer{topic: topic, epoch: epoch, slots: make([][]byte, slots), head: 1, tail: 1}
}

// last returns the offset of the last message assigned in the buffer.
func (b *buffer) last() uint64 { return b.head - 1 }

// push stores data under offset b.head and advances head. When the buffer
// holds maxSlots messages already, the oldest is overwritten: push then
// returns its length and true.
func (b *buffer) push(data []byte, maxSlots int) (freed int64, overwrote bool) {
	if b.head-b.tail == uint64(len(b.slots)) {
		if len(b.slots) < maxSlots {
			b.grow()
		} else {
			freed, overwrote = b.dropOldest(), true
		}
	}
	b.slots[b.head&uint64(len(b.slots)-1)] = data
	b.head++
	b.bytes += int64(len(data))
	return freed, overwrote
}

// grow doubles the slot array, keeping every stored message.
func (b *buffer) grow() {
	slots := make([][]byte, 2*len(b.slots))
	oldMask, newMask := uint64(len(b.slots)-1), uint64(len(slots)-1)
	for o := b.tail; o != b.head; o++ {
		slots[o&newMask] = b.slots[o&oldMask]
	}
	b.slots = slots
}

// dropOldest removes the oldest stored message and returns its length. The
// buffer must not be empty.
func (b *buffer) dropOldest() int64 {
	i := b.tail & uint64(len(b.slots)-1)
	n := int64(len(b.slots[i]))
	b.slots[i] = nil
	b.tail++
	b.bytes -= n
	return n
}

// read returns the stored messages with offsets from..to (inclusive), which
// must lie within tail..head-1 with from <= to.
func (b *buffer) read(from, to uint64) [][]byte {
	msgs := make([][]byte, 0, to-from+1)
	mask := uint64(len(b.slots) - 1)
	for o := from; o <= to; o++ {
		msgs = append(msgs, b.slots[o&mask])
	}
	return msgs
}
