package wse

import "errors"

// Sentinel errors returned (wrapped with context) by Server methods. Check
// them with errors.Is.
var (
	// ErrInvalidConfig reports a Config field that cannot be used.
	ErrInvalidConfig = errors.New("wse: invalid config")
	// ErrUnknownConnection reports a connection id that is not (or no longer) open.
	ErrUnknownConnection = errors.New("wse: unknown connection")
	// ErrServerStopped reports a call on a server that is not running.
	ErrServerStopped = errors.New("wse: server stopped")
	// ErrAlreadyRunning reports Start on a running server.
	ErrAlreadyRunning = errors.New("wse: server already running")
	// ErrInvalidTopic reports a topic that is empty, longer than 256 bytes or
	// has control characters.
	ErrInvalidTopic = errors.New("wse: invalid topic")
	// ErrForbidden reports topics refused by the connection's ACL.
	ErrForbidden = errors.New("wse: topic forbidden by ACL")
	// ErrSubscriptionLimit reports MaxSubscriptionsPerConnection reached.
	ErrSubscriptionLimit = errors.New("wse: subscription limit reached")
	// ErrQueueFull reports a message dropped because the connection's
	// outbound queue is over MaxOutboundQueueBytes.
	ErrQueueFull = errors.New("wse: outbound queue full")
	// ErrPresenceDataTooLarge reports presence data over Presence.MaxDataSize.
	ErrPresenceDataTooLarge = errors.New("wse: presence data too large")
	// ErrPresenceFull reports a topic at Presence.MaxMembers.
	ErrPresenceFull = errors.New("wse: presence member limit reached")
	// ErrPresenceDisabled reports a presence call while Presence.Enabled is false.
	ErrPresenceDisabled = errors.New("wse: presence disabled")
	// ErrNoPresence reports UpdatePresence on a connection without presence.
	ErrNoPresence = errors.New("wse: connection has no presence")
	// ErrInvalidCloseCode reports a close code outside 1000–4999.
	ErrInvalidCloseCode = errors.New("wse: invalid close code")
	// ErrClusterConnected reports ConnectCluster on a node already in a cluster.
	ErrClusterConnected = errors.New("wse: cluster already connected")
	// ErrNoCluster reports a cluster call on a server without a cluster.
	ErrNoCluster = errors.New("wse: no cluster connected")
	// ErrInvalidEvent reports an event that cannot be encoded.
	ErrInvalidEvent = errors.New("wse: invalid event")
	// ErrInvalidPresenceData reports presence data that is not a JSON object.
	ErrInvalidPresenceData = errors.New("wse: presence data is not a JSON object")
	// ErrRecoveryDisabled reports a recovery call while Recovery.Enabled is false.
	ErrRecoveryDisabled = errors.New("wse: recovery disabled")
)

// Handshake auth outcomes that are not token verification errors; they pick
// the AUTH_REQUIRED error code (PROTOCOL §1).
var (
	// errAuthRequired marks a handshake without a token.
	errAuthRequired = errors.New("wse: no token in cookie or Authorization header")
	// errNoAuthMessage marks a first-message-auth connection whose first
	// frame was not an auth message, or that sent none in time.
	errNoAuthMessage = errors.New("wse: no auth message")
)
