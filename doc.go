// Package wse is a real-time WebSocket engine: it holds many client connections,
// authenticates them with a JWT in the handshake, fans messages out to topic
// subscribers, and hands every client message to the application as an Event.
//
// A Server is created with NewServer from a Config (a zero field means the
// documented default) and started with Start, which listens on Config.Host and
// Config.Port; or it is mounted in an existing HTTP server as an http.Handler.
// The wire protocol is the one of the existing WSE clients (the `wse-client`
// npm and Python packages); see docs/protocol.md.
//
// # Concurrency
//
// Every exported method of Server is safe for concurrent use. Sends and
// broadcasts never block on a slow client: each connection has an outbound
// queue bounded in bytes (Config.MaxOutboundQueueBytes); a message that does
// not fit is dropped for that connection only and counted, and a connection
// that stays over the limit is closed with code 4429.
//
// Client messages become Events on one bounded queue (Config.MaxInboundQueueSize).
// Read them with DrainInbound or Events, or register Callbacks with SetCallbacks.
// Callbacks run on the engine's dispatcher goroutines, never on a connection's
// reader: a callback may block, but while it blocks, events for connections
// assigned to the same dispatcher wait behind it and, once the queue is full,
// new events are dropped and counted (InboundDropped).
//
// Connection I/O runs on a few epoll goroutines owned by the engine, not on a
// goroutine per connection, so an idle connection costs well under 2 KB.
package wse
