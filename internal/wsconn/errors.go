package wsconn

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers test them with errors.Is; returned errors may wrap
// them with more context.
var (
	// ErrQueueFull is returned by Conn.Enqueue when the frame would take the
	// connection's pending output over Config.MaxQueueBytes. The frame is
	// dropped and counted in Stats.Dropped; the connection stays open.
	ErrQueueFull = errors.New("wsconn: queue full")
	// ErrTotalQueueFull is returned by Conn.Enqueue when the engine's pending
	// output is over Config.MaxTotalQueueBytes and this connection is one of
	// those backed up. It wraps ErrQueueFull.
	ErrTotalQueueFull = fmt.Errorf("%w: engine-wide output bound reached", ErrQueueFull)
	// ErrClosed is returned when writing to a connection that is closing or
	// closed.
	ErrClosed = errors.New("wsconn: connection closed")
	// ErrInvalidConfig is returned by NewEngine for an invalid Config.
	ErrInvalidConfig = errors.New("wsconn: invalid config")
	// ErrStopped is returned by Engine.Adopt and Engine.Start after Stop, and
	// by Adopt before Start.
	ErrStopped = errors.New("wsconn: engine stopped")
	// ErrUnsupportedConn is returned by Engine.Adopt when the net.Conn does not
	// expose a socket descriptor (it must implement syscall.Conn, as
	// *net.TCPConn does).
	ErrUnsupportedConn = errors.New("wsconn: connection has no socket descriptor")
	// ErrNilHandler is returned by Engine.Adopt when the Handler is nil.
	ErrNilHandler = errors.New("wsconn: nil handler")
	// ErrHandshake wraps every handshake failure returned by Upgrade.
	ErrHandshake = errors.New("wsconn: handshake failed")
	// ErrStarted is returned by Engine.Start when called twice.
	ErrStarted = errors.New("wsconn: engine already started")
)
