package main

import (
	"errors"
	"testing"
)

func TestParseOptionsRefusesNonLoopbackAndUnknownValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want error
	}{
		{"foreign ws url", []string{"-url", "ws://192.0.2.7:5007/wse"}, errUsage},
		{"host name", []string{"-url", "ws://localhost:5007/wse"}, errUsage},
		{"foreign api", []string{"-api", "http://10.1.2.3:5008"}, errUsage},
		{"unknown scenario", []string{"-scenario", "storm"}, errUsage},
		{"unknown target", []string{"-target", "nginx"}, errUsage},
		{"zero n", []string{"-n", "0"}, errUsage},
		{"stray argument", []string{"extra"}, errUsage},
		{"cluster needs wse", []string{"-scenario", "cluster-fanout", "-target", "raw"}, errUsage},
		{"foreign publish api", []string{"-pub-api", "http://192.0.2.1:5008"}, errUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := parseOptions(tt.args); !errors.Is(err, tt.want) {
				t.Fatalf("parseOptions(%q) error = %v, want %v", tt.args, err, tt.want)
			}
		})
	}
}

func TestParseOptionsFillsTargetDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		target, ws, api string
		buf             int
		scenario        string
	}{
		{"wse", "ws://127.0.0.1:19107/wse", "http://127.0.0.1:19108", 4096, "fanout"},
		{"centrifuge", "ws://127.0.0.1:19200/connection/websocket", "http://127.0.0.1:19200", 1024, "idle"},
		{"raw", "ws://127.0.0.1:19300/ws", "http://127.0.0.1:19300", 1024, "connect"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			t.Parallel()
			o, err := parseOptions([]string{"-target", tt.target, "-scenario", tt.scenario})
			if err != nil {
				t.Fatal(err)
			}
			if o.wsURL != tt.ws || o.apiURL != tt.api || o.bufSize != tt.buf {
				t.Fatalf("defaults = %q %q %d", o.wsURL, o.apiURL, o.bufSize)
			}
		})
	}
}

func TestPayloadHasRequestedSizeAndStamp(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 60, 100, 1000} {
		p := payload(nil, 42, size, 1700000000123456789)
		if size >= 80 && len(p) != size {
			t.Errorf("payload(size %d) is %d bytes: %s", size, len(p), p)
		}
		if len(p) < size {
			t.Errorf("payload(size %d) is short: %d bytes", size, len(p))
		}
	}
}

func TestPromValueReadsUnlabelledSample(t *testing.T) {
	t.Parallel()
	b := []byte("# HELP go_goroutines x\n# TYPE go_goroutines gauge\ngo_goroutines_total 1\ngo_goroutines 17\n")
	if v, err := promValue(b, "go_goroutines"); err != nil || v != 17 {
		t.Fatalf("promValue = %d, %v", v, err)
	}
	if _, err := promValue(b, "wse_connections"); !errors.Is(err, errServer) {
		t.Fatalf("missing metric: error %v", err)
	}
}
