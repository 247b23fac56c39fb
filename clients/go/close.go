package wseclient

// CloseCode is a WebSocket close code (RFC 6455 §7.4, PROTOCOL §8).
type CloseCode int

// Close codes the client knows. These are wire numbers: never change a value.
const (
	// CloseNormal: the client or the application closed the connection. Stop.
	CloseNormal CloseCode = 1000
	// CloseGoingAway: the server is stopping for good. Stop.
	CloseGoingAway CloseCode = 1001
	// CloseNoStatus is reported for a close frame without a code. Reconnect.
	CloseNoStatus CloseCode = 1005
	// CloseTooBig: a message was over the server's size limit. Reconnect.
	CloseTooBig CloseCode = 1009
	// CloseDrain: the server is draining for a rolling restart. Reconnect.
	CloseDrain CloseCode = 4300
	// CloseAuthFailed: the token was missing or refused. Refresh it, then
	// reconnect.
	CloseAuthFailed CloseCode = 4401
	// CloseForbidden: the application disconnected the client on purpose.
	// Stop.
	CloseForbidden CloseCode = 4403
	// CloseIdleTimeout: the client sent nothing for too long. Reconnect.
	CloseIdleTimeout CloseCode = 4408
	// CloseSlowConsumer: the client read too slowly. Reconnect and recover.
	CloseSlowConsumer CloseCode = 4429
)

// Reconnect reports whether the client reconnects after the server closed
// with c: every code but 1000, 1001 and 4403. After 4401 it reconnects only
// once Options.RefreshToken has produced a new token.
func (c CloseCode) Reconnect() bool {
	switch c {
	case CloseNormal, CloseGoingAway, CloseForbidden:
		return false
	}
	return true
}
