package stats

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestParseStatCPUHandlesAwkwardNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want time.Duration
	}{
		{"plain", "42 (wse-server) S 1 42 42 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 9 0 1 2 3", 280 * ClockTick},
		{"spaces and parens", "7 (a) b (c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0", 3 * ClockTick},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseStatCPU([]byte(tt.in))
			if err != nil || got != tt.want {
				t.Fatalf("parseStatCPU = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if _, err := parseStatCPU([]byte("1 (x) S 1")); !errors.Is(err, ErrProcFormat) {
		t.Fatalf("short stat: error %v", err)
	}
}

func TestParseStatusKBReadsRSS(t *testing.T) {
	t.Parallel()
	in := []byte("Name:\tx\nVmPeak:\t  9999 kB\nVmRSS:\t    8704 kB\nThreads:\t5\n")
	got, err := parseStatusKB(in, "VmRSS:")
	if err != nil || got != 8704*1024 {
		t.Fatalf("parseStatusKB = %d, %v", got, err)
	}
	if _, err := parseStatusKB(in, "VmSwap:"); !errors.Is(err, ErrProcFormat) {
		t.Fatalf("missing key: error %v", err)
	}
}

func TestParseMachineTimesSplitsBusyAndIdle(t *testing.T) {
	t.Parallel()
	in := []byte("cpu  100 5 50 1000 20 1 4 0 7 0\ncpu0 1 2 3 4\n")
	got, err := parseMachineTimes(in)
	if err != nil {
		t.Fatal(err)
	}
	if got.Busy != 160*ClockTick || got.Total != 1180*ClockTick {
		t.Fatalf("busy %v total %v", got.Busy, got.Total)
	}
}

func TestProcReadersWorkOnThisProcess(t *testing.T) {
	t.Parallel()
	pid := os.Getpid()
	if rss, err := ProcRSS(pid); err != nil || rss <= 0 {
		t.Fatalf("ProcRSS = %d, %v", rss, err)
	}
	if _, err := ProcCPU(pid); err != nil {
		t.Fatalf("ProcCPU: %v", err)
	}
	if _, err := ReadMachineTimes(); err != nil {
		t.Fatalf("ReadMachineTimes: %v", err)
	}
	if _, err := LoadAvg(); err != nil {
		t.Fatalf("LoadAvg: %v", err)
	}
}
