package stats

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// subBits is log2 of the sub-buckets per power of two: 64 sub-buckets bound
// the relative error of a reported value by 1/128.
const subBits = 6

const (
	subCount   = 1 << subBits
	numBuckets = subCount + (63-subBits)*subCount
)

// Histogram counts non-negative int64 values (nanoseconds, typically) in
// log-linear buckets: exact below 64, then 64 buckets per power of two. A
// reported quantile is within 1/128 of a value that was recorded. The zero
// value is ready to use; it is about 29 KiB, so share it between goroutines
// rather than making one per connection.
type Histogram struct {
	counts [numBuckets]atomic.Uint64
	total  atomic.Uint64
	sum    atomic.Int64
	max    atomic.Int64
}

// bucketOf returns the bucket index of v (v >= 0).
func bucketOf(v int64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - 1 // v in [2^e, 2^(e+1)), e >= subBits
	sub := int(uint64(v)>>(e-subBits)) & (subCount - 1)
	return subCount + (e-subBits)*subCount + sub
}

// bucketRange returns the smallest value of bucket i and its width.
func bucketRange(i int) (low, width int64) {
	if i < subCount {
		return int64(i), 1
	}
	i -= subCount
	e := i/subCount + subBits
	sub := int64(i % subCount)
	width = int64(1) << (e - subBits)
	return (subCount + sub) * width, width
}

// Record adds one value; negative values count as 0.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)].Add(1)
	h.total.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max returns the largest recorded value (0 when empty).
func (h *Histogram) Max() int64 { return h.max.Load() }

// Mean returns the arithmetic mean of the recorded values (0 when empty).
func (h *Histogram) Mean() float64 {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	return float64(h.sum.Load()) / float64(n)
}

// Merge adds every count of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.total.Add(o.total.Load())
	h.sum.Add(o.sum.Load())
	om := o.max.Load()
	for {
		m := h.max.Load()
		if om <= m || h.max.CompareAndSwap(m, om) {
			return
		}
	}
}

// Quantile returns the nearest-rank q-quantile (0 < q <= 1): a value v such
// that at least ceil(q*Count) recorded values are <= v, reported as the middle
// of its bucket and never above Max. It returns 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) int64 {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	rank = min(rank, n)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			low, width := bucketRange(i)
			return min(low+(width-1)/2, h.max.Load())
		}
	}
	return h.max.Load()
}
