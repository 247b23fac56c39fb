package wseclient

import (
	"errors"
	"fmt"
)

// Errors returned by the client. Errors from Dial, Err and Event.Err wrap
// them (check with errors.Is) or are a *CloseError (check with errors.As).
var (
	// ErrClosed is returned by calls on a client after Close, and by Err
	// once Close stopped it.
	ErrClosed = errors.New("wseclient: client closed")
	// ErrNotConnected is returned by Send while the client is between
	// connections.
	ErrNotConnected = errors.New("wseclient: not connected")
	// ErrConnectionLost is returned by Subscribe and Unsubscribe when the
	// connection ended before the server replied.
	ErrConnectionLost = errors.New("wseclient: connection lost")
	// ErrNoServerReady means the server did not send server_ready (or,
	// with Options.Encryption, server_hello) in time.
	ErrNoServerReady = errors.New("wseclient: no server_ready")
	// ErrEncryptionRefused is wrapped by the Err of EventEncryptionRefused:
	// the server answered client_hello without a key, so the connection is
	// in plaintext.
	ErrEncryptionRefused = errors.New("wseclient: encryption refused")
	// ErrKeyExchange means server_hello carried a public key the client
	// cannot use; the connection is closed (Dial fails with it, and a later
	// connection ends with it and reconnects).
	ErrKeyExchange = errors.New("wseclient: key exchange failed")
	// ErrAuthFailed means the server refused the token (close code 4401)
	// and no new one could be had from Options.RefreshToken.
	ErrAuthFailed = errors.New("wseclient: authentication failed")
	// ErrGaveUp means Reconnect.MaxAttempts reconnection attempts failed.
	ErrGaveUp = errors.New("wseclient: gave up reconnecting")
	// ErrNotWSE is returned by Decode for a frame that is not a WSE message
	// (no JSON object, no known prefix).
	ErrNotWSE = errors.New("wseclient: not a WSE message")
	// ErrInvalidMessage is returned by Decode for a frame with a WSE prefix
	// or JSON start that does not decode (bad JSON, zlib or MessagePack).
	ErrInvalidMessage = errors.New("wseclient: invalid message")
	// ErrTooLarge is returned by Decode when a compressed message inflates
	// beyond the size limit.
	ErrTooLarge = errors.New("wseclient: message too large")
	// ErrInvalidURL is returned by Dial for a URL that is not ws:// or wss://.
	ErrInvalidURL = errors.New("wseclient: invalid url")
	// ErrEmptyQueueGroup is returned by SubscribeQueue and UnsubscribeQueue
	// for an empty group name.
	ErrEmptyQueueGroup = errors.New("wseclient: empty queue group")
)

// errDecrypt marks an "E:" frame that could not be decrypted (see
// Client.DecryptFailures).
var errDecrypt = errors.New("wseclient: cannot decrypt frame")

// CloseError is the end of a connection that the server closed with a close
// code (PROTOCOL §8). Code.Reconnect tells whether the client went on.
type CloseError struct {
	Code   CloseCode // the close code; CloseNoStatus when the frame had none
	Reason string    // the close reason, possibly empty
}

// Error implements error.
func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("wseclient: closed by server with code %d", int(e.Code))
	}
	return fmt.Sprintf("wseclient: closed by server with code %d (%s)", int(e.Code), e.Reason)
}
