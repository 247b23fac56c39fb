// Package wsclient is the benchmark's WebSocket client: a minimal RFC 6455
// handshake over a dialer that spreads connections over loopback source
// addresses (127.0.0.1, 127.0.0.2, …) when one runs out of ports, and a
// frame reader that parses into one reusable per-connection buffer without
// allocating per message. Every URL and address is checked to be loopback.
//
// # Concurrency contract
//
// Dialer and SourcePool are safe for concurrent use. A Conn belongs to one
// goroutine: its methods must not be called concurrently, except Abort,
// which may be called from any goroutine to stop a blocked Next (not for a
// detached Conn, whose owner must have stopped using it). Next blocks until a
// frame arrives or the connection fails. After Detach the Conn is served by
// a Poller: Fill never blocks, Write waits at most ~10 s for buffer space.
// A Poller's Wait must be called by one goroutine at a time; Add and Remove
// may be called concurrently with it.
package wsclient
