package protocol

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"fmt"
	"io"
	"math"
	"sync"
)

// zlibWriters reuses zlib compressors, which cost about 1.2 MB each to
// allocate (see BenchmarkCompress).
var zlibWriters = sync.Pool{
	New: func() any {
		w, _ := zlib.NewWriterLevel(io.Discard, flate.BestSpeed) // the level is valid, so err is nil
		return w
	},
}

// zlibReaders reuses zlib decompressors (io.ReadCloser values that are
// zlib.Resetter), which cost about 40 KiB each to allocate.
var zlibReaders sync.Pool

// zlibReader returns a pooled or new zlib reader of src.
func zlibReader(src io.Reader) (io.ReadCloser, error) {
	r, ok := zlibReaders.Get().(io.ReadCloser)
	if !ok {
		return zlib.NewReader(src)
	}
	if err := r.(zlib.Resetter).Reset(src, nil); err != nil {
		zlibReaders.Put(r)
		return nil, err
	}
	return r, nil
}

// Compress returns "C:" followed by data compressed with zlib (zlib header,
// fastest level), the form of compressed send_event frames.
func Compress(data []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(2 + len(data)/2 + 64)
	buf.WriteString("C:")
	w := zlibWriters.Get().(*zlib.Writer)
	w.Reset(&buf)
	// Writes to a bytes.Buffer cannot fail.
	_, _ = w.Write(data)
	_ = w.Close()
	w.Reset(io.Discard)
	zlibWriters.Put(w)
	return buf.Bytes()
}

// Inflate decompresses zlib data (without the "C:" prefix). Output over limit
// bytes is an error wrapping ErrTooLarge, so a non-positive limit accepts
// only empty output; data that is not a complete, valid zlib stream is an
// error wrapping ErrInvalid.
func Inflate(data []byte, limit int64) ([]byte, error) {
	r, err := zlibReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: zlib: %w", ErrInvalid, err)
	}
	defer zlibReaders.Put(r)
	limit = max(limit, 0)
	var out bytes.Buffer
	n, err := out.ReadFrom(io.LimitReader(r, min(limit, math.MaxInt64-1)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: zlib: %w", ErrInvalid, err)
	}
	if n > limit {
		return nil, fmt.Errorf("%w: inflated size over %d bytes", ErrTooLarge, limit)
	}
	return out.Bytes(), nil
}
