package monitor

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/internal/buildinfo"
)

// Optional Source methods: the monitor uses them when the Source has them
// (*wse.Server has all three), so that a Source written before them still
// works.
type (
	// latencySource has the engine's latency histograms.
	latencySource interface{ Latencies() wse.Latencies }
	// topTopicsSource ranks topics by publications.
	topTopicsSource interface {
		TopTopics(n int) []wse.TopicMessages
	}
	// acceptingSource says whether new connections are taken.
	acceptingSource interface{ Accepting() bool }
)

var (
	_ latencySource   = (*wse.Server)(nil)
	_ topTopicsSource = (*wse.Server)(nil)
	_ acceptingSource = (*wse.Server)(nil)
)

// TopTopicsExported is how many topics wse_topic_messages_total exports,
// the busiest first (the original server's bound).
const TopTopicsExported = 50

// Health statuses, the "status" of GET /health.
const (
	// StatusOK: accepting connections.
	StatusOK = "ok"
	// StatusDraining: running but refusing new connections (lame duck).
	StatusDraining = "draining"
	// StatusStopped: not started or stopped.
	StatusStopped = "stopped"
)

// HealthBody is the body of GET /health: the server's status and version,
// the engine's health snapshot (the original's health_snapshot() keys) and
// a summary of its refusals.
type HealthBody struct {
	// Status is StatusOK, StatusDraining or StatusStopped.
	Status string `json:"status"`
	// Version is the running build's version (see wse-server --version).
	Version string `json:"version"`
	wse.Health
	// RefusalsTotal is the number of refusals of every reason.
	RefusalsTotal uint64 `json:"refusals_total"`
	// Refusals holds the reasons with at least one refusal (all of them in
	// wse_refusals_total on /metrics).
	Refusals map[string]uint64 `json:"refusals"`
}

// Status returns the status of src: StatusOK when it accepts connections
// (or cannot say), StatusDraining when it runs without accepting, and
// StatusStopped when it does not run.
func Status(src Source) string {
	a, ok := src.(acceptingSource)
	switch {
	case !ok || a.Accepting():
		return StatusOK
	case src.HealthSnapshot().UptimeSecs > 0:
		return StatusDraining
	}
	return StatusStopped
}

// observeCollector exports the latency histograms, the per-topic message
// counts of the busiest topics and the build info.
type observeCollector struct {
	src       Source
	publish   *prometheus.Desc
	handshake *prometheus.Desc
	topics    *prometheus.Desc
	build     prometheus.Metric
}

var _ prometheus.Collector = (*observeCollector)(nil)

func newObserveCollector(src Source) *observeCollector {
	in := buildinfo.Get()
	buildDesc := prometheus.NewDesc("wse_build_info", "The running build: 1, with its version, commit and Go version as labels.",
		[]string{"version", "commit", "go_version"}, nil)
	return &observeCollector{
		src: src,
		publish: prometheus.NewDesc("wse_publish_duration_seconds",
			"Time from a local publication's start to its frame queued for every local subscriber (1 publication in 8 is timed).", nil, nil),
		handshake: prometheus.NewDesc("wse_handshake_duration_seconds",
			"Time from an accepted upgrade request's arrival to server_ready queued.", nil, nil),
		topics: prometheus.NewDesc("wse_topic_messages_total",
			"Publications fanned out to a topic's local subscribers since it gained its first one; the 50 busiest topics.", []string{"topic"}, nil),
		build: prometheus.MustNewConstMetric(buildDesc, prometheus.GaugeValue, 1, in.Version, in.Commit, in.GoVersion),
	}
}

// Describe sends the descriptors.
func (c *observeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.publish
	ch <- c.handshake
	ch <- c.topics
	ch <- c.build.Desc()
}

// Collect sends the histograms and top topics the Source offers, and the
// build info.
func (c *observeCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- c.build
	if l, ok := c.src.(latencySource); ok {
		lat := l.Latencies()
		ch <- constHistogram(c.publish, lat.Publish)
		ch <- constHistogram(c.handshake, lat.Handshake)
	}
	if t, ok := c.src.(topTopicsSource); ok {
		for _, tm := range t.TopTopics(TopTopicsExported) {
			ch <- prometheus.MustNewConstMetric(c.topics, prometheus.CounterValue, float64(tm.Messages), tm.Topic)
		}
	}
}

// constHistogram renders an engine histogram with cumulative buckets.
func constHistogram(desc *prometheus.Desc, h wse.LatencyHistogram) prometheus.Metric {
	buckets := make(map[float64]uint64, len(wse.LatencyBuckets))
	var cum uint64
	for i, bound := range wse.LatencyBuckets {
		if i < len(h.Buckets) {
			cum += h.Buckets[i]
		}
		buckets[bound] = cum
	}
	return prometheus.MustNewConstHistogram(desc, h.Count, h.SumSeconds, buckets)
}
