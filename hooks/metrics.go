package hooks

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the hooks' Prometheus series.
type metrics struct {
	calls     *prometheus.CounterVec
	errors    *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	webhooks  *prometheus.CounterVec
	cacheHits prometheus.Counter
}

func newMetrics() *metrics {
	return &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wse_hook_calls_total", Help: "Backend hook calls, by hook.",
		}, []string{"hook"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wse_hook_errors_total", Help: "Failed backend hook calls, by hook and reason (timeout, backend, busy, closed).",
		}, []string{"hook", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "wse_hook_duration_seconds", Help: "Backend hook call latency, by hook.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"hook"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wse_hook_webhooks_total", Help: "Webhooks by hook and outcome (sent, cancelled, failed, dropped).",
		}, []string{"hook", "outcome"}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wse_hook_subscribe_cache_hits_total", Help: "Topics answered from the subscribe hook cache.",
		}),
	}
}

// observe records one call.
func (m *metrics) observe(hook string, d time.Duration, err error) {
	m.calls.WithLabelValues(hook).Inc()
	if err != nil {
		m.errors.WithLabelValues(hook, reason(err)).Inc()
	}
	if d > 0 {
		m.latency.WithLabelValues(hook).Observe(d.Seconds())
	}
}

// Collectors returns the hooks' Prometheus collectors, for a registry.
func (h *Hooks) Collectors() []prometheus.Collector {
	m := h.metrics
	return []prometheus.Collector{m.calls, m.errors, m.latency, m.webhooks, m.cacheHits}
}
