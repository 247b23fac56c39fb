package cluster

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Stats is a snapshot of a node's counters. Counters only grow, except
// PeersConnected and DLQSize.
type Stats struct {
	// MessagesSent counts MSG frames written to peer links (one per peer).
	MessagesSent uint64
	// MessagesDelivered counts MSG frames received and handed to Delegate.OnPublish.
	MessagesDelivered uint64
	// MessagesDropped counts MSG frames that were not written: queue full,
	// link closed with the frame queued, or too large for the peer.
	MessagesDropped uint64
	// BytesSent and BytesReceived count link bytes of all frame types
	// (after TLS decryption, before encryption).
	BytesSent, BytesReceived uint64
	// FramesSent and FramesReceived count frames of all types.
	FramesSent, FramesReceived uint64
	// Reconnects counts links re-established to a peer after its link was lost.
	Reconnects uint64
	// UnknownFrames counts received frames of a type this node does not know (skipped).
	UnknownFrames uint64
	// BadFrames counts links closed for a malformed or oversized frame.
	BadFrames uint64
	// HandshakeFailures counts links refused before they came up: bad or
	// missing HELLO, version mismatch, timeout, self-links and duplicates.
	HandshakeFailures uint64
	// TLSRefused counts TLS handshakes that failed, including peers whose
	// certificate is not signed by the cluster CA.
	TLSRefused uint64
	// TLSReloads counts successful ReloadTLS calls.
	TLSReloads uint64
	// LinkGaps counts the times messages with a peer may have been lost: a
	// ready link ended without SHUTDOWN, or came back after that.
	LinkGaps uint64
	// DLQSize is the current number of entries in the dead-letter queue.
	DLQSize int
	// PeersConnected is the current number of peers with a link up.
	PeersConnected int
}

// counters holds the atomics behind Stats.
type counters struct {
	msgsSent, msgsDelivered, msgsDropped atomic.Uint64
	bytesSent, bytesReceived             atomic.Uint64
	framesSent, framesReceived           atomic.Uint64
	reconnects, unknownFrames, badFrames atomic.Uint64
	handshakeFailures, tlsRefused        atomic.Uint64
	tlsReloads, linkGaps                 atomic.Uint64
}

// DLQEntry is one message that could not be sent to a peer.
type DLQEntry struct {
	// Topic and Payload are the message as given to Publish.
	Topic   string
	Payload []byte
	// Peer is the node id of the peer it was meant for.
	Peer string
	// Err says why: wraps ErrQueueFull, ErrLinkClosed or ErrFrameTooLarge,
	// or is the write error of a failed link.
	Err error
	// Error is Err's text, for display and serialization.
	Error string
	// Time is when the send failed.
	Time time.Time
}

// deadLetters is a bounded FIFO of DLQEntry; the oldest entry goes first
// when it is full.
type deadLetters struct {
	maxBytes int
	mu       sync.Mutex
	// buf is a ring of cap entries starting at head; bytes is the sum of
	// their payload lengths. Guarded by mu.
	buf   []DLQEntry
	head  int
	n     int
	bytes int
}

// newDeadLetters returns a queue holding at most size entries and maxBytes
// of payload.
func newDeadLetters(size, maxBytes int) *deadLetters {
	return &deadLetters{buf: make([]DLQEntry, size), maxBytes: maxBytes}
}

// add appends e, discarding the oldest entry when full. It fills e.Error.
func (q *deadLetters) add(e DLQEntry) {
	if e.Err != nil {
		e.Error = e.Err.Error()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.buf) == 0 {
		return
	}
	if len(e.Payload) > q.maxBytes {
		e.Error = fmt.Sprintf("%s (payload of %d bytes not kept)", e.Error, len(e.Payload))
		e.Payload = nil
	}
	for q.n == len(q.buf) || (q.n > 0 && q.bytes+len(e.Payload) > q.maxBytes) {
		q.bytes -= len(q.buf[q.head].Payload)
		q.buf[q.head] = DLQEntry{}
		q.head = (q.head + 1) % len(q.buf)
		q.n--
	}
	q.buf[(q.head+q.n)%len(q.buf)] = e
	q.n++
	q.bytes += len(e.Payload)
}

// size returns the number of entries.
func (q *deadLetters) size() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// drain removes and returns all entries, oldest first.
func (q *deadLetters) drain() []DLQEntry {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]DLQEntry, q.n)
	for i := range out {
		j := (q.head + i) % len(q.buf)
		out[i] = q.buf[j]
		q.buf[j] = DLQEntry{}
	}
	q.head, q.n, q.bytes = 0, 0, 0
	return out
}
