package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// exactQuantile is the nearest-rank quantile of sorted values.
func exactQuantile(sorted []int64, q float64) int64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = max(rank, 1)
	return sorted[rank-1]
}

func TestHistogramQuantileMatchesExactWithinError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		gen  func(*rand.Rand) int64
	}{
		{"small exact", func(r *rand.Rand) int64 { return r.Int64N(64) }},
		{"uniform ms", func(r *rand.Rand) int64 { return r.Int64N(10_000_000) }},
		{"exponential", func(r *rand.Rand) int64 { return int64(r.ExpFloat64() * 3e6) }},
		{"heavy tail", func(r *rand.Rand) int64 { return int64(math.Exp(r.Float64() * 25)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, 2))
			var h Histogram
			vals := make([]int64, 20000)
			for i := range vals {
				vals[i] = tt.gen(rng)
				h.Record(vals[i])
			}
			slices.Sort(vals)
			for _, q := range []float64{0.001, 0.5, 0.9, 0.99, 0.999, 1} {
				want := exactQuantile(vals, q)
				got := h.Quantile(q)
				if d := math.Abs(float64(got - want)); d > float64(want)/128+1 {
					t.Errorf("q%.3f = %d, exact %d (error %.0f)", q, got, want, d)
				}
			}
			if h.Count() != uint64(len(vals)) || h.Max() != vals[len(vals)-1] {
				t.Errorf("count %d max %d, want %d %d", h.Count(), h.Max(), len(vals), vals[len(vals)-1])
			}
		})
	}
}

func TestHistogramQuantileEdgeCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vals []int64
		q    float64
		want int64
	}{
		{"empty", nil, 0.5, 0},
		{"single", []int64{1000}, 0.99, 1000},
		{"negative is zero", []int64{-5}, 0.5, 0},
		{"median of two", []int64{10, 20}, 0.5, 10},
		{"q above 1 clamps", []int64{1, 2, 3}, 2, 3},
		{"q zero is min rank", []int64{7, 9}, 0, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var h Histogram
			for _, v := range tt.vals {
				h.Record(v)
			}
			if got := h.Quantile(tt.q); got != tt.want {
				t.Fatalf("Quantile(%v) = %d, want %d", tt.q, got, tt.want)
			}
		})
	}
}

func TestHistogramBucketsCoverEveryValue(t *testing.T) {
	t.Parallel()
	for _, v := range []int64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 40, math.MaxInt64} {
		i := bucketOf(v)
		low, width := bucketRange(i)
		if i < 0 || i >= numBuckets || v < low || v-low >= width {
			t.Fatalf("value %d: bucket %d = [%d, +%d)", v, i, low, width)
		}
	}
}

func TestHistogramMergeAddsCounts(t *testing.T) {
	t.Parallel()
	var a, b Histogram
	for i := range int64(100) {
		a.Record(i)
		b.Record(1000 + i)
	}
	a.Merge(&b)
	if a.Count() != 200 || a.Max() != 1099 {
		t.Fatalf("merged count %d max %d", a.Count(), a.Max())
	}
	if got := a.Quantile(0.5); got != 99 {
		t.Fatalf("merged median %d, want 99", got)
	}
	if got := a.Mean(); got != 549.5 {
		t.Fatalf("merged mean %v, want 549.5", got)
	}
}

func TestHistogramRecordDoesNotAllocate(t *testing.T) {
	var h Histogram
	if a := testing.AllocsPerRun(100, func() { h.Record(123456) }); a != 0 {
		t.Fatalf("Record allocates %.1f times", a)
	}
}
