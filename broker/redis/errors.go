package redis

import "errors"

// Sentinel errors of the Redis broker, wrapped with context.
var (
	// ErrInvalidConfig reports a Config field that cannot be used.
	ErrInvalidConfig = errors.New("redis broker: invalid config")
	// ErrNotConnected reports a subscription while the pub/sub connection
	// is down; the interest is kept and re-established on reconnect.
	ErrNotConnected = errors.New("redis broker: pub/sub connection down")
	// ErrClosed reports a call after Close.
	ErrClosed = errors.New("redis broker: closed")
	// ErrBadReply reports a Redis reply of an unexpected shape.
	ErrBadReply = errors.New("redis broker: unexpected reply")
)
