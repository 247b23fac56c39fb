package wsframe

import "bytes"

var (
	seqKey = []byte(`"seq":`)
	tsKey  = []byte(`"ts":`)
)

// NextStamp finds the next benchmark stamp in p at or after offset from: a
// `"seq":<int>` followed later by `"ts":<int>`. It returns both numbers and
// the offset just past the timestamp, for the next call; ok is false when no
// complete stamp remains. It finds every message of a frame that batches
// several (newline-delimited JSON, for instance) and ignores any wrapping
// around the benchmark object.
func NextStamp(p []byte, from int) (seq, ts int64, next int, ok bool) {
	if from < 0 || from >= len(p) {
		return 0, 0, len(p), false
	}
	i := bytes.Index(p[from:], seqKey)
	if i < 0 {
		return 0, 0, len(p), false
	}
	i += from + len(seqKey)
	seq, i, ok = parseInt(p, i)
	if !ok {
		return 0, 0, i, false
	}
	j := bytes.Index(p[i:], tsKey)
	if j < 0 {
		return 0, 0, len(p), false
	}
	j += i + len(tsKey)
	ts, j, ok = parseInt(p, j)
	return seq, ts, j, ok
}

// parseInt parses a decimal integer (optional '-') at p[i:] and returns it
// with the offset after its last digit.
func parseInt(p []byte, i int) (v int64, end int, ok bool) {
	neg := false
	if i < len(p) && p[i] == '-' {
		neg = true
		i++
	}
	start := i
	for i < len(p) && p[i] >= '0' && p[i] <= '9' && i-start < 19 {
		v = v*10 + int64(p[i]-'0')
		i++
	}
	if i == start {
		return 0, i, false
	}
	if neg {
		v = -v
	}
	return v, i, true
}
