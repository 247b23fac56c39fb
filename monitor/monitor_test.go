package monitor_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/monitor"
)

// fakeSource is a Source with fixed answers.
type fakeSource struct {
	health  wse.Health
	metrics wse.Metrics
	conns   []string
	subs    map[string]int
	members map[string]map[string]wse.Member
}

func (f *fakeSource) HealthSnapshot() wse.Health                  { return f.health }
func (f *fakeSource) Metrics() wse.Metrics                        { return f.metrics }
func (f *fakeSource) Connections() []string                       { return append([]string(nil), f.conns...) }
func (f *fakeSource) TopicSubscriberCount(topic string) int       { return f.subs[topic] }
func (f *fakeSource) Presence(topic string) map[string]wse.Member { return f.members[topic] }
func (f *fakeSource) QueueGroupInfo(string) []wse.QueueGroup      { return []wse.QueueGroup{} }
func (f *fakeSource) Refusals() map[string]uint64                 { return f.metrics.Refusals }
func (f *fakeSource) PresenceStats(topic string) wse.PresenceStats {
	st := wse.PresenceStats{NumUsers: len(f.members[topic])}
	for _, m := range f.members[topic] {
		st.NumConnections += m.Connections
	}
	return st
}

func newFake() *fakeSource {
	f := &fakeSource{
		health: wse.Health{Connections: 2, PresenceEnabled: true, UptimeSecs: 12.5},
		conns:  []string{"c-b", "c-a"},
		subs:   map[string]int{"chat/room": 3},
		members: map[string]map[string]wse.Member{
			"lobby": {"alice": {Data: map[string]any{"status": "online"}, Connections: 2}},
		},
	}
	f.metrics = wse.Metrics{Health: f.health, Topics: 4, MessagesReceived: 10, BytesSent: 2048, SlowConsumerCloses: 1}
	return f
}

func serve(t *testing.T, src monitor.Source, opts monitor.Options) http.Handler {
	t.Helper()
	m, err := monitor.New(src, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	m.Register(mux)
	mux.HandleFunc("/", monitor.NotFound)
	return mux
}

func get(t *testing.T, h http.Handler, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code, rec.Body.String()
}

func TestMonitorEndpointsRenderSnapshots(t *testing.T) {
	t.Parallel()
	h := serve(t, newFake(), monitor.Options{NoRuntimeMetrics: true})
	tests := []struct {
		name, method, path string
		status             int
		want               string // JSON, compared after normalizing
	}{
		{"health", "GET", "/health", 200, ""},
		{"connections sorted", "GET", "/api/connections", 200, `{"count":2,"connections":["c-a","c-b"]}`},
		{"topic with encoded slash", "GET", "/api/topics/chat%2Froom", 200, `{"topic":"chat/room","subscribers":3,"queue_groups":[]}`},
		{"unknown topic", "GET", "/api/topics/none", 200, `{"topic":"none","subscribers":0,"queue_groups":[]}`},
		{"invalid topic", "GET", "/api/topics/a%01b", 400, ""},
		{"presence", "GET", "/api/presence/lobby", 200, `{"topic":"lobby","members":{"alice":{"data":{"status":"online"},"connections":2}}}`},
		{"presence empty", "GET", "/api/presence/empty", 200, `{"topic":"empty","members":{}}`},
		{"presence stats", "GET", "/api/presence/lobby/stats", 200, `{"topic":"lobby","num_users":1,"num_connections":2}`},
		{"wrong method", "POST", "/health", 405, ""},
		{"unknown path", "GET", "/nope", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := get(t, h, tc.method, tc.path)
			if status != tc.status {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, status, body, tc.status)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %q is not JSON: %v", body, err)
			}
			if status >= 400 {
				e, _ := got["error"].(map[string]any)
				if e["code"] == "" || e["message"] == "" || e["code"] == nil {
					t.Fatalf("error body %s lacks code or message", body)
				}
				return
			}
			if tc.want != "" {
				var want map[string]any
				_ = json.Unmarshal([]byte(tc.want), &want)
				gb, _ := json.Marshal(got)
				wb, _ := json.Marshal(want)
				if string(gb) != string(wb) {
					t.Fatalf("body = %s, want %s", gb, wb)
				}
			}
		})
	}
}

func TestMonitorHealthUsesSeedKeys(t *testing.T) {
	t.Parallel()
	h := serve(t, newFake(), monitor.Options{NoRuntimeMetrics: true})
	_, body := get(t, h, "GET", "/health")
	for _, key := range []string{"connections", "inbound_queue_depth", "inbound_dropped", "uptime_secs", "presence_enabled", "recovery_enabled", "cluster_connected"} {
		if !strings.Contains(body, `"`+key+`"`) {
			t.Errorf("health %s lacks %q", body, key)
		}
	}
}

func TestMonitorPresenceDisabledIsConflict(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.health.PresenceEnabled = false
	h := serve(t, f, monitor.Options{NoRuntimeMetrics: true})
	for _, p := range []string{"/api/presence/lobby", "/api/presence/lobby/stats"} {
		if status, body := get(t, h, "GET", p); status != http.StatusConflict || !strings.Contains(body, monitor.CodePresenceDisabled) {
			t.Errorf("GET %s = %d %s, want 409 %s", p, status, body, monitor.CodePresenceDisabled)
		}
	}
}

func TestMonitorMetricsParseAndCarrySeries(t *testing.T) {
	t.Parallel()
	var discarded float64 = 7
	h := serve(t, newFake(), monitor.Options{Extra: []monitor.ExtraMetric{
		{Name: "wse_api_events_discarded_total", Help: "x", Type: monitor.Counter, Value: func() float64 { return discarded }},
	}})
	status, body := get(t, h, "GET", "/metrics")
	if status != 200 {
		t.Fatalf("GET /metrics = %d", status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	want := map[string]float64{
		"wse_connections":                2,
		"wse_topics":                     4,
		"wse_uptime_seconds":             12.5,
		"wse_messages_received_total":    10,
		"wse_bytes_sent_total":           2048,
		"wse_slow_consumer_closes_total": 1,
		"wse_inbound_dropped_total":      0,
		"wse_api_events_discarded_total": 7,
	}
	for name, v := range want {
		f, ok := fams[name]
		if !ok {
			t.Errorf("series %s missing", name)
			continue
		}
		m := f.GetMetric()[0]
		got := m.GetGauge().GetValue() + m.GetCounter().GetValue()
		if got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Errorf("runtime metrics missing")
	}
}

func TestMonitorRegistriesAreIndependent(t *testing.T) {
	t.Parallel()
	for range 2 {
		if _, err := monitor.New(newFake(), monitor.Options{}); err != nil {
			t.Fatalf("second monitor in one process: %v", err)
		}
	}
}

func TestMonitorNewRejectsBadExtraMetric(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		extra []monitor.ExtraMetric
	}{
		{"no value", []monitor.ExtraMetric{{Name: "x_total"}}},
		{"no name", []monitor.ExtraMetric{{Value: func() float64 { return 0 }}}},
		{"clashes with engine series", []monitor.ExtraMetric{{Name: "wse_connections", Help: "dup", Value: func() float64 { return 0 }}}},
		{"bad name", []monitor.ExtraMetric{{Name: "bad name!", Help: "x", Value: func() float64 { return 0 }}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := monitor.New(newFake(), monitor.Options{Extra: tc.extra}); !errors.Is(err, monitor.ErrInvalidMetric) {
				t.Fatalf("New = %v, want ErrInvalidMetric", err)
			}
		})
	}
}

func TestAllowAnswersWrongMethodWithJSON405(t *testing.T) {
	t.Parallel()
	h := monitor.Allow(http.MethodPost, func(w http.ResponseWriter, _ *http.Request) { monitor.WriteJSON(w, 200, map[string]bool{"ok": true}) })
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest("GET", "/x", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 405 || rec.Header().Get("Allow") != "POST" || !strings.Contains(string(body), monitor.CodeMethodNotAllowed) {
		t.Fatalf("GET on POST route = %d %q allow=%q", rec.Code, body, rec.Header().Get("Allow"))
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
}
