// Package wseclient is the Go client of WSE, the real-time WebSocket engine
// (wire protocol version 1, PROTOCOL.md).
//
// Dial connects, waits for server_ready, sends client_hello and subscribes
// Options.Topics. From then on the client keeps one logical connection: it
// answers server pings and sends its own, and when the connection ends it
// reconnects with jittered exponential backoff (1 s × 1.5 per attempt, at
// most 30 s) unless the close code says to stop (1000, 1001, 4403). After
// 4401 it asks Options.RefreshToken for a new token first.
//
// Recovery. When the server has recovery on, every topic publication carries
// its position (topic, epoch, offset). The client remembers the last
// position delivered per topic, drops duplicates, and holds back messages
// that arrive after a gap while it asks the server to replay what is missing
// (a subscription_update with recover:true and the last positions). It does
// the same for every wanted topic after a reconnect. When the server cannot
// replay (recovered:false), the client takes the server's position as its
// new baseline and delivers an EventMissedData, in order with the messages,
// so that the application knows exactly which range it lost. Either way each
// offset is delivered at most once and in order.
//
// Encryption. With Options.Encryption the client offers a fresh ECDH P-256
// key in every client_hello and waits for server_hello before the
// connection is ready. When the server answers with its key, both sides
// derive an AES-256-GCM key: the server's messages then arrive as "E:"
// binary frames, which the reader opens before decoding, and Send and the
// client's subscription requests are sealed too; pings, PONGs, errors and
// raw binary stay plaintext. When it answers without one (encryption
// disabled, key refused), the connection goes on in plaintext and an
// EventEncryptionRefused says so. Client.Encrypted tells which holds.
//
// Concurrency. Every method of Client is safe for concurrent use. Handlers
// (On, OnAny, OnEvent, Options.Handlers, Options.OnEvent) run one at a time
// on a single dispatcher goroutine, in the order messages and events
// arrived; the Messages and Events channels are fed by the same goroutine
// after the handlers. A handler that blocks holds up every later message;
// while the dispatcher queue (Options.QueueSize) is full the reader stops
// reading, and the server eventually drops the connection as a slow consumer
// (4429), after which the client reconnects and recovers. For that reason a
// handler should not wait for Subscribe or Unsubscribe replies when the
// queue may be full; start them on another goroutine. Close may be called
// from a handler.
//
// Goroutines. A client owns a supervisor goroutine (reconnects), a
// dispatcher goroutine, and per connection a reader and a pinger. When Close
// returns, the supervisor and the connection goroutines have ended; the
// dispatcher ends as soon as the handler it runs, if any, returns, and Done
// is closed then. A client that stops on its own (a close code that says
// stop, ErrAuthFailed, ErrGaveUp) ends them all the same way.
package wseclient
