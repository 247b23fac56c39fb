package main

import (
	"math"
	"strings"
	"testing"
)

func TestMedianOfOddEvenAndEmpty(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{7}, 7},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median(nil) is not NaN")
	}
}

func TestWriteReportShowsMediansRangesAndRatios(t *testing.T) {
	t.Parallel()
	fan := func(target string, dps float64) *Result {
		return &Result{Scenario: "fanout", Target: target, N: 1000, Size: 100, DeliveriesPerSec: dps, DurS: 10}
	}
	results := []*Result{
		fan("wse", 300), fan("wse", 100), fan("wse", 200),
		fan("centrifuge", 100),
		fan("raw", 400), fan("raw", 400), fan("raw", 400),
		{Scenario: "idle", Target: "wse", N: 10000, RSSPerConn: 2048},
	}
	var b strings.Builder
	if err := writeReport(&b, results); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"### fanout",
		"| 1000 subs, 100 B, max | deliveries/s | 200 [100–300] | 100 | 400 [400–400] | 2.00 | 0.50 |",
		"### idle",
		"| 10000 conns | RSS/conn KiB | 2.00 | – | – | – | – |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "### idle") > strings.Index(out, "### fanout") {
		t.Error("scenarios out of order")
	}
}
