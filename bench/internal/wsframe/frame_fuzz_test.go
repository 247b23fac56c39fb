package wsframe

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParseHeader checks that ParseHeader never panics, that it reports only
// its two sentinels, and that a header it accepts re-encodes to the same
// bytes (RFC 6455 lengths are minimal, so the encoding is unique).
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0x81, 0x05, 'h', 'e', 'l', 'l', 'o'})
	f.Add([]byte{0x82, 126, 0x01, 0x00})
	f.Add([]byte{0x89, 0x80, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			if !errors.Is(err, ErrShort) && !errors.Is(err, ErrProtocol) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if h.Size < 2 || h.Size > MaxHeaderLen || h.Size > len(b) || h.Len < 0 {
			t.Fatalf("bad header %+v for % x", h, b)
		}
		if !h.Fin || h.Len > 1<<16 {
			return
		}
		var mask *[4]byte
		if h.Masked {
			mask = &h.Mask
		}
		re := AppendFrame(nil, h.Op, mask, make([]byte, h.Len))
		if !bytes.Equal(re[:h.Size], b[:h.Size]) {
			t.Fatalf("re-encoded header % x, parsed from % x", re[:h.Size], b[:h.Size])
		}
	})
}
