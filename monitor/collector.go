package monitor

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wse-go/wse"
)

// series is one engine metric: its descriptor and how to read it from a
// snapshot.
type series struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(*wse.Metrics) float64
}

// collector exports the engine's Metrics snapshot, taken once per scrape.
type collector struct {
	src      Source
	series   []series
	refusals *prometheus.Desc
}

var _ prometheus.Collector = (*collector)(nil)

func newCollector(src Source) *collector {
	c := &collector{src: src, refusals: prometheus.NewDesc("wse_refusals_total",
		"Refusals of clients by reason: HTTP statuses before the upgrade, close codes, error frames and failed topics.",
		[]string{"reason"}, nil)}
	gauge := func(name, help string, v func(*wse.Metrics) float64) {
		c.series = append(c.series, series{prometheus.NewDesc(name, help, nil, nil), prometheus.GaugeValue, v})
	}
	counter := func(name, help string, v func(*wse.Metrics) uint64) {
		c.series = append(c.series, series{prometheus.NewDesc(name, help, nil, nil), prometheus.CounterValue,
			func(m *wse.Metrics) float64 { return float64(v(m)) }})
	}
	gauge("wse_connections", "Open WebSocket connections.", func(m *wse.Metrics) float64 { return float64(m.Connections) })
	gauge("wse_inbound_queue_depth", "Events waiting in the engine's inbound queue.", func(m *wse.Metrics) float64 { return float64(m.InboundQueueDepth) })
	gauge("wse_inbound_buffer_bytes", "Bytes of incomplete client frames and messages held over all connections.", func(m *wse.Metrics) float64 { return float64(m.InboundBufferBytes) })
	gauge("wse_inbound_queue_bytes", "Bytes held by the events in the engine's inbound queue.", func(m *wse.Metrics) float64 { return float64(m.InboundQueueBytes) })
	gauge("wse_uptime_seconds", "Seconds since the engine started.", func(m *wse.Metrics) float64 { return m.UptimeSecs })
	gauge("wse_topics", "Topics with at least one local subscriber.", func(m *wse.Metrics) float64 { return float64(m.Topics) })
	gauge("wse_presence_topics", "Topics with at least one present user.", func(m *wse.Metrics) float64 { return float64(m.PresenceTopics) })
	gauge("wse_presence_users", "Present users summed over topics.", func(m *wse.Metrics) float64 { return float64(m.PresenceTotalUsers) })
	gauge("wse_recovery_topics", "Topics with a recovery buffer.", func(m *wse.Metrics) float64 { return float64(m.RecoveryTopicCount) })
	gauge("wse_recovery_bytes", "Bytes held in recovery buffers.", func(m *wse.Metrics) float64 { return float64(m.RecoveryTotalBytes) })
	counter("wse_recoveries_total", "Subscriptions that asked to recover missed messages.", func(m *wse.Metrics) uint64 { return m.Recoveries })
	counter("wse_recovered_total", "Recovering subscriptions that got everything they missed.", func(m *wse.Metrics) uint64 { return m.Recovered })
	counter("wse_replayed_messages_total", "Messages replayed to recovering subscriptions.", func(m *wse.Metrics) uint64 { return m.Replayed })
	counter("wse_recovery_evictions_total", "Recovery buffers dropped by TTL or the memory budget.", func(m *wse.Metrics) uint64 { return m.RecoveryEvictions })
	gauge("wse_cluster_connected", "1 when the node is connected to a cluster.", func(m *wse.Metrics) float64 {
		if m.ClusterConnected {
			return 1
		}
		return 0
	})
	gauge("wse_cluster_peers", "Connected cluster peers.", func(m *wse.Metrics) float64 { return float64(m.ClusterPeerCount) })
	gauge("wse_cluster_dlq_size", "Entries in the cluster dead-letter queue.", func(m *wse.Metrics) float64 { return float64(m.ClusterDLQSize) })

	counter("wse_messages_received_total", "Client data messages received.", func(m *wse.Metrics) uint64 { return m.MessagesReceived })
	counter("wse_messages_sent_total", "Frames queued to connections.", func(m *wse.Metrics) uint64 { return m.MessagesSent })
	counter("wse_bytes_received_total", "Client payload bytes received.", func(m *wse.Metrics) uint64 { return m.BytesReceived })
	counter("wse_bytes_sent_total", "Bytes written to client sockets.", func(m *wse.Metrics) uint64 { return m.BytesSent })
	counter("wse_writes_total", "Socket writes (one per coalesced batch).", func(m *wse.Metrics) uint64 { return m.Writes })
	counter("wse_handshakes_total", "Upgrade requests on the WebSocket path.", func(m *wse.Metrics) uint64 { return m.HandshakesTotal })
	counter("wse_connections_accepted_total", "Connections registered.", func(m *wse.Metrics) uint64 { return m.ConnectionsAccepted })
	counter("wse_connections_rejected_total", "Upgrades refused (503, 403, failed upgrade).", func(m *wse.Metrics) uint64 { return m.ConnectionsRejected })
	counter("wse_auth_failures_total", "Connections closed with 4401.", func(m *wse.Metrics) uint64 { return m.AuthFailures })
	counter("wse_rate_limited_total", "Client messages dropped by the rate limiter.", func(m *wse.Metrics) uint64 { return m.RateLimited })
	counter("wse_inbound_dropped_total", "Events dropped because the inbound queue was full.", func(m *wse.Metrics) uint64 { return m.InboundDropped })
	counter("wse_slow_consumer_drops_total", "Messages dropped for a full outbound queue.", func(m *wse.Metrics) uint64 { return m.SlowConsumerDrops })
	counter("wse_slow_consumer_closes_total", "Connections closed with 4429 (slow consumer).", func(m *wse.Metrics) uint64 { return m.SlowConsumerCloses })
	counter("wse_idle_closes_total", "Connections closed with 4408 (idle).", func(m *wse.Metrics) uint64 { return m.IdleCloses })
	counter("wse_oversized_messages_total", "Client messages over the size limit.", func(m *wse.Metrics) uint64 { return m.Oversized })
	counter("wse_invalid_messages_total", "Malformed protocol messages.", func(m *wse.Metrics) uint64 { return m.InvalidMessages })
	counter("wse_encrypted_connections_total", "Connections that negotiated end-to-end encryption.", func(m *wse.Metrics) uint64 { return m.EncryptedConnections })
	counter("wse_key_exchange_failures_total", "client_hello messages with an unusable encryption key.", func(m *wse.Metrics) uint64 { return m.KeyExchangeFailures })
	counter("wse_decrypt_failures_total", "Encrypted client frames that could not be decrypted (dropped).", func(m *wse.Metrics) uint64 { return m.DecryptFailures })
	counter("wse_publications_total", "Topic and broadcast-all publications.", func(m *wse.Metrics) uint64 { return m.Publications })
	counter("wse_cluster_messages_sent_total", "Messages sent to cluster peers.", func(m *wse.Metrics) uint64 { return m.ClusterMessagesSent })
	counter("wse_cluster_messages_delivered_total", "Messages received from cluster peers and delivered.", func(m *wse.Metrics) uint64 { return m.ClusterMessagesDelivered })
	counter("wse_cluster_messages_dropped_total", "Cluster messages dropped.", func(m *wse.Metrics) uint64 { return m.ClusterMessagesDropped })
	counter("wse_cluster_bytes_sent_total", "Bytes sent to cluster peers.", func(m *wse.Metrics) uint64 { return m.ClusterBytesSent })
	counter("wse_cluster_bytes_received_total", "Bytes received from cluster peers.", func(m *wse.Metrics) uint64 { return m.ClusterBytesReceived })
	counter("wse_cluster_reconnects_total", "Cluster link reconnections.", func(m *wse.Metrics) uint64 { return m.ClusterReconnectCount })
	counter("wse_cluster_tls_refused_total", "Cluster peer TLS handshakes refused.", func(m *wse.Metrics) uint64 { return m.ClusterTLSRefused })
	counter("wse_cluster_bad_frames_total", "Cluster links closed for a malformed or oversized frame.", func(m *wse.Metrics) uint64 { return m.ClusterBadFrames })
	counter("wse_cluster_handshake_failures_total", "Cluster links refused before they came up.", func(m *wse.Metrics) uint64 { return m.ClusterHandshakeFailures })
	counter("wse_cluster_tls_reloads_total", "Cluster TLS material reloads (SIGHUP, ReloadClusterTLS).", func(m *wse.Metrics) uint64 { return m.ClusterTLSReloads })
	counter("wse_cluster_link_gaps_total", "Peer links lost without SHUTDOWN or regained after that: messages may have been lost.", func(m *wse.Metrics) uint64 { return m.ClusterLinkGaps })
	counter("wse_cluster_epoch_renewals_total", "Recovery epochs renewed after a link gap, so subscribers see the possible loss.", func(m *wse.Metrics) uint64 { return m.ClusterEpochRenewals })
	counter("wse_cluster_unknown_message_types_total", "Cluster frames of unknown type.", func(m *wse.Metrics) uint64 { return m.ClusterUnknownMessageTypes })
	brokerSeries(gauge, counter)
	return c
}

// Describe sends the descriptor of every engine series.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, s := range c.series {
		ch <- s.desc
	}
	ch <- c.refusals
}

// Collect takes one Metrics snapshot and sends every engine series from it.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	m := c.src.Metrics()
	for _, s := range c.series {
		ch <- prometheus.MustNewConstMetric(s.desc, s.kind, s.value(&m))
	}
	for _, reason := range wse.RefusalReasons() {
		ch <- prometheus.MustNewConstMetric(c.refusals, prometheus.CounterValue, float64(m.Refusals[reason]), reason)
	}
}
