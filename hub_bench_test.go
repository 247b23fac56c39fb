package wse

import (
	"fmt"
	"testing"
)

// benchHub returns a hub with 10,000 connections (no sockets: the benchmark
// measures the registry) each subscribed to its own topic
// "prices.S<i>.bid" and, when patterns is set, also 10,000 connections each
// subscribed to a pattern "prices.S<i>.*".
func benchHub(patterns bool) *hub {
	h := newHub()
	for i := range 10_000 {
		h.add(fmt.Sprintf("prices.S%05d.bid", i), &conn{})
		if patterns {
			h.add(fmt.Sprintf("prices.S%05d.*", i), &conn{})
		}
	}
	return h
}

// BenchmarkHubFanoutPatterns10K is the registry's share of one publication
// to "prices.S04242.bid": exact-only, then with 10,000 patterns subscribed
// of which one matches (so one more subscriber is reached). The cost with
// patterns grows with the matching patterns, not with the 10,000.
func BenchmarkHubFanoutPatterns10K(b *testing.B) {
	for _, patterns := range []bool{false, true} {
		b.Run(fmt.Sprintf("patterns=%v", patterns), func(b *testing.B) {
			h := benchHub(patterns)
			want := 1
			if patterns {
				want = 2
			}
			b.ReportAllocs()
			for b.Loop() {
				if n := h.eachMatching("prices.S04242.bid", func(*conn) {}); n != want {
					b.Fatalf("reached %d", n)
				}
			}
		})
	}
}
