package monitor

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/internal/buildinfo"
	"github.com/wse-go/wse/internal/topic"
)

// Source is what the monitor reads: snapshot methods of the engine. Every
// method must be safe for concurrent use and must not block for long;
// *wse.Server implements it.
type Source interface {
	// HealthSnapshot returns the health snapshot.
	HealthSnapshot() wse.Health
	// Metrics returns every counter and gauge of the engine.
	Metrics() wse.Metrics
	// Connections returns the ids of the open connections.
	Connections() []string
	// TopicSubscriberCount returns the number of local subscribers of topic.
	TopicSubscriberCount(topic string) int
	// Presence returns the users present in topic.
	Presence(topic string) map[string]wse.Member
	// PresenceStats returns the presence counts of topic.
	PresenceStats(topic string) wse.PresenceStats
	// QueueGroupInfo returns the queue groups of topic.
	QueueGroupInfo(topic string) []wse.QueueGroup
	// Refusals returns the refusal counts by reason.
	Refusals() map[string]uint64
}

var _ Source = (*wse.Server)(nil)

// MetricType says how an ExtraMetric is exported.
type MetricType int

// Metric types.
const (
	// Gauge is a value that goes up and down.
	Gauge MetricType = iota
	// Counter is a monotonic total; its name should end in _total.
	Counter
)

// ExtraMetric is a series exported by /metrics besides the engine's, read
// at scrape time.
type ExtraMetric struct {
	// Name is the Prometheus metric name.
	Name string
	// Help is the metric's help text.
	Help string
	// Type is Gauge or Counter.
	Type MetricType
	// Value returns the current value; it must be safe for concurrent use.
	Value func() float64
}

// Options configures a Monitor. The zero value is usable.
type Options struct {
	// Extra lists series exported besides the engine's.
	Extra []ExtraMetric
	// NoRuntimeMetrics leaves out the Go runtime and process collectors
	// (go_*, process_*), which are exported by default.
	NoRuntimeMetrics bool
}

// Monitor serves the read-only endpoints over a Source.
type Monitor struct {
	src Source
	reg *prometheus.Registry
}

// New returns a Monitor reading src, with its own Prometheus registry.
// It fails, wrapping ErrInvalidMetric, when an extra metric is unusable
// (no value, or a name outside the classic Prometheus character set).
func New(src Source, opts Options) (*Monitor, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(newCollector(src)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMetric, err)
	}
	if err := reg.Register(newObserveCollector(src)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMetric, err)
	}
	for _, x := range opts.Extra {
		if !model.LegacyValidation.IsValidMetricName(x.Name) || x.Value == nil {
			return nil, fmt.Errorf("%w: %q needs a [a-zA-Z_:][a-zA-Z0-9_:]* name and a value", ErrInvalidMetric, x.Name)
		}
		var c prometheus.Collector
		o := prometheus.Opts{Name: x.Name, Help: x.Help}
		if x.Type == Counter {
			c = prometheus.NewCounterFunc(prometheus.CounterOpts(o), x.Value)
		} else {
			c = prometheus.NewGaugeFunc(prometheus.GaugeOpts(o), x.Value)
		}
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("%w: %q: %w", ErrInvalidMetric, x.Name, err)
		}
	}
	if !opts.NoRuntimeMetrics {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return &Monitor{src: src, reg: reg}, nil
}

// Registry returns the Monitor's private Prometheus registry.
func (m *Monitor) Registry() *prometheus.Registry { return m.reg }

// Register adds the monitor's routes to mux:
//
//	GET /health                      the health snapshot with status and version
//	GET /metrics                     Prometheus text
//	GET /api/connections             {"count","connections"}
//	GET /api/topics/{topic}          {"topic","subscribers","queue_groups"}
//	GET /api/presence/{topic}        {"topic","members"}
//	GET /api/presence/{topic}/stats  {"topic","num_users","num_connections"}
//
// A topic holding '/' must be sent URL-encoded (%2F).
func (m *Monitor) Register(mux *http.ServeMux) {
	metrics := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	mux.HandleFunc("/health", Allow(http.MethodGet, m.health))
	mux.HandleFunc("/metrics", Allow(http.MethodGet, metrics.ServeHTTP))
	mux.HandleFunc("/api/connections", Allow(http.MethodGet, m.connections))
	mux.HandleFunc("/api/topics/{topic}", Allow(http.MethodGet, m.topic))
	mux.HandleFunc("/api/presence/{topic}", Allow(http.MethodGet, m.presence))
	mux.HandleFunc("/api/presence/{topic}/stats", Allow(http.MethodGet, m.presenceStats))
}

func (m *Monitor) health(w http.ResponseWriter, _ *http.Request) {
	body := HealthBody{Status: Status(m.src), Version: buildinfo.Get().Version, Health: m.src.HealthSnapshot(), Refusals: map[string]uint64{}}
	for reason, n := range m.src.Refusals() {
		if n > 0 {
			body.Refusals[reason] = n
			body.RefusalsTotal += n
		}
	}
	WriteJSON(w, http.StatusOK, body)
}

// ConnectionList is the body of GET /api/connections.
type ConnectionList struct {
	// Count is the number of connections listed.
	Count int `json:"count"`
	// Connections are the connection ids, sorted.
	Connections []string `json:"connections"`
}

func (m *Monitor) connections(w http.ResponseWriter, _ *http.Request) {
	ids := m.src.Connections()
	if ids == nil {
		ids = []string{}
	}
	slices.Sort(ids)
	WriteJSON(w, http.StatusOK, ConnectionList{Count: len(ids), Connections: ids})
}

// TopicInfo is the body of GET /api/topics/{topic}.
type TopicInfo struct {
	// Topic is the topic queried.
	Topic string `json:"topic"`
	// Subscribers is its number of local subscribers.
	Subscribers int `json:"subscribers"`
	// QueueGroups are its queue groups on this node, by name.
	QueueGroups []wse.QueueGroup `json:"queue_groups"`
}

func (m *Monitor) topic(w http.ResponseWriter, r *http.Request) {
	t, ok := pathTopic(w, r)
	if !ok {
		return
	}
	WriteJSON(w, http.StatusOK, TopicInfo{Topic: t, Subscribers: m.src.TopicSubscriberCount(t), QueueGroups: m.src.QueueGroupInfo(t)})
}

// PresenceInfo is the body of GET /api/presence/{topic}.
type PresenceInfo struct {
	// Topic is the topic queried.
	Topic string `json:"topic"`
	// Members maps each present user id to its data and connection count.
	Members map[string]wse.Member `json:"members"`
}

// PresenceStatsInfo is the body of GET /api/presence/{topic}/stats.
type PresenceStatsInfo struct {
	// Topic is the topic queried.
	Topic string `json:"topic"`
	wse.PresenceStats
}

func (m *Monitor) presence(w http.ResponseWriter, r *http.Request) {
	t, ok := m.presenceTopic(w, r)
	if !ok {
		return
	}
	members := m.src.Presence(t)
	if members == nil {
		members = map[string]wse.Member{}
	}
	WriteJSON(w, http.StatusOK, PresenceInfo{Topic: t, Members: members})
}

func (m *Monitor) presenceStats(w http.ResponseWriter, r *http.Request) {
	t, ok := m.presenceTopic(w, r)
	if !ok {
		return
	}
	WriteJSON(w, http.StatusOK, PresenceStatsInfo{Topic: t, PresenceStats: m.src.PresenceStats(t)})
}

// presenceTopic is pathTopic for presence queries, which also need presence
// to be enabled.
func (m *Monitor) presenceTopic(w http.ResponseWriter, r *http.Request) (string, bool) {
	t, ok := pathTopic(w, r)
	if !ok {
		return "", false
	}
	if !m.src.HealthSnapshot().PresenceEnabled {
		WriteError(w, http.StatusConflict, CodePresenceDisabled, "presence is disabled on this server")
		return "", false
	}
	return t, true
}

// pathTopic returns the validated {topic} of the request path, or writes a
// 400 and returns false.
func pathTopic(w http.ResponseWriter, r *http.Request) (string, bool) {
	t := r.PathValue("topic")
	if err := topic.Validate(t); err != nil {
		WriteError(w, http.StatusBadRequest, CodeInvalidTopic, fmt.Sprintf("topic %q: %v", t, err))
		return "", false
	}
	return t, true
}
