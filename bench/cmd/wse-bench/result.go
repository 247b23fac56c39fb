package main

import (
	"encoding/json"
	"os"
	"runtime"
	"time"

	"github.com/wse-go/wse/bench/internal/stats"
)

// Latency is a latency distribution in milliseconds.
type Latency struct {
	Samples uint64  `json:"samples"`
	P50     float64 `json:"p50_ms"`
	P90     float64 `json:"p90_ms"`
	P99     float64 `json:"p99_ms"`
	P999    float64 `json:"p999_ms"`
	Max     float64 `json:"max_ms"`
	Mean    float64 `json:"mean_ms"`
}

func latencyOf(h *stats.Histogram) *Latency {
	if h.Count() == 0 {
		return nil
	}
	ms := func(ns int64) float64 { return float64(ns) / 1e6 }
	return &Latency{
		Samples: h.Count(),
		P50:     ms(h.Quantile(0.50)),
		P90:     ms(h.Quantile(0.90)),
		P99:     ms(h.Quantile(0.99)),
		P999:    ms(h.Quantile(0.999)),
		Max:     ms(h.Max()),
		Mean:    h.Mean() / 1e6,
	}
}

// Result is one run of one scenario against one target: one JSON line.
type Result struct {
	Scenario string    `json:"scenario"`
	Target   string    `json:"target"`
	Label    string    `json:"label,omitempty"`
	Started  time.Time `json:"started"`
	Command  []string  `json:"command"`

	Cores        int        `json:"cores"`
	MemGiB       float64    `json:"mem_gib"`
	GoVersion    string     `json:"go_version"`
	LoadAvgStart [3]float64 `json:"loadavg_start"`
	LoadAvgEnd   [3]float64 `json:"loadavg_end"`

	N          int     `json:"n"`
	Size       int     `json:"size,omitempty"`
	Rate       float64 `json:"rate,omitempty"`
	Window     int     `json:"window,omitempty"`
	Publishers int     `json:"publishers,omitempty"`
	Inflight   int     `json:"inflight,omitempty"`
	DurS       float64 `json:"dur_s,omitempty"`
	ServerPID  int     `json:"server_pid,omitempty"`

	// Connect phase.
	Connected      int      `json:"connected"`
	ConnectErrors  []string `json:"connect_errors,omitempty"`
	ConnectS       float64  `json:"connect_s"`
	ConnectsPerSec float64  `json:"connects_per_s"`
	Handshake      *Latency `json:"handshake,omitempty"`
	SourceAddrs    int      `json:"source_addrs"`

	// CPU over the measured window (the connect phase for connect).
	ServerCPUS       float64 `json:"server_cpu_s,omitempty"`
	ClientCPUS       float64 `json:"client_cpu_s,omitempty"`
	MachineBusyCores float64 `json:"machine_busy_cores,omitempty"`
	// OtherCores is machine busy minus server and client: other processes
	// (and softirq not charged to either) competing for the cores.
	OtherCores       float64 `json:"other_cores"`
	ServerCPUUsPerOp float64 `json:"server_cpu_us_per_op,omitempty"`

	// Idle.
	RSSBaseline     int64   `json:"rss_baseline_bytes,omitempty"`
	RSSLoaded       int64   `json:"rss_loaded_bytes,omitempty"`
	RSSPerConn      float64 `json:"rss_per_conn_bytes,omitempty"`
	GoroutinesStart int     `json:"goroutines_baseline,omitempty"`
	Goroutines      int     `json:"goroutines,omitempty"`

	// Fan-out.
	Published        int64    `json:"published,omitempty"`
	PublishErrors    int64    `json:"publish_errors,omitempty"`
	PublishRate      float64  `json:"publish_rate,omitempty"`
	Expected         int64    `json:"expected,omitempty"`
	Received         int64    `json:"received,omitempty"`
	Lost             int64    `json:"lost"`
	Reordered        int64    `json:"reordered,omitempty"`
	DeliveriesPerSec float64  `json:"deliveries_per_s,omitempty"`
	Latency          *Latency `json:"latency,omitempty"`

	// p2p.
	EchoesPerSec float64 `json:"echoes_per_s,omitempty"`

	Disconnects int            `json:"disconnects"`
	CloseCodes  map[string]int `json:"close_codes,omitempty"`
	Notes       []string       `json:"notes,omitempty"`
}

// newResult fills the machine and command fields.
func newResult(o *options) *Result {
	r := &Result{
		Scenario:  o.scenario,
		Target:    o.target,
		Label:     o.label,
		Started:   time.Now().UTC(),
		Command:   os.Args,
		Cores:     runtime.NumCPU(),
		GoVersion: runtime.Version(),
		N:         o.n,
		ServerPID: o.pid,
	}
	if m, err := stats.MemTotal(); err == nil {
		r.MemGiB = float64(m) / (1 << 30)
	}
	r.LoadAvgStart, _ = stats.LoadAvg()
	return r
}

// write appends r as one JSON line to path (when set) and prints it.
func (r *Result) write(path string) error {
	r.LoadAvgEnd, _ = stats.LoadAvg()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := os.Stdout.Write(b); err != nil {
		return err
	}
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// cpuMeter samples server, client and machine CPU.
type cpuMeter struct {
	pid     int
	server  time.Duration
	client  time.Duration
	machine stats.MachineTimes
	at      time.Time
}

func startCPU(pid int) *cpuMeter {
	m := &cpuMeter{pid: pid, at: time.Now(), client: stats.SelfCPU()}
	if pid > 0 {
		m.server, _ = stats.ProcCPU(pid)
	}
	m.machine, _ = stats.ReadMachineTimes()
	return m
}

// stop fills the CPU fields of r for the interval since start, with ops
// operations for the per-operation figure.
func (m *cpuMeter) stop(r *Result, ops int64) {
	wall := time.Since(m.at).Seconds()
	r.ClientCPUS = (stats.SelfCPU() - m.client).Seconds()
	if mt, err := stats.ReadMachineTimes(); err == nil && wall > 0 {
		r.MachineBusyCores = (mt.Busy - m.machine.Busy).Seconds() / wall
	}
	if m.pid > 0 {
		if s, err := stats.ProcCPU(m.pid); err == nil {
			r.ServerCPUS = (s - m.server).Seconds()
			if ops > 0 {
				r.ServerCPUUsPerOp = r.ServerCPUS * 1e6 / float64(ops)
			}
		}
	}
	if wall > 0 {
		r.OtherCores = r.MachineBusyCores - (r.ServerCPUS+r.ClientCPUS)/wall
	}
}
