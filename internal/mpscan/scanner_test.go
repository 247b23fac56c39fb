package mpscan

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestNextReadsEveryKind(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   []byte
		want Token
	}{
		{"nil", []byte{0xc0}, Token{Kind: Nil}},
		{"true", []byte{0xc3}, Token{Kind: Bool, Bool: true}},
		{"positive fixint", []byte{0x7f}, Token{Kind: Uint, Uint: 127}},
		{"negative fixint", []byte{0xff}, Token{Kind: Int, Int: -1}},
		{"uint16", []byte{0xcd, 0x01, 0x00}, Token{Kind: Uint, Uint: 256}},
		{"int8", []byte{0xd0, 0x80}, Token{Kind: Int, Int: -128}},
		{"float32", []byte{0xca, 0x3f, 0xc0, 0, 0}, Token{Kind: Float, Float: 1.5, Bits: 32}},
		{"fixstr", []byte{0xa2, 'h', 'i'}, Token{Kind: Str}},
		{"fixarray", []byte{0x92, 0x01, 0x02}, Token{Kind: Array, Len: 2}},
		{"map16", []byte{0xde, 0x00, 0x01, 0xa1, 'k', 0xc0}, Token{Kind: Map, Len: 1}},
		{"timestamp32", []byte{0xd6, 0xff, 0, 0, 0, 1}, Token{Kind: Time, Time: time.Unix(1, 0).UTC()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := New(tc.in).Next()
			got.Bytes = nil
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Next = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestNextRefusesBadInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"claimed map larger than the input", []byte{0xdf, 0xff, 0xff, 0xff, 0xff}, ErrTruncated},
		{"claimed fixmap larger than the input", []byte{0x82, 0xa1, 'a'}, ErrTruncated},
		{"claimed string larger than the input", []byte{0xdb, 0xff, 0xff, 0xff, 0xff}, ErrTruncated},
		{"NaN", []byte{0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1}, ErrFloat},
		{"unknown ext", []byte{0xd4, 0x05, 0x00}, ErrExt},
		{"nanoseconds over a second", []byte{0xd7, 0xff, 0xff, 0xff, 0xff, 0xfc, 0, 0, 0, 0}, ErrExt},
		{"reserved byte", []byte{0xc1}, ErrReserved},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(tc.in).Next(); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNextKeyWantsAString(t *testing.T) {
	t.Parallel()
	s := New([]byte{0xa1, 'k', 0x01})
	if k, err := s.NextKey(); err != nil || string(k) != "k" {
		t.Fatalf("NextKey = %q, %v", k, err)
	}
	// The type byte is checked before anything is read.
	if _, err := s.NextKey(); !errors.Is(err, ErrKey) {
		t.Fatalf("int key: %v", err)
	}
	if tok, err := s.Next(); err != nil || tok.Kind != Uint || !s.Done() {
		t.Fatalf("after a refused key: %+v, %v, done %v", tok, err, s.Done())
	}
	if _, err := s.NextKey(); !errors.Is(err, ErrTruncated) {
		t.Fatalf("at the end: %v", err)
	}
}
