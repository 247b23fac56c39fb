package protocol

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

func TestClassifyTextDispatchesOnTopLevelT(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		kind Kind
		msg  map[string]any
		ts   int64
	}{
		{"leading whitespace", ` {"t":"x"}`, KindMsg, map[string]any{"t": "x"}, 0},
		{"type ping is a message", `{"type":"ping"}`, KindMsg, map[string]any{"t": "ping"}, 0},
		{"uppercase PING is a message", `{"t":"PING"}`, KindMsg, map[string]any{"t": "PING"}, 0},
		{"null", `null`, KindRaw, nil, 0},
		{"prefix then space", `WSE {"t":"x"}`, KindRaw, nil, 0},
		{"double prefix", `WSES{"t":"x"}`, KindRaw, nil, 0},
		{"prefixed ping", `U{"t":"ping","p":{"timestamp":5}}`, KindPing, nil, 5},
		{"fractional timestamp", `{"t":"ping","p":{"timestamp":12.9}}`, KindPing, nil, 12},
		{"negative timestamp", `{"t":"ping","p":{"timestamp":-3}}`, KindPing, nil, -3},
		{"string timestamp", `{"t":"ping","p":{"timestamp":"12"}}`, KindPing, nil, 0},
		{"huge timestamp", `{"t":"ping","p":{"timestamp":1e300}}`, KindPing, nil, 0},
		{"p not an object", `{"t":"ping","p":7}`, KindPing, nil, 0},
		{"subscription", `{"t":"subscription","payload":{"topics":[]}}`, KindSubscription,
			map[string]any{"t": "subscription", "p": map[string]any{"topics": []any{}}}, 0},
		{"payload kept when p exists", `{"t":"x","p":1,"payload":2}`, KindMsg,
			map[string]any{"t": "x", "p": 1.0, "payload": 2.0}, 0},
		{"null t is not replaced", `{"t":null,"type":"x"}`, KindMsg, map[string]any{"t": nil, "type": "x"}, 0},
		{"batch without messages", `{"t":"batch","p":{}}`, KindMsg,
			map[string]any{"t": "batch", "p": map[string]any{}}, 0},
		{"batch with a non-object entry", `{"t":"batch","p":{"messages":[{"type":"a"},1]}}`, KindMsg,
			map[string]any{"t": "batch", "p": map[string]any{"messages": []any{map[string]any{"type": "a"}, 1.0}}}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := ClassifyText([]byte(tc.in))
			if in.Kind != tc.kind {
				t.Fatalf("kind = %v, want %v", in.Kind, tc.kind)
			}
			if tc.kind == KindRaw && in.Raw != tc.in {
				t.Fatalf("raw = %q, want the original", in.Raw)
			}
			if tc.msg != nil && !reflect.DeepEqual(in.Msg, tc.msg) {
				t.Fatalf("msg = %#v, want %#v", in.Msg, tc.msg)
			}
			if in.PingTimestamp != tc.ts {
				t.Fatalf("timestamp = %d, want %d", in.PingTimestamp, tc.ts)
			}
		})
	}
}

func TestClassifyTextExpandsEmptyBatch(t *testing.T) {
	t.Parallel()
	in := ClassifyText([]byte(`{"t":"batch","p":{"messages":[]}}`))
	if in.Kind != KindBatch || in.Msgs == nil || len(in.Msgs) != 0 {
		t.Fatalf("got %v %#v, want an empty batch", in.Kind, in.Msgs)
	}
}

func TestClassifyBinaryInflatesWithinTheBound(t *testing.T) {
	t.Parallel()
	text := []byte(`{"t":"ping","p":{"timestamp":42}}`)
	frame := Compress(text)
	cases := []struct {
		name    string
		max     int64
		msgpack bool
		kind    Kind
		err     error
	}{
		{"exact bound", int64(len(text)), false, KindPing, nil},
		{"msgpack connection", int64(len(text)), true, KindPing, nil},
		{"one byte short", int64(len(text)) - 1, false, 0, ErrTooLarge},
		{"zero bound", 0, false, 0, ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in, err := ClassifyBinary(frame, tc.msgpack, tc.max)
			if !errors.Is(err, tc.err) || err != nil && tc.err == nil {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if in.Kind != tc.kind || tc.kind == KindPing && in.PingTimestamp != 42 {
				t.Fatalf("got %+v", in)
			}
		})
	}
}

func TestClassifyBinaryKeepsOtherFramesBinary(t *testing.T) {
	t.Parallel()
	valid, _ := msgpack.Marshal(map[string]any{"t": "x"})
	cases := []struct {
		name    string
		data    []byte
		msgpack bool
	}{
		{"encrypted", []byte("E:\x00\x01\x02"), true},
		{"truncated zlib", Compress([]byte(`{"t":"x"}`))[:8], false},
		{"bad zlib checksum", func() []byte {
			b := Compress([]byte(`{"t":"x"}`))
			b[len(b)-1] ^= 0xff
			return b
		}(), false},
		{"msgpack off", valid, false},
		{"M: prefix with msgpack off", append([]byte("M:"), valid...), false},
		{"empty", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in, err := ClassifyBinary(tc.data, tc.msgpack, 1<<20)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if in.Kind != KindBin || !bytes.Equal(in.Bin, tc.data) {
				t.Fatalf("got %+v, want bin with the original bytes", in)
			}
		})
	}
}

// nestedMsgpack returns a msgpack map nested depth levels deep:
// {"a":{"a":…{"a":1}…}}.
func nestedMsgpack(depth int) []byte {
	var b []byte
	for range depth {
		b = append(b, 0x81, 0xa1, 'a')
	}
	return append(b, 0x01)
}

func TestClassifyBinaryDecodesMsgpackObjects(t *testing.T) {
	t.Parallel()
	enc := func(v any) []byte {
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	when := time.Date(2026, 1, 2, 15, 4, 5, 123000000, time.UTC)
	cases := []struct {
		name string
		data []byte
		kind Kind
		msg  map[string]any
	}{
		{"plain", enc(map[string]any{"type": "chat", "payload": map[string]any{"n": int8(-3), "u": uint64(1 << 40), "f": float32(1.5)}}),
			KindMsg, map[string]any{"t": "chat", "p": map[string]any{"n": -3.0, "u": float64(1 << 40), "f": 1.5}}},
		{"M: prefix", append([]byte("M:"), enc(map[string]any{"t": "x", "p": []any{nil, true, "s"}})...),
			KindMsg, map[string]any{"t": "x", "p": []any{nil, true, "s"}}},
		{"bin and timestamp", enc(map[string]any{"t": "x", "b": []byte{0, 1}, "at": when}),
			KindMsg, map[string]any{"t": "x", "b": []byte{0, 1}, "at": when}},
		{"ping", enc(map[string]any{"t": "ping", "p": map[string]any{"timestamp": int64(1700000000123)}}), KindPing, nil},
		{"pong", enc(map[string]any{"t": "PONG"}), KindPong, nil},
		{"client hello", enc(map[string]any{"t": "client_hello", "p": map[string]any{}}),
			KindClientHello, map[string]any{"t": "client_hello", "p": map[string]any{}}},
		{"depth 64", nestedMsgpack(64), KindMsg, nil},
		{"depth 65", nestedMsgpack(65), KindBin, nil},
		{"array", enc([]any{1, 2}), KindBin, nil},
		{"integer", enc(5), KindBin, nil},
		{"integer key", enc(map[int]any{1: "x"}), KindBin, nil},
		{"trailing byte", append(enc(map[string]any{"t": "x"}), 0xc0), KindBin, nil},
		{"truncated", enc(map[string]any{"t": "xyz"})[:4], KindBin, nil},
		{"NaN", []byte{0x81, 0xa1, 'f', 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1}, KindBin, nil},
		{"never-used code", []byte{0x81, 0xa1, 'f', 0xc1}, KindBin, nil},
		{"unknown extension", []byte{0x81, 0xa1, 'e', 0xd4, 0x05, 0x00}, KindBin, nil},
		{"timestamp after year 9999", []byte{0x81, 0xa1, 'e', 0xc7, 12, 0xff, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0}, KindBin, nil},
		{"timestamp nanoseconds overflow", []byte{0x81, 0xa1, 'e', 0xc7, 12, 0xff, 0x3b, 0x9a, 0xca, 0x00, 0, 0, 0, 0, 0, 0, 0, 0}, KindBin, nil},
		{"huge claimed map", []byte{0xdf, 0xff, 0xff, 0xff, 0xff}, KindBin, nil},
		{"huge claimed string", []byte{0x81, 0xa1, 's', 0xdb, 0xff, 0xff, 0xff, 0xff, 'x'}, KindBin, nil},
		{"JSON", []byte(`{"t":"x"}`), KindBin, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in, err := ClassifyBinary(tc.data, true, 1<<20)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if in.Kind != tc.kind {
				t.Fatalf("kind = %v, want %v", in.Kind, tc.kind)
			}
			if tc.kind == KindBin && !bytes.Equal(in.Bin, tc.data) {
				t.Fatal("bin is not the original bytes")
			}
			if tc.msg != nil && !reflect.DeepEqual(in.Msg, tc.msg) {
				t.Fatalf("msg = %#v, want %#v", in.Msg, tc.msg)
			}
			if tc.kind == KindPing && in.PingTimestamp != 1700000000123 {
				t.Fatalf("timestamp = %d", in.PingTimestamp)
			}
		})
	}
}

func TestClassifyBinaryMsgpackMatchesText(t *testing.T) {
	t.Parallel()
	texts := []string{
		`{"c":"U","t":"chat","id":"abc","p":{"text":"hi","n":[1,2.5,-7]},"v":1,"pri":5}`,
		`{"t":"batch","p":{"messages":[{"type":"a","payload":{"i":1}},{"t":"b"}]}}`,
		`{"t":"subscription_update","p":{"action":"subscribe","topics":["a","b"],"recover":true}}`,
	}
	for _, text := range texts {
		t.Run(text, func(t *testing.T) {
			t.Parallel()
			packed, err := EncodeMsgpack([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			fromText := ClassifyText([]byte(text))
			fromMsgpack, err := ClassifyBinary(packed, true, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fromText, fromMsgpack) {
				t.Fatalf("text gives %#v, msgpack gives %#v", fromText, fromMsgpack)
			}
		})
	}
}

func TestClassifyBinaryMsgpackDoesNotAliasTheFrame(t *testing.T) {
	t.Parallel()
	frame, _ := msgpack.Marshal(map[string]any{"t": "x", "b": []byte("abc"), "s": "str"})
	in, _ := ClassifyBinary(frame, true, 1<<20)
	for i := range frame {
		frame[i] = 0
	}
	if in.Kind != KindMsg || string(in.Msg["b"].([]byte)) != "abc" || in.Msg["s"] != "str" {
		t.Fatalf("message changed with the frame: %#v", in.Msg)
	}
}

func TestClassifyTextRawKeepsLongText(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("x", 5000)
	if in := ClassifyText([]byte(text)); in.Kind != KindRaw || in.Raw != text {
		t.Fatal("raw text lost")
	}
}
