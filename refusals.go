package wse

import (
	"sync/atomic"

	"github.com/wse-go/wse/internal/wsconn"
	"github.com/wse-go/wse/protocol"
)

// refusal is one reason the server refuses a client: an HTTP status before
// the upgrade, a close code, an error frame or a failed topic.
type refusal int

// Refusal reasons. Their names are the reason labels of wse_refusals_total
// and the keys of Health.Refusals.
//
// WARNING: dashboards and alerts match on the names. Never rename one; only
// append.
const (
	refusalDraining        refusal = iota // HTTP 503: stopping or draining
	refusalOrigin                         // HTTP 403: Origin not allowed
	refusalHandshakeLimit                 // HTTP 503: MaxPendingHandshakes
	refusalConnectionLimit                // HTTP 503: MaxConnections
	refusalBadUpgrade                     // HTTP 400/426: not a valid WebSocket upgrade
	refusalBadHTTPRequest                 // HTTP 400/431 or timeout from net/http before the upgrade handler
	refusalAuthRequired                   // 4401 with AUTH_REQUIRED
	refusalAuthFailed                     // 4401 with AUTH_FAILED
	refusalProtocolError                  // 1002: malformed frame
	refusalInvalidPayload                 // 1007: invalid UTF-8 text or close payload
	refusalMessageTooBig                  // 1009: frame, message or inflated message over MaxMessageSize
	refusalRateLimited                    // RATE_LIMITED error frame (message dropped)
	refusalInvalidMessage                 // INVALID_MESSAGE error frame
	refusalDecryptFailed                  // INVALID_MESSAGE for an "E:" frame that cannot be opened
	refusalKeyExchange                    // KEY_EXCHANGE_FAILED error frame
	refusalInvalidTopic                   // INVALID_TOPIC failed topic
	refusalForbidden                      // FORBIDDEN failed topic (ACL)
	refusalLimit                          // LIMIT failed topic or error (subscription or presence limit)
	refusalServerError                    // SERVER_ERROR error frame
	refusalIdleTimeout                    // 4408: nothing received for IdleTimeout
	refusalSlowConsumer                   // 4429: outbound queue stayed over MaxOutboundQueueBytes
	refusalOutputBudget                   // 4429: backed up while the process was over MaxTotalOutboundBytes
	refusalInputBudget                    // 1013: incomplete input of all connections over MaxInboundBufferBytes
	numRefusals
)

// refusalNames are the labels of the refusal reasons, by refusal.
var refusalNames = [numRefusals]string{
	refusalDraining:        "draining",
	refusalOrigin:          "origin_forbidden",
	refusalHandshakeLimit:  "handshake_limit",
	refusalConnectionLimit: "connection_limit",
	refusalBadUpgrade:      "bad_upgrade",
	refusalBadHTTPRequest:  "bad_http_request",
	refusalAuthRequired:    "auth_required",
	refusalAuthFailed:      "auth_failed",
	refusalProtocolError:   "protocol_error",
	refusalInvalidPayload:  "invalid_payload",
	refusalMessageTooBig:   "message_too_big",
	refusalRateLimited:     "rate_limited",
	refusalInvalidMessage:  "invalid_message",
	refusalDecryptFailed:   "decrypt_failed",
	refusalKeyExchange:     "key_exchange_failed",
	refusalInvalidTopic:    "invalid_topic",
	refusalForbidden:       "forbidden",
	refusalLimit:           "limit",
	refusalServerError:     "server_error",
	refusalIdleTimeout:     "idle_timeout",
	refusalSlowConsumer:    "slow_consumer",
	refusalOutputBudget:    "output_budget",
	refusalInputBudget:     "input_budget",
}

// RefusalReasons returns every refusal reason label, in a fixed order.
func RefusalReasons() []string { return append([]string(nil), refusalNames[:]...) }

// refusalCounters counts refusals by reason.
type refusalCounters [numRefusals]atomic.Uint64

// refuse counts one refusal.
func (s *Server) refuse(r refusal) { s.refusals[r].Add(1) }

// refusalOfCode returns the refusal an error frame or failed topic with
// code stands for.
func refusalOfCode(code string) refusal {
	switch code {
	case protocol.CodeAuthRequired:
		return refusalAuthRequired
	case protocol.CodeAuthFailed:
		return refusalAuthFailed
	case protocol.CodeRateLimited:
		return refusalRateLimited
	case protocol.CodeMessageTooLarge:
		return refusalMessageTooBig
	case protocol.CodeInvalidTopic:
		return refusalInvalidTopic
	case protocol.CodeForbidden:
		return refusalForbidden
	case protocol.CodeKeyExchangeFailed:
		return refusalKeyExchange
	case protocol.CodeLimit:
		return refusalLimit
	case protocol.CodeInvalidMessage:
		return refusalInvalidMessage
	default:
		return refusalServerError
	}
}

// Refusals returns the number of refusals by reason (RefusalReasons): HTTP
// statuses before the upgrade, close codes, error frames and failed
// topics. Every reason is present.
func (s *Server) Refusals() map[string]uint64 { return s.refusalCounts(s.engine.Stats()) }

// refusalCounts returns every reason's count: the engine's own and the
// transport's close codes (1002, 1007, 1009 from the frame parser).
func (s *Server) refusalCounts(t wsconn.Stats) map[string]uint64 {
	out := make(map[string]uint64, numRefusals)
	for i := range s.refusals {
		out[refusalNames[i]] = s.refusals[i].Load()
	}
	out[refusalNames[refusalProtocolError]] += t.Refused[wsconn.CloseProtocolError]
	out[refusalNames[refusalInvalidPayload]] += t.Refused[wsconn.CloseInvalidPayload]
	out[refusalNames[refusalMessageTooBig]] += t.Refused[wsconn.CloseMessageTooBig]
	out[refusalNames[refusalInputBudget]] += t.Refused[wsconn.CloseTryAgainLater]
	return out
}
