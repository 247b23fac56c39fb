package protocol

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestCompressRoundTripsThroughInflate(t *testing.T) {
	t.Parallel()
	cases := map[string][]byte{
		"empty":      {},
		"small":      []byte(`{"t":"x"}`),
		"repetitive": []byte(strings.Repeat(`{"t":"tick","p":{"price":1.5}}`, 1000)),
		"binary":     {0, 1, 2, 0xff, 0xfe},
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := Compress(data)
			if !bytes.HasPrefix(c, []byte("C:")) {
				t.Fatalf("missing C: prefix: %q", c)
			}
			// Standard zlib readers accept it, with a zlib header.
			r, err := zlib.NewReader(bytes.NewReader(c[2:]))
			if err != nil {
				t.Fatalf("zlib header: %v", err)
			}
			std, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(std, data) {
				t.Fatalf("standard inflate = %q, %v", std, err)
			}
			got, err := Inflate(c[2:], int64(len(data)))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("Inflate = %q, %v", got, err)
			}
		})
	}
}

func TestInflateEnforcesTheBound(t *testing.T) {
	t.Parallel()
	bomb := Compress(make([]byte, 10<<20))[2:] // 10 MiB of zeros in a few KiB
	cases := []struct {
		name  string
		data  []byte
		limit int64
		err   error
	}{
		{"bomb", bomb, 1 << 20, ErrTooLarge},
		{"exact", bomb, 10 << 20, nil},
		{"negative limit", Compress([]byte("a"))[2:], -1, ErrTooLarge},
		{"empty output with zero limit", Compress(nil)[2:], 0, nil},
		{"not zlib", []byte("not-zlib"), 100, ErrInvalid},
		{"empty input", nil, 100, ErrInvalid},
		{"truncated", bomb[:len(bomb)/2], 20 << 20, ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Inflate(tc.data, tc.limit)
			if tc.err == nil && err != nil || !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}
}
