package protocol

// Version is the wire protocol version (field "v").
const Version = 1

// WebSocket close codes sent by the server (PROTOCOL §8).
//
// WARNING: these are wire numbers that deployed clients act on. Never change
// or reuse a value; only append new codes.
const (
	// CloseNormal ends a connection normally (the client asked). Final.
	CloseNormal = 1000
	// CloseGoingAway means the server is stopping for good. Final.
	CloseGoingAway = 1001
	// CloseMessageTooBig means the client sent a message over the size limit.
	CloseMessageTooBig = 1009
	// CloseDrain means a rolling restart: reconnect, preferably elsewhere.
	CloseDrain = 4300
	// CloseAuthFailed means authentication failed; refresh the token, then reconnect.
	CloseAuthFailed = 4401
	// CloseForbidden means the application disconnected the client. Final.
	CloseForbidden = 4403
	// CloseIdleTimeout means nothing was received for the idle timeout; reconnect.
	CloseIdleTimeout = 4408
	// CloseSlowConsumer means the outbound queue went over its limit; reconnect and recover.
	CloseSlowConsumer = 4429
	// CloseBackendUnavailable means the application backend that decides
	// connections (the connect hook) failed; reconnect with backoff.
	CloseBackendUnavailable = 4503
)

// ShouldReconnect reports whether a client should reconnect after the server
// closed with code. Only CloseNormal, CloseGoingAway and CloseForbidden are
// final; every other code, known or not, allows a reconnect (for
// CloseAuthFailed, after refreshing the token).
func ShouldReconnect(code int) bool {
	switch code {
	case CloseNormal, CloseGoingAway, CloseForbidden:
		return false
	default:
		return true
	}
}

// Error codes carried in p.code of "error" messages (PROTOCOL §9), and CodeLimit
// for failed_topics entries of subscription replies.
//
// WARNING: wire strings that clients match on. Never change a value; only
// append new codes.
const (
	// CodeAuthRequired means no token came with the upgrade.
	CodeAuthRequired = "AUTH_REQUIRED"
	// CodeAuthFailed means the token was rejected.
	CodeAuthFailed = "AUTH_FAILED"
	// CodeRateLimited means the inbound rate limit dropped a message.
	CodeRateLimited = "RATE_LIMITED"
	// CodeMessageTooLarge means a message, or its inflated form, was over the limit.
	CodeMessageTooLarge = "MESSAGE_TOO_LARGE"
	// CodeInvalidMessage means a protocol message could not be understood.
	CodeInvalidMessage = "INVALID_MESSAGE"
	// CodeInvalidTopic means a topic name is not valid.
	CodeInvalidTopic = "INVALID_TOPIC"
	// CodeForbidden means the topic ACL denied the request.
	CodeForbidden = "FORBIDDEN"
	// CodeKeyExchangeFailed means the ECDH key exchange of client_hello failed.
	CodeKeyExchangeFailed = "KEY_EXCHANGE_FAILED"
	// CodeServerError means an internal error on the server.
	CodeServerError = "SERVER_ERROR"
	// CodeLimit is the failed_topics code for a topic over the subscription limit.
	CodeLimit = "LIMIT"
	// CodeBackendUnavailable means an application backend hook failed, so
	// the request could not be decided (docs/hooks.md).
	CodeBackendUnavailable = "BACKEND_UNAVAILABLE"
)

// Message types ("t") that the protocol itself defines.
//
// WARNING: wire strings; append only.
const (
	// TypeServerReady is the first frame a client receives.
	TypeServerReady = "server_ready"
	// TypeClientHello is the client's negotiation message.
	TypeClientHello = "client_hello"
	// TypeServerHello answers TypeClientHello.
	TypeServerHello = "server_hello"
	// TypeSubscriptionUpdate is a client subscription request and its reply.
	TypeSubscriptionUpdate = "subscription_update"
	// TypeSubscription is the alternative name of a client subscription request.
	TypeSubscription = "subscription"
	// TypeBatch carries several client messages in p.messages.
	TypeBatch = "batch"
	// TypeError is an error report to the client.
	TypeError = "error"
	// TypePing is a heartbeat ping, from either side.
	TypePing = "ping"
	// TypePong is the answer to TypePing.
	TypePong = "PONG"
	// TypePongLower is the lower-case answer some clients send.
	TypePongLower = "pong"
	// TypePresenceJoin reports a user joining a topic.
	TypePresenceJoin = "presence_join"
	// TypePresenceLeave reports a user leaving a topic.
	TypePresenceLeave = "presence_leave"
	// TypePresenceUpdate reports changed presence data.
	TypePresenceUpdate = "presence_update"
	// TypeRateLimitWarning warns that the inbound rate limit is nearly used up.
	TypeRateLimitWarning = "rate_limit_warning"
)

// Subscription actions (p.action of a subscription request).
const (
	// ActionSubscribe subscribes to the listed topics (the default).
	ActionSubscribe = "subscribe"
	// ActionUnsubscribe unsubscribes from the listed topics.
	ActionUnsubscribe = "unsubscribe"
)
