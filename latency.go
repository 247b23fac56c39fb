package wse

import (
	"sync/atomic"
	"time"
)

// LatencyBuckets are the upper bounds, in seconds, of the buckets of every
// LatencyHistogram: 5 µs to 10 s, roughly ×2.5 apart.
var LatencyBuckets = []float64{
	0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// latencyBounds are LatencyBuckets in nanoseconds, for observe.
var latencyBounds = func() []int64 {
	out := make([]int64, len(LatencyBuckets))
	for i, s := range LatencyBuckets {
		out[i] = int64(s * float64(time.Second))
	}
	return out
}()

// histogram counts durations into LatencyBuckets with atomics only, so that
// observing costs a few nanoseconds and never blocks.
type histogram struct {
	counts [21]atomic.Uint64 // len(LatencyBuckets)+1: the last is +Inf
	sum    atomic.Int64      // nanoseconds
}

// observe adds d to the histogram.
func (h *histogram) observe(d time.Duration) {
	ns := int64(d)
	i := 0
	for i < len(latencyBounds) && latencyBounds[i] < ns {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(ns)
}

// snapshot returns the histogram's current counts. Buckets are read one by
// one, so a snapshot taken during observations may be off by those in
// flight; Count is the sum of the buckets read, so it is consistent with
// them.
func (h *histogram) snapshot() LatencyHistogram {
	out := LatencyHistogram{Buckets: make([]uint64, len(h.counts))}
	for i := range h.counts {
		out.Buckets[i] = h.counts[i].Load()
		out.Count += out.Buckets[i]
	}
	out.SumSeconds = time.Duration(h.sum.Load()).Seconds()
	return out
}

// LatencyHistogram is a snapshot of a latency distribution.
type LatencyHistogram struct {
	// Buckets[i] counts observations at most LatencyBuckets[i] seconds and
	// above the bucket before (not cumulative); the last entry counts those
	// above every bound.
	Buckets []uint64 `json:"buckets"`
	// Count is the number of observations.
	Count uint64 `json:"count"`
	// SumSeconds is the sum of the observations in seconds.
	SumSeconds float64 `json:"sum_seconds"`
}

// publishSampling is 1 in how many local publications the publish
// histogram times.
const publishSampling = 8

// latencies are the engine's latency histograms.
type latencies struct {
	// publish: from a local publication's start to its frame queued for
	// every local subscriber (stamping and fan-out included).
	publish histogram
	// handshake: from an upgrade request's arrival to server_ready queued.
	handshake histogram
}

// Latencies is a snapshot of the engine's latency histograms.
type Latencies struct {
	// Publish measures a local publication (Broadcast, BroadcastLocal, a
	// message from a cluster peer) from its start until its frame was
	// queued for every local subscriber: stamping and fan-out, not the
	// socket writes that follow. One publication in 8 is timed, so Count
	// is about an eighth of the publications.
	Publish LatencyHistogram `json:"publish"`
	// Handshake measures an accepted upgrade from the request's arrival to
	// server_ready queued (token verification and the upgrade included).
	Handshake LatencyHistogram `json:"handshake"`
}

// Latencies returns the latency histograms. It is safe for concurrent use
// and does not block.
func (s *Server) Latencies() Latencies {
	return Latencies{Publish: s.latency.publish.snapshot(), Handshake: s.latency.handshake.snapshot()}
}

// TopTopics returns the n topics with the most publications fanned out to
// local subscribers, most first. A topic's count starts when it gains its
// first local subscriber and goes with its last, so the list is bounded by
// the topics in use and n. It reads every topic once (O(topics · log n)).
func (s *Server) TopTopics(n int) []TopicMessages { return s.hub.topMessages(n) }

// Accepting reports whether the server takes new connections: started, not
// stopped and not draining. Load balancers read it as readiness.
func (s *Server) Accepting() bool { return s.running.Load() && !s.draining.Load() }
