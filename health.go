package wse

import (
	"fmt"
	"github.com/wse-go/wse/cluster"
	"github.com/wse-go/wse/internal/ring"
	"github.com/wse-go/wse/internal/wsconn"
	"sync/atomic"
	"time"
)

// counters are the engine's monotonic counters.
type counters struct {
	handshakes          atomic.Uint64
	accepted            atomic.Uint64
	rejected            atomic.Uint64
	authFailures        atomic.Uint64
	messagesIn          atomic.Uint64
	bytesIn             atomic.Uint64
	framesOut           atomic.Uint64
	published           atomic.Uint64
	rateLimited         atomic.Uint64
	slowConsumerDrops   atomic.Uint64
	slowConsumerCloses  atomic.Uint64
	idleCloses          atomic.Uint64
	oversized           atomic.Uint64
	invalidMessages     atomic.Uint64
	recoveries          atomic.Uint64
	recovered           atomic.Uint64
	replayed            atomic.Uint64
	recoveryEvictions   atomic.Uint64
	encryptedConns      atomic.Uint64
	keyExchangeFailures atomic.Uint64
	decryptFailures     atomic.Uint64
	// clusterEpochRenewals counts OnLinkGap renewals of the recovery epochs.
	clusterEpochRenewals atomic.Uint64
}

// Health is the health snapshot; its JSON field names are the keys of the
// original WSE server's health snapshot, so existing dashboards keep working.
type Health struct {
	Connections                int     `json:"connections"`
	InboundQueueDepth          int     `json:"inbound_queue_depth"`
	InboundDropped             uint64  `json:"inbound_dropped"`
	ClusterConnected           bool    `json:"cluster_connected"`
	ClusterPeerCount           int     `json:"cluster_peer_count"`
	ClusterMessagesSent        uint64  `json:"cluster_messages_sent"`
	ClusterMessagesDelivered   uint64  `json:"cluster_messages_delivered"`
	ClusterMessagesDropped     uint64  `json:"cluster_messages_dropped"`
	ClusterBytesSent           uint64  `json:"cluster_bytes_sent"`
	ClusterBytesReceived       uint64  `json:"cluster_bytes_received"`
	ClusterReconnectCount      uint64  `json:"cluster_reconnect_count"`
	ClusterUnknownMessageTypes uint64  `json:"cluster_unknown_message_types"`
	ClusterDLQSize             int     `json:"cluster_dlq_size"`
	UptimeSecs                 float64 `json:"uptime_secs"`
	RecoveryEnabled            bool    `json:"recovery_enabled"`
	RecoveryTopicCount         int     `json:"recovery_topic_count"`
	RecoveryTotalBytes         int64   `json:"recovery_total_bytes"`
	PresenceEnabled            bool    `json:"presence_enabled"`
	PresenceTopics             int     `json:"presence_topics"`
	PresenceTotalUsers         int     `json:"presence_total_users"`
	// Broker is the broker's state, absent without one (the keys above
	// are the seed's, exactly).
	Broker *BrokerHealth `json:"broker,omitempty"`
}

// BrokerHealth is the broker part of the health snapshot.
type BrokerHealth struct {
	// Name is "redis" or "nats"; Connected reports whether the broker
	// connection is up.
	Name      string `json:"name"`
	Connected bool   `json:"connected"`
}

// Metrics is a snapshot of every engine counter and gauge, for exporters
// such as the Prometheus endpoint of wse-server.
type Metrics struct {
	Health
	// Topics is the number of topics with at least one local subscriber.
	Topics int `json:"topics"`
	// Refusals counts refusals by reason (RefusalReasons): HTTP statuses
	// before the upgrade, close codes, error frames and failed topics.
	Refusals map[string]uint64 `json:"refusals"`
	// InboundBufferBytes is the input held in incomplete frames and
	// fragmented messages over all connections (MaxInboundBufferBytes).
	InboundBufferBytes int64 `json:"inbound_buffer_bytes"`
	// InboundQueueBytes is the heap estimate (Event.Size) of the events
	// waiting in the inbound queue, bounded by MaxInboundQueueBytes.
	InboundQueueBytes int64 `json:"inbound_queue_bytes"`
	// HandshakesTotal counts upgrade requests on the WebSocket path.
	HandshakesTotal uint64 `json:"handshakes_total"`
	// ConnectionsAccepted counts registered connections.
	ConnectionsAccepted uint64 `json:"connections_accepted_total"`
	// ConnectionsRejected counts refused upgrades (503, 403, failed upgrade).
	ConnectionsRejected uint64 `json:"connections_rejected_total"`
	// AuthFailures counts connections closed with 4401.
	AuthFailures uint64 `json:"auth_failures_total"`
	// MessagesReceived counts client data messages.
	MessagesReceived uint64 `json:"messages_received_total"`
	// BytesReceived counts client payload bytes.
	BytesReceived uint64 `json:"bytes_received_total"`
	// MessagesSent counts frames queued to connections.
	MessagesSent uint64 `json:"messages_sent_total"`
	// BytesSent counts bytes written to sockets.
	BytesSent uint64 `json:"bytes_sent_total"`
	// Writes counts write system calls (one per coalesced batch).
	Writes uint64 `json:"writes_total"`
	// Publications counts topic and broadcast-all publications.
	Publications uint64 `json:"publications_total"`
	// RateLimited counts client messages dropped by the rate limiter.
	RateLimited uint64 `json:"rate_limited_total"`
	// SlowConsumerDrops counts messages dropped for a full outbound queue.
	SlowConsumerDrops uint64 `json:"slow_consumer_drops_total"`
	// SlowConsumerCloses counts connections closed with 4429.
	SlowConsumerCloses uint64 `json:"slow_consumer_closes_total"`
	// IdleCloses counts connections closed with 4408.
	IdleCloses uint64 `json:"idle_closes_total"`
	// Oversized counts messages over MaxMessageSize: frames and messages
	// refused by the frame parser (1009) and inflated "C:" messages.
	Oversized uint64 `json:"oversized_total"`
	// InvalidMessages counts malformed protocol messages.
	InvalidMessages uint64 `json:"invalid_messages_total"`
	// Recoveries counts recovering subscriptions; Recovered those that
	// replayed everything missed; Replayed the messages replayed.
	Recoveries uint64 `json:"recoveries_total"`
	Recovered  uint64 `json:"recovered_total"`
	Replayed   uint64 `json:"replayed_total"`
	// RecoveryEvictions counts recovery buffers dropped by TTL or budget.
	RecoveryEvictions uint64 `json:"recovery_evictions_total"`
	// EncryptedConnections counts connections that negotiated end-to-end
	// encryption; KeyExchangeFailures client_hellos with an unusable key;
	// DecryptFailures "E:" frames that could not be decrypted (dropped).
	EncryptedConnections uint64 `json:"encrypted_connections_total"`
	KeyExchangeFailures  uint64 `json:"key_exchange_failures_total"`
	DecryptFailures      uint64 `json:"decrypt_failures_total"`
	// ClusterTLSRefused counts peer TLS handshakes refused (e.g. a
	// certificate not signed by the cluster CA).
	ClusterTLSRefused uint64 `json:"cluster_tls_refused_total"`
	// ClusterBadFrames counts peer links closed for a malformed or oversized frame.
	ClusterBadFrames uint64 `json:"cluster_bad_frames_total"`
	// ClusterHandshakeFailures counts peer links refused before they came up.
	ClusterHandshakeFailures uint64 `json:"cluster_handshake_failures_total"`
	// BrokerPublished and BrokerPublishErrors count publications sent to
	// the broker and those it refused; BrokerReceived publications
	// received from it, BrokerReceiveErrors messages it sent that could
	// not be used; BrokerReconnects re-established connections.
	BrokerPublished     uint64 `json:"broker_published_total"`
	BrokerPublishErrors uint64 `json:"broker_publish_errors_total"`
	BrokerReceived      uint64 `json:"broker_received_total"`
	BrokerReceiveErrors uint64 `json:"broker_receive_errors_total"`
	BrokerReconnects    uint64 `json:"broker_reconnects_total"`
	// BrokerPublishLatency is the mean publish round trip in seconds.
	BrokerPublishLatency float64 `json:"broker_publish_latency_seconds"`
	// BrokerGaps counts holes seen in a topic's shared stream on receipt,
	// BrokerGapsFilled those closed from its history (the others reach
	// clients as an offset jump they recover from); BrokerFallbacks
	// publications delivered to local subscribers only because the broker
	// refused them; BrokerSubscribeErrors interest changes it refused.
	BrokerGaps            uint64 `json:"broker_gaps_total"`
	BrokerGapsFilled      uint64 `json:"broker_gaps_filled_total"`
	BrokerFallbacks       uint64 `json:"broker_fallbacks_total"`
	BrokerSubscribeErrors uint64 `json:"broker_subscribe_errors_total"`
	// ClusterTLSReloads counts successful ReloadClusterTLS calls.
	ClusterTLSReloads uint64 `json:"cluster_tls_reloads_total"`
	// ClusterLinkGaps counts peer links lost without SHUTDOWN or regained
	// after that (messages may have been lost); ClusterEpochRenewals the
	// times this node renewed its recovery epochs for it.
	ClusterLinkGaps      uint64 `json:"cluster_link_gaps_total"`
	ClusterEpochRenewals uint64 `json:"cluster_epoch_renewals_total"`
}

// HealthSnapshot returns the health snapshot.
func (s *Server) HealthSnapshot() Health {
	h := Health{
		Connections:        s.ConnectionCount(),
		InboundQueueDepth:  s.InboundQueueDepth(),
		InboundDropped:     s.InboundDropped(),
		RecoveryEnabled:    s.cfg.Recovery.Enabled,
		PresenceEnabled:    s.cfg.Presence.Enabled,
		PresenceTopics:     int(s.presence.topics.Load()),
		PresenceTotalUsers: int(s.presence.users.Load()),
	}
	if n := s.clusterNode(); n != nil {
		st := n.Stats()
		h.ClusterConnected = st.PeersConnected > 0
		h.ClusterPeerCount = st.PeersConnected
		h.ClusterMessagesSent = st.MessagesSent
		h.ClusterMessagesDelivered = st.MessagesDelivered
		h.ClusterMessagesDropped = st.MessagesDropped
		h.ClusterBytesSent = st.BytesSent
		h.ClusterBytesReceived = st.BytesReceived
		h.ClusterReconnectCount = st.Reconnects
		h.ClusterUnknownMessageTypes = st.UnknownFrames
		h.ClusterDLQSize = st.DLQSize
	}
	if st, ok := s.BrokerStatus(); ok {
		h.Broker = &BrokerHealth{Name: st.Name, Connected: st.Connected}
	}
	if s.ring != nil {
		st := s.ring.Stats()
		h.RecoveryTopicCount = st.Topics
		h.RecoveryTotalBytes = st.Bytes
	}
	if s.running.Load() {
		h.UptimeSecs = time.Since(s.started).Seconds()
	}
	return h
}

// Metrics returns every counter and gauge of the engine.
func (s *Server) Metrics() Metrics {
	t := s.engine.Stats()
	var cs cluster.Stats
	if n := s.clusterNode(); n != nil {
		cs = n.Stats()
	}
	bs, _ := s.BrokerStatus()
	return Metrics{
		BrokerPublished:          bs.Published,
		BrokerPublishErrors:      bs.PublishErrors,
		BrokerReceived:           bs.Received,
		BrokerReceiveErrors:      bs.ReceiveErrors,
		BrokerReconnects:         bs.Reconnects,
		BrokerPublishLatency:     bs.PublishLatency.Seconds(),
		BrokerGaps:               s.brokerStats.gaps.Load(),
		BrokerGapsFilled:         s.brokerStats.gapsFilled.Load(),
		BrokerFallbacks:          s.brokerStats.fallbacks.Load(),
		BrokerSubscribeErrors:    s.brokerStats.subscribeErrors.Load(),
		ClusterTLSRefused:        cs.TLSRefused,
		ClusterBadFrames:         cs.BadFrames,
		ClusterHandshakeFailures: cs.HandshakeFailures,
		ClusterTLSReloads:        cs.TLSReloads,
		ClusterLinkGaps:          cs.LinkGaps,
		ClusterEpochRenewals:     s.stats.clusterEpochRenewals.Load(),
		Health:                   s.HealthSnapshot(),
		Topics:                   s.hub.topicCount(),
		InboundQueueBytes:        s.in.bytes.Load(),
		InboundBufferBytes:       t.ReadBufferedBytes,
		Refusals:                 s.refusalCounts(t),
		HandshakesTotal:          s.stats.handshakes.Load(),
		ConnectionsAccepted:      s.stats.accepted.Load(),
		ConnectionsRejected:      s.stats.rejected.Load(),
		AuthFailures:             s.stats.authFailures.Load(),
		MessagesReceived:         s.stats.messagesIn.Load(),
		BytesReceived:            s.stats.bytesIn.Load(),
		MessagesSent:             s.stats.framesOut.Load(),
		BytesSent:                t.BytesOut,
		Writes:                   t.Writes,
		Publications:             s.stats.published.Load(),
		RateLimited:              s.stats.rateLimited.Load(),
		SlowConsumerDrops:        s.stats.slowConsumerDrops.Load(),
		SlowConsumerCloses:       s.stats.slowConsumerCloses.Load(),
		IdleCloses:               s.stats.idleCloses.Load(),
		Oversized:                s.stats.oversized.Load() + t.Refused[wsconn.CloseMessageTooBig],
		InvalidMessages:          s.stats.invalidMessages.Load(),
		Recoveries:               s.stats.recoveries.Load(),
		Recovered:                s.stats.recovered.Load(),
		Replayed:                 s.stats.replayed.Load(),
		RecoveryEvictions:        s.stats.recoveryEvictions.Load() + ringEvictions(s.ring),
		EncryptedConnections:     s.stats.encryptedConns.Load(),
		KeyExchangeFailures:      s.stats.keyExchangeFailures.Load(),
		DecryptFailures:          s.stats.decryptFailures.Load(),
	}
}

// ringEvictions returns the buffers the store dropped for its memory budget.
func ringEvictions(st *ring.Store) uint64 {
	if st == nil {
		return 0
	}
	return st.Stats().EvictedBudget
}

// Connections returns the ids of the open connections.
func (s *Server) Connections() []string {
	cs := s.conns.snapshot()
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.id
	}
	return ids
}

// Topics returns the topics that have at least one local subscriber.
func (s *Server) Topics() []string { return s.hub.topicNames() }

// ConnectionCount returns the number of open connections.
func (s *Server) ConnectionCount() int { return int(s.conns.count.Load()) }

// Disconnect closes a connection with 1000.
func (s *Server) Disconnect(connID string) error {
	return s.DisconnectWithCode(connID, 1000, "disconnected by server")
}

// DisconnectWithCode closes a connection with the given close code and
// reason (e.g. 4403 to tell the client not to reconnect).
func (s *Server) DisconnectWithCode(connID string, code int, reason string) error {
	c, err := s.lookup(connID)
	if err != nil {
		return err
	}
	if code < 1000 || code > 4999 {
		return fmt.Errorf("%w: %d", ErrInvalidCloseCode, code)
	}
	c.ws.Close(code, reason)
	return nil
}

// InboundQueueDepth returns the number of events waiting to be read.
func (s *Server) InboundQueueDepth() int { return len(s.in.ch) }

// InboundDropped returns the number of events dropped because the queue was full.
func (s *Server) InboundDropped() uint64 { return s.in.dropped.Load() }
