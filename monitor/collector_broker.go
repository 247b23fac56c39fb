package monitor

import "github.com/wse-go/wse"

// brokerSeries adds the broker's series (docs/scaling.md) with the
// collector's gauge and counter constructors.
func brokerSeries(gauge func(string, string, func(*wse.Metrics) float64), counter func(string, string, func(*wse.Metrics) uint64)) {
	gauge("wse_broker_connected", "1 when the broker connection is up (0 also without a broker).", func(m *wse.Metrics) float64 {
		if m.Broker != nil && m.Broker.Connected {
			return 1
		}
		return 0
	})
	gauge("wse_broker_publish_latency_seconds", "Mean broker publish round trip.", func(m *wse.Metrics) float64 { return m.BrokerPublishLatency })
	counter("wse_broker_published_total", "Publications sent to the broker.", func(m *wse.Metrics) uint64 { return m.BrokerPublished })
	counter("wse_broker_publish_errors_total", "Publications the broker refused (reported to the publisher).", func(m *wse.Metrics) uint64 { return m.BrokerPublishErrors })
	counter("wse_broker_received_total", "Publications received from the broker.", func(m *wse.Metrics) uint64 { return m.BrokerReceived })
	counter("wse_broker_receive_errors_total", "Broker messages that could not be used.", func(m *wse.Metrics) uint64 { return m.BrokerReceiveErrors })
	counter("wse_broker_reconnects_total", "Re-established broker connections.", func(m *wse.Metrics) uint64 { return m.BrokerReconnects })
	counter("wse_broker_gaps_total", "Holes seen in a topic's shared stream on receipt.", func(m *wse.Metrics) uint64 { return m.BrokerGaps })
	counter("wse_broker_gaps_filled_total", "Stream holes closed from the broker's history.", func(m *wse.Metrics) uint64 { return m.BrokerGapsFilled })
	counter("wse_broker_fallbacks_total", "Publications delivered to local subscribers only because the broker refused them.", func(m *wse.Metrics) uint64 { return m.BrokerFallbacks })
	counter("wse_broker_subscribe_errors_total", "Interest changes the broker refused (retried when it is back).", func(m *wse.Metrics) uint64 { return m.BrokerSubscribeErrors })
}
