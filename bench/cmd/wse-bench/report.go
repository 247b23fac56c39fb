package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// metric is one row of a report table.
type metric struct {
	name string
	get  func(*Result) (float64, bool)
	prec int
}

func field(f func(*Result) float64) func(*Result) (float64, bool) {
	return func(r *Result) (float64, bool) { return f(r), true }
}

func latencyField(f func(*Latency) float64) func(*Result) (float64, bool) {
	return func(r *Result) (float64, bool) {
		if r.Latency == nil {
			return 0, false
		}
		return f(r.Latency), true
	}
}

var (
	loadMetric  = metric{"load avg 1m at start", field(func(r *Result) float64 { return r.LoadAvgStart[0] }), 2}
	otherMetric = metric{"other processes, cores", field(func(r *Result) float64 { return r.OtherCores }), 2}
)

// scenarioMetrics lists the rows reported per scenario, in order.
var scenarioMetrics = map[string][]metric{
	"connect": {
		{"connects/s", field(func(r *Result) float64 { return r.ConnectsPerSec }), 0},
		{"handshake p50 ms", func(r *Result) (float64, bool) {
			if r.Handshake == nil {
				return 0, false
			}
			return r.Handshake.P50, true
		}, 2},
		{"handshake p99 ms", func(r *Result) (float64, bool) {
			if r.Handshake == nil {
				return 0, false
			}
			return r.Handshake.P99, true
		}, 2},
		{"server CPU µs/connect", field(func(r *Result) float64 { return r.ServerCPUUsPerOp }), 1},
		{"failed connects", field(func(r *Result) float64 { return float64(r.N - r.Connected) }), 0},
		loadMetric,
	},
	"idle": {
		{"RSS/conn KiB", field(func(r *Result) float64 { return r.RSSPerConn / 1024 }), 2},
		{"goroutines", field(func(r *Result) float64 { return float64(r.Goroutines) }), 0},
		{"connect s", field(func(r *Result) float64 { return r.ConnectS }), 2},
		{"failed connects", field(func(r *Result) float64 { return float64(r.N - r.Connected) }), 0},
		loadMetric,
	},
	"fanout": {
		{"deliveries/s", field(func(r *Result) float64 { return r.DeliveriesPerSec }), 0},
		{"publish rate msg/s", field(func(r *Result) float64 { return r.PublishRate }), 0},
		{"server CPU µs/delivery", field(func(r *Result) float64 { return r.ServerCPUUsPerOp }), 2},
		{"server CPU cores", field(func(r *Result) float64 { return r.ServerCPUS / max(r.DurS, 1e-9) }), 2},
		{"client CPU cores", field(func(r *Result) float64 { return r.ClientCPUS / max(r.DurS, 1e-9) }), 2},
		{"latency p50 ms", latencyField(func(l *Latency) float64 { return l.P50 }), 2},
		{"latency p99 ms", latencyField(func(l *Latency) float64 { return l.P99 }), 2},
		{"latency p99.9 ms", latencyField(func(l *Latency) float64 { return l.P999 }), 2},
		{"lost", field(func(r *Result) float64 { return float64(r.Lost) }), 0},
		{"disconnects", field(func(r *Result) float64 { return float64(r.Disconnects) }), 0},
		otherMetric,
		loadMetric,
	},
	"cluster-fanout": nil, // filled in init: the fanout rows
	"p2p": {
		{"echoes/s", field(func(r *Result) float64 { return r.EchoesPerSec }), 0},
		{"round trip p50 ms", latencyField(func(l *Latency) float64 { return l.P50 }), 3},
		{"round trip p99 ms", latencyField(func(l *Latency) float64 { return l.P99 }), 3},
		{"server CPU µs/echo", field(func(r *Result) float64 { return r.ServerCPUUsPerOp }), 2},
		otherMetric,
		loadMetric,
	},
}

var (
	scenarioOrder = []string{"connect", "idle", "fanout", "cluster-fanout", "p2p"}
	targetOrder   = []string{"wse", "centrifuge", "raw"}
)

// groupKey identifies comparable runs.
type groupKey struct {
	scenario string
	n, size  int
	rate     float64
	inflight int
}

func (k groupKey) String() string {
	switch k.scenario {
	case "fanout", "cluster-fanout":
		rate := "max"
		if k.rate > 0 {
			rate = fmt.Sprintf("%g/s", k.rate)
		}
		return fmt.Sprintf("%d subs, %d B, %s", k.n, k.size, rate)
	case "p2p":
		return fmt.Sprintf("%d conns, inflight %d", k.n, k.inflight)
	default:
		return fmt.Sprintf("%d conns", k.n)
	}
}

// readResults reads JSON lines from the named files.
func readResults(paths []string) ([]*Result, error) {
	var out []*Result
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for line := 1; sc.Scan(); line++ {
			if len(strings.TrimSpace(sc.Text())) == 0 {
				continue
			}
			r := &Result{}
			if err := json.Unmarshal(sc.Bytes(), r); err != nil {
				f.Close()
				return nil, fmt.Errorf("%w: %s:%d: %w", errUsage, p, line, err)
			}
			out = append(out, r)
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func reportCmd(args []string, w io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: wse-bench report FILE.jsonl [FILE.jsonl ...]", errUsage)
	}
	results, err := readResults(args)
	if err != nil {
		return err
	}
	return writeReport(w, results)
}

// median returns the median of v (mean of the middle two for even counts).
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// writeReport writes one markdown table per scenario: per group and metric,
// the median of each target's runs (with the range when there are several)
// and the ratios WSE/peer and WSE/floor of the medians.
func writeReport(w io.Writer, results []*Result) error {
	groups := map[groupKey]map[string][]*Result{}
	for _, r := range results {
		k := groupKey{scenario: r.Scenario, n: r.N, size: r.Size, rate: r.Rate, inflight: r.Inflight}
		if groups[k] == nil {
			groups[k] = map[string][]*Result{}
		}
		groups[k][r.Target] = append(groups[k][r.Target], r)
	}
	keys := make([]groupKey, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b groupKey) int {
		return cmp.Or(
			cmp.Compare(slices.Index(scenarioOrder, a.scenario), slices.Index(scenarioOrder, b.scenario)),
			cmp.Compare(a.rate, b.rate), cmp.Compare(a.n, b.n), cmp.Compare(a.size, b.size), cmp.Compare(a.inflight, b.inflight))
	})
	bw := bufio.NewWriter(w)
	current := ""
	for _, k := range keys {
		if k.scenario != current {
			current = k.scenario
			fmt.Fprintf(bw, "\n### %s\n\n", current)
			fmt.Fprintln(bw, "| case | metric | wse | centrifuge | raw | wse/centrifuge | wse/raw |")
			fmt.Fprintln(bw, "|---|---|---|---|---|---|---|")
		}
		byTarget := groups[k]
		for _, m := range scenarioMetrics[k.scenario] {
			cells := make([]string, 0, 5)
			meds := map[string]float64{}
			for _, t := range targetOrder {
				var vals []float64
				for _, r := range byTarget[t] {
					if v, ok := m.get(r); ok {
						vals = append(vals, v)
					}
				}
				if len(vals) == 0 {
					cells = append(cells, "–")
					continue
				}
				med := median(vals)
				meds[t] = med
				cell := fmt.Sprintf("%.*f", m.prec, med)
				if len(vals) > 1 {
					cell += fmt.Sprintf(" [%.*f–%.*f]", m.prec, slices.Min(vals), m.prec, slices.Max(vals))
				}
				cells = append(cells, cell)
			}
			for _, other := range []string{"centrifuge", "raw"} {
				wv, ok1 := meds["wse"]
				ov, ok2 := meds[other]
				if !ok1 || !ok2 || ov == 0 || m.name == loadMetric.name || m.name == otherMetric.name {
					cells = append(cells, "–")
					continue
				}
				cells = append(cells, formatRatio(wv/ov))
			}
			fmt.Fprintf(bw, "| %s | %s | %s |\n", k, m.name, strings.Join(cells, " | "))
		}
	}
	return bw.Flush()
}

// formatRatio prints a ratio with two decimals, or two significant digits
// when it is below 0.1.
func formatRatio(v float64) string {
	if math.Abs(v) < 0.1 {
		return fmt.Sprintf("%.2g", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func init() { scenarioMetrics["cluster-fanout"] = scenarioMetrics["fanout"] }
