package wsclient

import "errors"

var (
	// ErrNotLoopback reports a URL or address outside 127.0.0.0/8 and ::1.
	ErrNotLoopback = errors.New("wsclient: not a loopback address")
	// ErrHandshake reports a server answer that is not a valid 101 upgrade.
	ErrHandshake = errors.New("wsclient: handshake failed")
	// ErrFrameTooLarge reports a frame longer than the connection's buffer
	// limit.
	ErrFrameTooLarge = errors.New("wsclient: frame too large")
	// ErrClosed reports a close frame from the server; the error text
	// carries its code.
	ErrClosed = errors.New("wsclient: closed by server")
	// ErrNoSourceAddress reports that every source address ran out of ports.
	ErrNoSourceAddress = errors.New("wsclient: no source address left")
)
