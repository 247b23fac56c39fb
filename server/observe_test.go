package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/wse-go/wse/monitor"
)

func TestProbesOnTheWebSocketPort(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := httpClient.Get("http://" + srv.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || body["status"] != "ok" || body["version"] == "" {
			t.Fatalf("GET %s = %d %v (%v)", path, resp.StatusCode, body, err)
		}
	}
	// The demo page is still served beside them.
	resp, err := httpClient.Get("http://" + srv.Addr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
}

func TestReadyzIs503UnlessAccepting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status         string
		healthz, ready int
	}{
		{monitor.StatusOK, 200, 200},
		{monitor.StatusDraining, 200, 503},
		{monitor.StatusStopped, 200, 503},
	} {
		h := withProbes(func() string { return tc.status }, nil)
		for path, want := range map[string]int{"/healthz": tc.healthz, "/readyz": tc.ready} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if rec.Code != want || !strings.Contains(rec.Body.String(), `"status":"`+tc.status+`"`) {
				t.Errorf("%s while %s = %d %s, want %d", path, tc.status, rec.Code, rec.Body, want)
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/readyz", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("POST /readyz = %d", rec.Code)
		}
	}
}

func TestHealthHasStatusAndVersion(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	code, body := call(t, srv, http.MethodGet, "/health", nil, "")
	if code != http.StatusOK || body["status"] != "ok" || body["version"] == nil || body["connections"] != float64(0) {
		t.Fatalf("/health = %d %v", code, body)
	}
}

func TestMetricsExportLatencyTopTopicsRecoveryAndBuildInfo(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.Recovery = true; c.ClientSubscriptions = "any" })
	c := dial(t, srv, nil)
	if err := srv.Engine().Subscribe(c.connID(), []string{"busy", "quiet"}, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		topic := "busy"
		if i%10 == 0 {
			topic = "quiet"
		}
		if _, err := srv.Engine().Broadcast(topic, `{"t":"x","p":{}}`); err != nil {
			t.Fatal(err)
		}
	}
	// The handshake is observed just after server_ready is queued, so the
	// client may see server_ready first: poll until the observation lands.
	var fams map[string]*dto.MetricFamily
	waitFor(t, "the handshake observed", func() bool {
		resp, err := httpClient.Get("http://" + srv.APIAddr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(resp.Body)
		parser := expfmt.NewTextParser(model.UTF8Validation)
		if fams, err = parser.TextToMetricFamilies(strings.NewReader(string(text))); err != nil {
			t.Fatalf("metrics do not parse: %v", err)
		}
		return fams["wse_handshake_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount() > 0
	})
	for _, name := range []string{"wse_recoveries_total", "wse_recovered_total", "wse_replayed_messages_total", "wse_recovery_evictions_total"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("series %s missing", name)
		}
	}
	pub := fams["wse_publish_duration_seconds"].GetMetric()[0].GetHistogram()
	if pub.GetSampleCount() == 0 || len(pub.GetBucket()) == 0 {
		t.Errorf("publish histogram %v: want sampled publications", pub)
	}
	hs := fams["wse_handshake_duration_seconds"].GetMetric()[0].GetHistogram()
	if hs.GetSampleCount() != 1 {
		t.Errorf("handshake histogram count %d, want 1", hs.GetSampleCount())
	}
	got := map[string]float64{}
	for _, m := range fams["wse_topic_messages_total"].GetMetric() {
		got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
	}
	if got["busy"] != 18 || got["quiet"] != 2 {
		t.Errorf("wse_topic_messages_total = %v, want busy 18, quiet 2", got)
	}
	build := fams["wse_build_info"].GetMetric()
	if len(build) != 1 || build[0].GetGauge().GetValue() != 1 || len(build[0].GetLabel()) != 3 {
		t.Errorf("wse_build_info = %v", build)
	}
}
