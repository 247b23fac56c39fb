package wsframe

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseHeaderDecodesValidHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want Header
	}{
		{"empty text", []byte{0x81, 0x00}, Header{Fin: true, Op: OpText, Size: 2}},
		{"short binary", []byte{0x82, 0x05}, Header{Fin: true, Op: OpBinary, Len: 5, Size: 2}},
		{"125 bytes", []byte{0x81, 125}, Header{Fin: true, Op: OpText, Len: 125, Size: 2}},
		{"16-bit length", []byte{0x81, 126, 0x00, 126}, Header{Fin: true, Op: OpText, Len: 126, Size: 4}},
		{"64-bit length", []byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}, Header{Fin: true, Op: OpBinary, Len: 65536, Size: 10}},
		{"continuation not final", []byte{0x00, 0x03}, Header{Op: OpContinuation, Len: 3, Size: 2}},
		{"masked ping", []byte{0x89, 0x82, 1, 2, 3, 4}, Header{Fin: true, Op: OpPing, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Len: 2, Size: 6}},
		{"masked 16-bit", []byte{0x81, 0xFE, 0x01, 0x00, 9, 8, 7, 6}, Header{Fin: true, Op: OpText, Masked: true, Mask: [4]byte{9, 8, 7, 6}, Len: 256, Size: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseHeader(tt.in)
			if err != nil {
				t.Fatalf("ParseHeader: %v", err)
			}
			if got != tt.want {
				t.Fatalf("ParseHeader = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseHeaderRejectsShortAndInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"nothing", nil, ErrShort},
		{"one byte", []byte{0x81}, ErrShort},
		{"16-bit cut", []byte{0x81, 126, 0}, ErrShort},
		{"64-bit cut", []byte{0x81, 127, 0, 0, 0}, ErrShort},
		{"mask cut", []byte{0x81, 0x81, 1, 2}, ErrShort},
		{"reserved bit", []byte{0xC1, 0x00}, ErrProtocol},
		{"unknown opcode", []byte{0x83, 0x00}, ErrProtocol},
		{"fragmented ping", []byte{0x09, 0x00}, ErrProtocol},
		{"long close", []byte{0x88, 126, 0x00, 0x80}, ErrProtocol},
		{"non-minimal 16-bit", []byte{0x81, 126, 0x00, 0x10}, ErrProtocol},
		{"non-minimal 64-bit", []byte{0x81, 127, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, ErrProtocol},
		{"64-bit sign bit", []byte{0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseHeader(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("ParseHeader(% x) error = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func TestAppendFrameRoundTrips(t *testing.T) {
	t.Parallel()
	mask := [4]byte{0xA1, 0xB2, 0xC3, 0xD4}
	tests := []struct {
		name string
		n    int
		mask *[4]byte
	}{
		{"server empty", 0, nil},
		{"server 125", 125, nil},
		{"server 126", 126, nil},
		{"server 70000", 70000, nil},
		{"client 10", 10, &mask},
		{"client 300", 300, &mask},
		{"client 65536", 65536, &mask},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			payload := bytes.Repeat([]byte("abcdefg"), tt.n/7+1)[:tt.n]
			f := AppendFrame([]byte("prefix"), OpText, tt.mask, payload)
			if !bytes.HasPrefix(f, []byte("prefix")) {
				t.Fatal("AppendFrame dropped the existing bytes")
			}
			f = f[len("prefix"):]
			h, err := ParseHeader(f)
			if err != nil {
				t.Fatalf("ParseHeader: %v", err)
			}
			if !h.Fin || h.Op != OpText || h.Len != int64(tt.n) || h.Masked != (tt.mask != nil) {
				t.Fatalf("header = %+v", h)
			}
			if int64(len(f)) != int64(h.Size)+h.Len {
				t.Fatalf("frame length %d, header says %d+%d", len(f), h.Size, h.Len)
			}
			got := f[h.Size:]
			if h.Masked {
				Mask(got, h.Mask, 0)
			}
			if !bytes.Equal(got, payload) {
				t.Fatal("payload differs after the round trip")
			}
		})
	}
}

func TestMaskHonoursOffset(t *testing.T) {
	t.Parallel()
	key := [4]byte{1, 2, 3, 4}
	whole := []byte("0123456789")
	Mask(whole, key, 0)
	split := []byte("0123456789")
	Mask(split[:3], key, 0)
	Mask(split[3:], key, 3)
	if !bytes.Equal(whole, split) {
		t.Fatalf("masking in two parts = %q, in one = %q", split, whole)
	}
}
