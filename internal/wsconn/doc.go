// Package wsconn is WSE's WebSocket transport: an RFC 6455 server endpoint
// built on the Linux epoll API instead of one goroutine per connection.
//
// The handshake runs on net/http (Upgrade). Engine.Adopt then takes the
// socket out of Go's runtime poller: it duplicates the file descriptor, closes
// the net.Conn and registers the duplicate with one of the Engine's own epoll
// loops. An Engine runs a fixed set of goroutines, whatever the number of
// connections: Config.Pollers poller goroutines (read and parse input, call the
// Handler), Config.Flushers flusher goroutines (write queued frames), and one
// timer goroutine (close timeouts). An idle connection holds no goroutine and
// no buffer.
//
// Output is a per-connection queue of pre-built frames (BuildFrame), bounded
// in bytes by Config.MaxQueueBytes. Conn.Enqueue never blocks and never makes
// an I/O system call: it appends the frame and, if the connection is not already
// scheduled, hands it to a flusher, which writes everything pending with as few
// writev calls as possible. Frames are shared, never modified, so one frame may
// be enqueued to many connections.
//
// # Concurrency contract
//
//   - All methods of Engine and Conn are safe for concurrent use.
//   - Enqueue, Close, CloseNow, Abort and Resume never block on the network
//     and never make a read or write system call on the caller's goroutine
//     (Abort shuts the socket down and wakes the poller).
//   - Handler.OnMessage runs on a poller goroutine. It must not block: while it
//     runs, no other connection of that poller is served. Its data is valid only
//     during the call. Calls for one connection are sequential. OnMessage may
//     run before Adopt has returned, unless AdoptOptions.Paused is set (then
//     it runs only after Conn.Resume).
//   - Handler.OnClose is called exactly once per adopted connection, on a
//     poller goroutine, never concurrently with OnMessage of the same
//     connection, and after the last OnMessage of that connection. Once a
//     close has started (ours or the peer's), data messages are no longer
//     delivered.
//   - Handlers may call any Conn method and Engine.Adopt, but not
//     Engine.Stop, which waits for the pollers.
//   - A file descriptor is closed only by its poller goroutine, under the
//     connection's descriptor lock, so no goroutine ever uses a descriptor
//     number after it has been closed (and possibly reused).
//
// The package is Linux only.
package wsconn
