package wse

import (
	"testing"
	"time"
)

// BenchmarkLatencyObserve is what a timed publication adds: two clock
// reads and one histogram observation (publishLocal times 1 in
// publishSampling publications).
func BenchmarkLatencyObserve(b *testing.B) {
	var h histogram
	for i := 0; i < b.N; i++ {
		start := time.Now()
		h.observe(time.Since(start))
	}
}

// BenchmarkHubPublishCount is the hub lookup of a publication with the
// per-topic message count it now includes, to one subscriber that does
// nothing.
func BenchmarkHubPublishCount(b *testing.B) {
	h := newHub()
	h.add("bench", &conn{})
	for i := 0; i < b.N; i++ {
		h.publish("bench", func(*conn) {})
	}
}

// BenchmarkHubEach is BenchmarkHubPublishCount without the count, for the
// ratio.
func BenchmarkHubEach(b *testing.B) {
	h := newHub()
	h.add("bench", &conn{})
	for i := 0; i < b.N; i++ {
		h.each("bench", func(*conn) {})
	}
}
