package deploy

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/wse-go/wse/server"
)

const (
	rulesFile     = "prometheus/wse-alerts.yml"
	dashboardFile = "grafana/wse-dashboard.json"
)

// promql is Prometheus's own PromQL parser, with its default options.
var promql = parser.NewParser(parser.Options{})

// prometheusOwn are series Prometheus records itself for every scrape.
var prometheusOwn = map[string]bool{"up": true}

// exported starts a real wse-server (cluster off, recovery and presence
// on), scrapes its /metrics and returns every series name it exports,
// histograms as their _bucket, _sum and _count series.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Port, cfg.APIAddr, cfg.Recovery, cfg.Presence = 0, "127.0.0.1:0", true, true
	srv, err := server.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get("http://" + srv.APIAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	names := map[string]bool{}
	for name, fam := range fams {
		names[name] = true
		switch fam.GetType().String() {
		case "HISTOGRAM":
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		case "SUMMARY":
			names[name+"_sum"], names[name+"_count"] = true, true
		}
	}
	// wse_topic_messages_total has a series per busy topic: none yet in a
	// server nobody published to, but exported as soon as one exists.
	names["wse_topic_messages_total"] = true
	return names
}

// seriesOf returns the metric names expr selects.
func seriesOf(t *testing.T, expr string) []string {
	t.Helper()
	e, err := promql.ParseExpr(expr)
	if err != nil {
		t.Fatalf("%q does not parse: %v", expr, err)
	}
	var out []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			name := vs.Name
			for _, m := range vs.LabelMatchers {
				if m.Name == model.MetricNameLabel {
					name = m.Value
				}
			}
			out = append(out, name)
		}
		return nil
	})
	return out
}

func TestAlertRulesLoadWithThePrometheusParser(t *testing.T) {
	t.Parallel()
	groups, errs := rulefmt.ParseFile(rulesFile, false, model.UTF8Validation, promql, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("%s: %v", rulesFile, errs)
	}
	n := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" || r.Labels["severity"] == "" {
				t.Errorf("rule %q needs an alert name, a severity, a summary and a description", r.Alert)
			}
		}
	}
	if n < 8 {
		t.Fatalf("%s has %d rules", rulesFile, n)
	}
}

func TestAlertRulesQueryOnlyExportedSeries(t *testing.T) {
	t.Parallel()
	have := exported(t)
	groups, errs := rulefmt.ParseFile(rulesFile, false, model.UTF8Validation, promql, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			for _, s := range seriesOf(t, r.Expr) {
				if !have[s] && !prometheusOwn[s] {
					t.Errorf("rule %s queries %s, which wse-server does not export", r.Alert, s)
				}
			}
		}
	}
}

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	Title      string  `json:"title"`
	UID        string  `json:"uid"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID      int     `json:"id"`
	Type    string  `json:"type"`
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// grafanaVars replaces Grafana's built-in interval variables with a
// duration, and $instance-style variables inside quotes stay as text.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h")

// labelValues matches a template query label_values(metric, label).
var labelValues = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)`)

func TestDashboardQueriesOnlyExportedSeries(t *testing.T) {
	t.Parallel()
	have := exported(t)
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.Title == "" || d.UID == "" {
		t.Fatalf("dashboard needs a title and a uid")
	}
	var all []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			all = append(all, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	ids, queried, targets := map[int]bool{}, map[string]bool{}, 0
	for _, p := range all {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			targets++
			for _, s := range seriesOf(t, grafanaVars.Replace(tg.Expr)) {
				queried[s] = true
				if !have[s] {
					t.Errorf("panel %q queries %s, which wse-server does not export", p.Title, s)
				}
			}
		}
	}
	for _, v := range d.Templating.List {
		q, _ := v.Query.(map[string]any)
		text, _ := q["query"].(string)
		if v.Type != "query" {
			continue
		}
		m := labelValues.FindStringSubmatch(text)
		if m == nil || !have[m[1]] {
			t.Errorf("template variable %s query %q does not read an exported series", v.Name, text)
		}
	}
	if targets < 20 {
		t.Fatalf("dashboard has %d queries", targets)
	}
}
