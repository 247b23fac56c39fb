package wse

import (
	"fmt"
	"testing"
	"time"
)

func TestHistogramBucketsByUpperBound(t *testing.T) {
	t.Parallel()
	var h histogram
	for _, d := range []time.Duration{0, 5 * time.Microsecond, 6 * time.Microsecond, time.Millisecond, time.Minute} {
		h.observe(d)
	}
	s := h.snapshot()
	if s.Count != 5 || len(s.Buckets) != len(LatencyBuckets)+1 {
		t.Fatalf("snapshot %+v", s)
	}
	want := map[int]uint64{0: 2, 1: 1, 7: 1, len(LatencyBuckets): 1} // ≤5µs, ≤10µs, ≤1ms, +Inf
	for i, n := range s.Buckets {
		if n != want[i] {
			t.Errorf("bucket %d (≤ %v s) = %d, want %d", i, append(LatencyBuckets, 0)[i], n, want[i])
		}
	}
	if wantSum := (time.Minute + time.Millisecond + 11*time.Microsecond).Seconds(); s.SumSeconds != wantSum {
		t.Errorf("sum %v, want %v", s.SumSeconds, wantSum)
	}
}

func TestHubTopMessagesKeepsTheBusiest(t *testing.T) {
	t.Parallel()
	h := newHub()
	c := &conn{}
	for i := range 10 {
		topic := fmt.Sprintf("t%d", i)
		h.add(topic, c)
		for range i {
			h.publish(topic, func(*conn) {})
		}
	}
	h.add("tie", c)
	for range 9 {
		h.publish("tie", func(*conn) {})
	}
	got := h.topMessages(3)
	want := []TopicMessages{{"t9", 9}, {"tie", 9}, {"t8", 8}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("topMessages(3) = %v, want %v", got, want)
	}
	if n := len(h.topMessages(100)); n != 11 {
		t.Fatalf("topMessages(100) has %d topics, want 11", n)
	}
	h.remove("t9", c) // a topic's count goes with its last subscriber
	if got := h.topMessages(1); got[0].Topic != "tie" {
		t.Fatalf("after removing t9: %v", got)
	}
	if h.topMessages(0) != nil {
		t.Fatal("topMessages(0) is not empty")
	}
}
