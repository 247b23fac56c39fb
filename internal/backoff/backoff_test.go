package backoff

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func TestRangeFollowsTheDefaultSchedule(t *testing.T) {
	t.Parallel()
	cases := []struct {
		attempt int
		hi      time.Duration
	}{
		{-3, time.Second},
		{0, time.Second},
		{1, 1500 * time.Millisecond},
		{2, 2250 * time.Millisecond},
		{3, 3375 * time.Millisecond},
		{8, time.Duration(float64(time.Second) * math.Pow(1.5, 8))},
		{9, 30 * time.Second}, // 1.5^9 s ≈ 38.4 s would pass the cap
		{100, 30 * time.Second},
		{math.MaxInt, 30 * time.Second},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("attempt %d", tc.attempt), func(t *testing.T) {
			t.Parallel()
			lo, hi := Policy{}.Range(tc.attempt)
			if hi != tc.hi {
				t.Fatalf("Range(%d) hi = %v, want %v", tc.attempt, hi, tc.hi)
			}
			if want := hi - time.Duration(0.2*float64(hi)); lo != want {
				t.Fatalf("Range(%d) lo = %v, want %v", tc.attempt, lo, want)
			}
		})
	}
}

func TestDelayStaysWithinRange(t *testing.T) {
	t.Parallel()
	policies := []struct {
		name string
		p    Policy
	}{
		{"default", Policy{}},
		{"no jitter", Policy{Jitter: -1}},
		{"full jitter", Policy{Jitter: 1}},
		{"jitter over one", Policy{Jitter: 7}},
		{"constant", Policy{Base: 50 * time.Millisecond, Factor: 0.5, Max: time.Second}},
		{"base over max", Policy{Base: time.Minute, Max: time.Second}},
		{"steep", Policy{Base: time.Millisecond, Factor: 10, Max: 5 * time.Second}},
	}
	for _, tc := range policies {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			max := tc.p.withDefaults().Max
			for attempt := range 40 {
				lo, hi := tc.p.Range(attempt)
				if lo < 0 || lo > hi || hi > max {
					t.Fatalf("Range(%d) = [%v, %v], max %v", attempt, lo, hi, max)
				}
				for range 200 {
					if d := tc.p.Delay(attempt); d < lo || d > hi {
						t.Fatalf("Delay(%d) = %v outside [%v, %v]", attempt, d, lo, hi)
					}
				}
			}
		})
	}
}

func TestRangeNeverShrinksWithAttempts(t *testing.T) {
	t.Parallel()
	var prevLo, prevHi time.Duration
	for attempt := range 60 {
		lo, hi := Policy{}.Range(attempt)
		if lo < prevLo || hi < prevHi {
			t.Fatalf("attempt %d: [%v, %v] below previous [%v, %v]", attempt, lo, hi, prevLo, prevHi)
		}
		prevLo, prevHi = lo, hi
	}
	if prevHi != DefaultMax || prevLo != 24*time.Second {
		t.Fatalf("final range [%v, %v], want [24s, 30s]", prevLo, prevHi)
	}
}

func TestDelayIsJittered(t *testing.T) {
	t.Parallel()
	seen := make(map[time.Duration]bool)
	for range 100 {
		seen[Policy{}.Delay(3)] = true
	}
	if len(seen) < 10 {
		t.Fatalf("only %d distinct delays in 100 draws", len(seen))
	}
	if d := (Policy{Jitter: -1}).Delay(3); d != 3375*time.Millisecond {
		t.Fatalf("unjittered Delay(3) = %v", d)
	}
}
