package wse

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrBroker wraps a broker failure reported to a publisher: the publication
// reached this node's subscribers but not necessarily the other nodes'.
var ErrBroker = errors.New("wse: broker")

// Broker connects the nodes that share it (Config.Broker): a publication on
// one node reaches the subscribers of every node with interest in its
// topic. Without a Broker the server delivers in process, alone or through
// its mesh (ConnectCluster). Implementations live in broker/redis and
// broker/nats.
//
// Every method is safe for concurrent use. Methods that take a context may
// block for a network round trip; the others do not block.
type Broker interface {
	// Start connects the broker for the node named node and registers h,
	// which receives the node's inbound traffic until Close. The server
	// calls it once, from Start, and refuses to start when it fails (the
	// broker server is unreachable or the configuration is wrong).
	Start(node string, h BrokerHandler) error
	// Publish sends body to every node with interest in topic. With
	// opts.History and a HistoryBroker it is first appended to the topic's
	// shared stream, and the position it got is returned; every node with
	// interest, this one included, then receives it through
	// HandlePublication with that position. Without history the
	// publishing node does not receive its own publication. An error means
	// the other nodes may not receive it.
	Publish(ctx context.Context, topic string, body []byte, opts PublishOptions) (Position, error)
	// Subscribe registers the node's interest in topic and returns once
	// the topic's publications flow to it. When it fails, the interest is
	// kept and re-established when the broker is reachable again.
	Subscribe(ctx context.Context, topic string) error
	// Unsubscribe withdraws the node's interest in topic.
	Unsubscribe(ctx context.Context, topic string) error
	// Status reports the connection state and counters.
	Status() BrokerStatus
	// Close disconnects; it is idempotent.
	Close() error
}

// HistoryBroker is a Broker that keeps each topic's publications in a
// stream shared by every node, with the recovery contract of the local
// buffers: an epoch that changes whenever the stream is lost, offsets that
// grow by exactly one per publication across all nodes. The stamps tp/e/o
// then mean the same on every node, so a client recovers on any node.
type HistoryBroker interface {
	Broker
	// History returns the stream's current position and up to limit
	// publications with offsets after since, oldest first (limit 0: only
	// the position). An empty epoch means the topic has no stream.
	History(ctx context.Context, topic string, since uint64, limit int) (HistoryResult, error)
}

// PresenceManager keeps presence in a store shared by the nodes. The server
// writes its own members through it and reads the other nodes' members
// every Presence.SyncInterval; changes also arrive at once through
// BrokerHandler.HandlePresence. An entry a node stops refreshing (a crashed
// node) expires after a bound the implementation documents.
type PresenceManager interface {
	// SetPresence records (or updates) this node's entry for e.User in
	// topic. It does not block: the write happens in the background, and
	// every entry is rewritten periodically, so a failed write heals.
	SetPresence(topic string, e PresenceEntry)
	// RemovePresence removes this node's entry for user in topic, without
	// blocking.
	RemovePresence(topic, user string)
	// Presence returns the unexpired entries of every node for topic.
	Presence(ctx context.Context, topic string) ([]PresenceEntry, error)
	// PresenceStats counts the distinct users and the connections of
	// topic over every node.
	PresenceStats(ctx context.Context, topic string) (PresenceStats, error)
}

// BrokerHandler receives a node's inbound broker traffic. Its methods are
// called from the broker's receive goroutine, in the order the broker
// received the messages; they may block briefly (HandlePublication may
// read history to close a gap).
type BrokerHandler interface {
	// HandlePublication delivers a publication of another node (or, with
	// history, of any node) to local subscribers of topic.
	HandlePublication(topic string, pub Publication)
	// HandlePresence applies another node's presence change.
	HandlePresence(topic string, e PresenceEntry, leave bool)
	// HandleReconnect reports that the broker connection was lost and is
	// back, with every subscription re-established: publications may have
	// been missed meanwhile.
	HandleReconnect()
}

// PublishOptions are the per-publication knobs of Broker.Publish.
type PublishOptions struct {
	// History appends the publication to the topic's shared stream.
	History bool
}

// Publication is one message received from the broker.
type Publication struct {
	// Epoch and Offset are the stream position; Offset 0 means the
	// publication is not in the stream (no history).
	Epoch  string
	Offset uint64
	// Body is the message text, category injected, not stamped.
	Body []byte
}

// HistoryResult is the answer of HistoryBroker.History.
type HistoryResult struct {
	// Position is the stream's last position (epoch, last offset).
	Position Position
	// Publications are the messages after the requested offset.
	Publications []Publication
}

// PresenceEntry is one node's presence of one user in a topic.
type PresenceEntry struct {
	// Node is the node the connections are on.
	Node string `json:"n"`
	// User is the user id.
	User string `json:"u"`
	// Conns is the user's connection count on Node.
	Conns int `json:"c"`
	// Data is the user's presence data, TS its change time (unix nanos,
	// last write wins across nodes).
	Data json.RawMessage `json:"d,omitempty"`
	TS   int64           `json:"ts"`
}

// BrokerStatus is what a broker reports for /health and /metrics.
type BrokerStatus struct {
	// Name is the broker kind: "redis" or "nats".
	Name string `json:"name"`
	// Connected reports whether the broker connection is up.
	Connected bool `json:"connected"`
	// Published counts publications sent, PublishErrors those that failed.
	Published     uint64 `json:"published"`
	PublishErrors uint64 `json:"publish_errors"`
	// Received counts publications received, ReceiveErrors messages that
	// could not be decoded or handled.
	Received      uint64 `json:"received"`
	ReceiveErrors uint64 `json:"receive_errors"`
	// Reconnects counts re-established broker connections.
	Reconnects uint64 `json:"reconnects"`
	// PublishLatency is the mean publish round trip.
	PublishLatency time.Duration `json:"publish_latency_ns"`
}
