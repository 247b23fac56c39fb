package wsconn

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

func TestBuildFrameMatchesRFCEncoding(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		op   Opcode
		size int
	}{
		{name: "empty", op: OpText, size: 0},
		{name: "7-bit max", op: OpText, size: 125},
		{name: "16-bit min", op: OpBinary, size: 126},
		{name: "16-bit max", op: OpBinary, size: 0xFFFF},
		{name: "64-bit", op: OpBinary, size: 0x10000},
		{name: "pong", op: OpPong, size: 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			payload := bytes.Repeat([]byte{'p'}, tc.size)
			got := BuildFrame(tc.op, payload)
			want, err := ws.CompileFrame(ws.NewFrame(ws.OpCode(tc.op), true, payload))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("frame differs from gobwas encoding: % x vs % x", got[:min(12, len(got))], want[:min(12, len(want))])
			}
			if len(got) != FrameSize(tc.size) || cap(got) != len(got) {
				t.Fatalf("len %d cap %d, want %d", len(got), cap(got), FrameSize(tc.size))
			}
		})
	}
}

func TestFramePayloadAndAppendHeader(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 125, 126, 0xFFFF, 0x10000} {
		p := bytes.Repeat([]byte{'x'}, n)
		f := BuildFrame(OpBinary, p)
		if got := FramePayload(f); !bytes.Equal(got, p) {
			t.Fatalf("size %d: payload of %d bytes", n, len(got))
		}
		if h := AppendHeader(nil, OpBinary, n); !bytes.Equal(append(h, p...), f) {
			t.Fatalf("size %d: AppendHeader + payload differs from BuildFrame", n)
		}
	}
}

func TestCloseFrameFitsControlFrame(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		code       int
		reason     string
		wantLen    int
		wantReason string
	}{
		{name: "code only", code: 1000, reason: "", wantLen: 2, wantReason: ""},
		{name: "with reason", code: 4000, reason: "bye", wantLen: 5, wantReason: "bye"},
		{name: "no status", code: CloseNoStatus, reason: "x", wantLen: 0},
		{name: "zero", code: 0, reason: "x", wantLen: 0},
		{name: "long ascii", code: 1001, reason: strings.Repeat("a", 200), wantLen: 125, wantReason: strings.Repeat("a", 123)},
		{name: "long utf8 cut at rune", code: 1001, reason: strings.Repeat("\u00e9", 100), wantLen: 124, wantReason: strings.Repeat("\u00e9", 61)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := CloseFrame(tc.code, tc.reason)
			if f[0] != 0x88 || int(f[1]) != tc.wantLen || len(f) != 2+tc.wantLen {
				t.Fatalf("header % x len %d, want payload %d", f[:2], len(f), tc.wantLen)
			}
			if tc.wantLen == 0 {
				return
			}
			code, reason, fail := parseClosePayload(f[2:])
			if fail != 0 || code != tc.code || reason != tc.wantReason || !utf8.ValidString(reason) {
				t.Fatalf("decoded (%d, %q, %d)", code, reason, fail)
			}
		})
	}
}

func TestParseClosePayloadChecksCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code int
		fail int
	}{
		{code: 999, fail: CloseProtocolError},
		{code: 1000},
		{code: 1003},
		{code: 1004, fail: CloseProtocolError},
		{code: 1005, fail: CloseProtocolError},
		{code: 1006, fail: CloseProtocolError},
		{code: 1007},
		{code: 1014},
		{code: 1015, fail: CloseProtocolError},
		{code: 2999, fail: CloseProtocolError},
		{code: 3000},
		{code: 4999},
		{code: 5000, fail: CloseProtocolError},
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			_, _, fail := parseClosePayload([]byte{byte(tc.code >> 8), byte(tc.code)})
			if fail != tc.fail {
				t.Fatalf("code %d: fail %d, want %d", tc.code, fail, tc.fail)
			}
		})
	}
}
