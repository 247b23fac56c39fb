package wsconn

import "sync/atomic"

// queueKeepCap is the largest backing array a drained queue keeps for reuse;
// a larger one is released so that idle connections stay small.
const queueKeepCap = 64

// frameQueue is a connection's pending output: whole frames, the first of
// which may be partly written. It is guarded by its Conn's mu.
type frameQueue struct {
	buf   [][]byte // buf[off:] are pending
	off   int      // index of the first pending frame
	head  int      // bytes of buf[off] already written
	bytes int      // pending bytes, not counting the written part of buf[off]
	// total, when set, is the engine-wide sum of pending bytes that bytes
	// is mirrored to (Config.MaxTotalQueueBytes), in whole totalChunk
	// steps: accounted is the part of bytes already added to it.
	total     *atomic.Int64
	accounted int
}

// totalChunk is the step in which a queue's pending bytes are mirrored to
// the engine-wide total (a power of two). Mirroring every frame made the
// shared counter's cache line bounce between the publisher and the
// flushers: +20% per publication to 1,000 subscribers. In steps, a queue
// of small frames touches it once per totalChunk bytes, and the total
// undercounts by less than totalChunk per connection.
const totalChunk = 4 << 10

// charge adds n (possibly negative) to the pending bytes.
func (q *frameQueue) charge(n int) {
	q.bytes += n
	if q.total == nil {
		return
	}
	if acc := q.bytes &^ (totalChunk - 1); acc != q.accounted {
		q.total.Add(int64(acc - q.accounted))
		q.accounted = acc
	}
}

// len returns the number of pending frames.
func (q *frameQueue) len() int { return len(q.buf) - q.off }

// push appends a frame.
func (q *frameQueue) push(b []byte) {
	if len(q.buf) == cap(q.buf) && q.off > 0 && q.off >= len(q.buf)/2 {
		n := copy(q.buf, q.buf[q.off:])
		clear(q.buf[n:])
		q.buf = q.buf[:n]
		q.off = 0
	}
	q.buf = append(q.buf, b)
	q.charge(len(b))
}

// advance records that n more bytes were written and returns the number of
// frames completed.
func (q *frameQueue) advance(n int) (frames int) {
	for n > 0 && q.off < len(q.buf) {
		rem := len(q.buf[q.off]) - q.head
		if n < rem {
			q.head += n
			q.charge(-n)
			return frames
		}
		n -= rem
		q.charge(-rem)
		q.buf[q.off] = nil
		q.off++
		q.head = 0
		frames++
	}
	if q.off == len(q.buf) {
		q.drained()
	}
	return frames
}

// drained resets an empty queue, keeping a small backing array for reuse.
func (q *frameQueue) drained() {
	if cap(q.buf) > queueKeepCap {
		q.buf = nil
	} else {
		q.buf = q.buf[:0]
	}
	q.charge(-q.bytes)
	q.off, q.head = 0, 0
}

// dropUnstarted discards every pending frame no byte of which was written,
// except the last one when keepLast is set (the close frame). It returns the
// number of frames discarded.
func (q *frameQueue) dropUnstarted(keepLast bool) (dropped int) {
	first := q.off
	if q.head > 0 {
		first++ // partly written: must be completed
	}
	last := len(q.buf)
	if keepLast && last > first {
		last--
	}
	if last <= first {
		return 0
	}
	for _, b := range q.buf[first:last] {
		q.charge(-len(b))
	}
	n := copy(q.buf[first:], q.buf[last:])
	clear(q.buf[first+n:])
	q.buf = q.buf[:first+n]
	return last - first
}

// release drops every frame and the backing array.
func (q *frameQueue) release() {
	q.charge(-q.bytes)
	*q = frameQueue{total: q.total}
}
