package wseclient

import (
	"strconv"
	"time"
)

// EventKind tells what an Event reports.
type EventKind int

// Event kinds.
const (
	// EventConnected: a connection is ready (server_ready received, and
	// server_hello with Options.Encryption), the first one and every one
	// after a reconnect. Event.ConnID is its id.
	EventConnected EventKind = iota + 1
	// EventDisconnected: the connection ended. Event.Err says why (a
	// *CloseError when the server closed it with a code).
	EventDisconnected
	// EventReconnecting: the client waits Event.Delay, then makes reconnect
	// attempt Event.Attempt (from 1).
	EventReconnecting
	// EventMissedData: messages of Event.Topic were lost and cannot be
	// replayed. The messages after Event.From up to and including Event.To
	// were not delivered, and delivery goes on after To. When the epochs
	// differ, the rest of From's epoch is lost too; To is the empty Position
	// when the server's topic has no messages yet (e.g. just after a
	// restart). Applications typically reload a snapshot of the topic.
	EventMissedData
	// EventSubscribeFailed: the server refused topics the client subscribed
	// on its own (Options.Topics, or again after a reconnect). They are no
	// longer resubscribed. Event.Failed lists them.
	EventSubscribeFailed
	// EventClosed: the client stopped for good; Event.Err is the reason
	// (ErrClosed after Close). It is the last event.
	EventClosed
	// EventEncryptionRefused: Options.Encryption asked for encryption but
	// the server answered client_hello without a key, because it has
	// encryption disabled or refused the client's key (an error
	// KEY_EXCHANGE_FAILED, which the handlers also receive). The
	// connection goes on in plaintext. Event.ConnID is the connection and
	// Event.Err, wrapping ErrEncryptionRefused, says why. It follows the
	// connection's EventConnected.
	EventEncryptionRefused
)

// String returns the name of k.
func (k EventKind) String() string {
	switch k {
	case EventConnected:
		return "connected"
	case EventDisconnected:
		return "disconnected"
	case EventReconnecting:
		return "reconnecting"
	case EventMissedData:
		return "missed_data"
	case EventSubscribeFailed:
		return "subscribe_failed"
	case EventClosed:
		return "closed"
	case EventEncryptionRefused:
		return "encryption_refused"
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}

// Event reports a change of the client's connection or subscriptions. It is
// delivered in order with the messages, on the dispatcher goroutine.
type Event struct {
	Kind     EventKind
	ConnID   string        // EventConnected, EventEncryptionRefused: the connection id
	Err      error         // EventDisconnected, EventClosed, EventEncryptionRefused: the cause
	Attempt  int           // EventReconnecting: the attempt number, from 1
	Delay    time.Duration // EventReconnecting: the wait before the attempt
	Topic    string        // EventMissedData: the topic
	From, To Position      // EventMissedData: the lost range (From, To]
	Failed   []FailedTopic // EventSubscribeFailed: the refused topics
}

// FailedTopic is a topic the server refused, with its code: "FORBIDDEN",
// "INVALID_TOPIC" or "LIMIT".
type FailedTopic struct {
	Topic string `json:"topic"`
	Code  string `json:"code"`
}

// RecoveryResult is the server's recovery answer for one topic of a
// subscription: its current position, whether the missed messages were
// replayed (before the reply), and how many.
type RecoveryResult struct {
	Epoch     string
	Offset    uint64
	Recovered bool
	Count     int
}

// SubscribeResult is the server's reply to Subscribe or Unsubscribe.
type SubscribeResult struct {
	// Granted are the topics subscribed (or unsubscribed).
	Granted []string
	// Failed are the topics refused, with the reason.
	Failed []FailedTopic
	// Recovery holds, when the server has recovery on, the position of every
	// granted topic and whether the messages missed since the client's last
	// position were replayed.
	Recovery map[string]RecoveryResult
}

// Features are the optional server features announced in server_ready.
type Features struct {
	Compression bool
	Recovery    bool
	Presence    bool
	Cluster     bool
	Encryption  bool
	MsgPack     bool
}
