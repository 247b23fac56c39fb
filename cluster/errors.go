package cluster

import "errors"

// Sentinel errors of the cluster package. Returned errors wrap them with
// context; test with errors.Is.
var (
	// ErrInvalidConfig is returned by New when a Config field is out of range,
	// TLS settings are incomplete or unreadable, or an address does not parse.
	ErrInvalidConfig = errors.New("cluster: invalid config")
	// ErrStopped is returned by Start after Stop, or when Start is called twice.
	ErrStopped = errors.New("cluster: node stopped")
	// ErrQueueFull is recorded in a DLQEntry when a peer's send queue was full.
	ErrQueueFull = errors.New("cluster: send queue full")
	// ErrLinkClosed is recorded in a DLQEntry when a frame was queued for a
	// link that closed before the frame was written.
	ErrLinkClosed = errors.New("cluster: link closed")
	// ErrFrameTooLarge reports a frame above the frame size cap: an inbound
	// length header above it closes the link; an outbound message above the
	// peer's cap is dropped into the dead-letter queue.
	ErrFrameTooLarge = errors.New("cluster: frame too large")
	// ErrBadFrame reports a frame whose layout or body does not decode.
	ErrBadFrame = errors.New("cluster: malformed frame")
	// ErrHandshake reports a failed link handshake: wrong first frame, bad
	// magic, unsupported protocol version, timeout or refusal.
	ErrHandshake = errors.New("cluster: handshake failed")
	// ErrSelf reports a link to this node itself (a peer address that is our own).
	ErrSelf = errors.New("cluster: link to self")
	// ErrDuplicateLink reports a link refused because a preferred link to the
	// same node already exists.
	ErrDuplicateLink = errors.New("cluster: duplicate link")
	// ErrPeerTimeout reports a link closed because no frame arrived within DeadAfter.
	ErrPeerTimeout = errors.New("cluster: peer timed out")
	// ErrLinkDown is recorded in a DLQEntry for a message published while
	// an interested peer had lost its link and not yet relinked (nor been
	// declared down): it was not sent.
	ErrLinkDown = errors.New("cluster: peer link down")
	// ErrNoTLS is returned by ReloadTLS on a node started without TLS: a
	// running node cannot switch from plain TCP to TLS.
	ErrNoTLS = errors.New("cluster: TLS not configured")
)
