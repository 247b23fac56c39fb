package wseclient

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// zlibFrame returns "C:" + zlib(text).
func zlibFrame(t testing.TB, text string) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("C:")
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// msgpackFrame returns "M:" + the MessagePack encoding of v.
func msgpackFrame(t testing.TB, v any) []byte {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte("M:"), b...)
}

const sampleEvent = `{"c":"U","t":"price","id":"0190a0b0-0000-7000-8000-000000000001","ts":"2026-01-02T15:04:05.123Z","seq":42,"p":{"sym":"BTC","px":101.5},"v":1}`

func TestDecodeReadsEveryEnvelopeField(t *testing.T) {
	t.Parallel()
	ts := time.Date(2026, 1, 2, 15, 4, 5, 123e6, time.UTC)
	cases := []struct {
		name  string
		frame []byte
		want  Message
	}{
		{"send_event json", []byte(sampleEvent), Message{Type: "price", Category: "U", ID: "0190a0b0-0000-7000-8000-000000000001", TS: ts, Seq: 42, Payload: json.RawMessage(`{"sym":"BTC","px":101.5}`)}},
		{"stamped publication", []byte(`{"tp":"prices","e":"5f3a9c01","o":42,"c":"U","t":"tick","p":[1,2]}`), Message{Type: "tick", Category: "U", Topic: "prices", Epoch: "5f3a9c01", Offset: 42, Payload: json.RawMessage(`[1,2]`)}},
		{"legacy WSE prefix", []byte(`WSE{"t":"server_ready","p":{}}`), Message{Type: "server_ready", Payload: json.RawMessage(`{}`)}},
		{"legacy U prefix", []byte(`U{"t":"x"}`), Message{Type: "x"}},
		{"legacy S prefix", []byte(`S{"t":"x_snapshot","c":"S"}`), Message{Type: "x_snapshot", Category: "S"}},
		{"whitespace", []byte(" {\n\"t\" :\t\"x\" , \"p\" : { \"a\" : \"}\" } }\n"), Message{Type: "x", Payload: json.RawMessage(`{ "a" : "}" }`)}},
		{"escaped strings", []byte(`{"t":"a\"b","tp":"top\u0069c","e":"0000abcd","o":1}`), Message{Type: `a"b`, Topic: "topic", Epoch: "0000abcd", Offset: 1}},
		{"escaped key", []byte(`{"\u0074":"x"}`), Message{Type: "x"}},
		{"no type", []byte(`{"foo":1}`), Message{}},
		{"wrong types ignored", []byte(`{"t":5,"o":-1,"seq":1.5,"ts":"yesterday","id":null}`), Message{}},
		{"max offset", []byte(`{"tp":"t","e":"ffffffff","o":18446744073709551615}`), Message{Topic: "t", Epoch: "ffffffff", Offset: 1<<64 - 1}},
		{"offset overflow", []byte(`{"o":18446744073709551616}`), Message{}},
		{"compressed", zlibFrame(t, sampleEvent), Message{Type: "price", Category: "U", ID: "0190a0b0-0000-7000-8000-000000000001", TS: ts, Seq: 42, Payload: json.RawMessage(`{"sym":"BTC","px":101.5}`)}},
		{"msgpack", msgpackFrame(t, map[string]any{"c": "U", "t": "price", "seq": 7, "p": map[string]any{"px": 1.5}}), Message{Type: "price", Category: "U", Seq: 7, Payload: json.RawMessage(`{"px":1.5}`)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode(tc.frame)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(got.Raw) == 0 {
				t.Fatal("Raw is empty")
			}
			if !json.Valid(got.Raw) {
				t.Fatalf("Raw %q is not JSON", got.Raw)
			}
			got.Raw = nil
			if string(got.Payload) != string(tc.want.Payload) {
				t.Fatalf("Payload %s, want %s", got.Payload, tc.want.Payload)
			}
			got.Payload, tc.want.Payload = nil, nil
			if !got.TS.Equal(tc.want.TS) {
				t.Fatalf("TS %v, want %v", got.TS, tc.want.TS)
			}
			got.TS, tc.want.TS = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDecodeRefusesWhatIsNotAWSEMessage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		frame []byte
		want  error
	}{
		{"empty", nil, ErrNotWSE},
		{"plain text", []byte("hello"), ErrNotWSE},
		{"array", []byte(`[1,2]`), ErrNotWSE},
		{"raw binary", []byte{0, 1, 2, 3}, ErrNotWSE},
		{"encrypted", []byte("E:0123456789abcdef"), ErrNotWSE},
		{"broken json", []byte(`{"t":"x"`), ErrInvalidMessage},
		{"trailing data", []byte(`{"t":"x"} {}`), ErrInvalidMessage},
		{"bad zlib", []byte("C:not zlib"), ErrInvalidMessage},
		{"zlib of text", zlibFrame(t, "plain"), ErrNotWSE},
		{"bad msgpack", []byte("M:\xc1"), ErrInvalidMessage},
		{"msgpack not a map", msgpackFrame(t, []int{1}), ErrInvalidMessage},
		{"msgpack trailing", append(msgpackFrame(t, map[string]any{}), 0), ErrInvalidMessage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Decode(tc.frame); !errors.Is(err, tc.want) {
				t.Fatalf("Decode(%q) error %v, want %v", tc.frame, err, tc.want)
			}
		})
	}
}

func TestDecodeBoundsInflatedSize(t *testing.T) {
	t.Parallel()
	big := `{"t":"x","p":"` + strings.Repeat("a", 4096) + `"}`
	frame := zlibFrame(t, big)
	if _, err := decode(frame, int64(len(big))); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	if _, err := decode(frame, int64(len(big))-1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v, want ErrTooLarge", err)
	}
}

func TestDecodeReadsTheStampVectors(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../testdata/vectors/stamp.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Topic  string `json:"topic"`
			Epoch  string `json:"epoch"`
			Offset uint64 `json:"offset"`
			Out    string `json:"out"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	for _, tc := range file.Cases {
		t.Run(tc.Out, func(t *testing.T) {
			t.Parallel()
			m, err := Decode([]byte(tc.Out))
			if !strings.HasPrefix(tc.Out, "{") {
				if !errors.Is(err, ErrNotWSE) {
					t.Fatalf("unstamped text: %v", err)
				}
				return
			}
			if err != nil || m.Topic != tc.Topic || m.Epoch != tc.Epoch || m.Offset != tc.Offset {
				t.Fatalf("stamp (%q, %q, %d), err %v; want (%q, %q, %d)", m.Topic, m.Epoch, m.Offset, err, tc.Topic, tc.Epoch, tc.Offset)
			}
		})
	}
}

func TestMsgpackToJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"scalars", map[string]any{"n": nil, "f": false, "t": true}, `{"f":false,"n":null,"t":true}`},
		{"integers", map[string]any{"a": 0, "b": -1, "c": 127, "d": -33, "e": 255, "f": 65536, "g": int64(-1 << 40), "h": uint64(1<<64 - 1)}, `{"a":0,"b":-1,"c":127,"d":-33,"e":255,"f":65536,"g":-1099511627776,"h":18446744073709551615}`},
		{"floats", map[string]any{"a": 1.5, "b": float32(0.25), "c": 1e300}, `{"a":1.5,"b":0.25,"c":1e+300}`},
		{"strings", map[string]any{"s": "q\"\\\n\t\x01é", "long": strings.Repeat("x", 40)}, `{"long":"` + strings.Repeat("x", 40) + `","s":"q\"\\\n\t\u0001é"}`},
		{"nested", map[string]any{"a": []any{1, []any{}, map[string]any{"b": "c"}}}, `{"a":[1,[],{"b":"c"}]}`},
		{"bin", map[string]any{"b": []byte{0, 1, 2}}, `{"b":"AAEC"}`},
		{"timestamp", map[string]any{"ts": time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)}, `{"ts":"2026-01-02T03:04:05.006Z"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := msgpack.Marshal(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := msgpackToJSON(b)
			if err != nil {
				t.Fatalf("msgpackToJSON: %v", err)
			}
			var gotV, wantV any
			if err := json.Unmarshal(got, &gotV); err != nil {
				t.Fatalf("output %s is not JSON: %v", got, err)
			}
			_ = json.Unmarshal([]byte(tc.want), &wantV)
			g, _ := json.Marshal(gotV)
			w, _ := json.Marshal(wantV)
			if string(g) != string(w) {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestMsgpackToJSONKeepsKeyOrder(t *testing.T) {
	t.Parallel()
	// fixmap of 3: "c":"U", "t":"x", "a":1, written in that order.
	in := []byte{0x83, 0xa1, 'c', 0xa1, 'U', 0xa1, 't', 0xa1, 'x', 0xa1, 'a', 0x01}
	got, err := msgpackToJSON(in)
	if err != nil || string(got) != `{"c":"U","t":"x","a":1}` {
		t.Fatalf("got %s, %v", got, err)
	}
}

func TestMsgpackToJSONRefusesBadInput(t *testing.T) {
	t.Parallel()
	deep := bytes.Repeat([]byte{0x91}, maxMsgpackDepth) // arrays nested under the map
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, errMsgpackNotMap},
		{"not a map", []byte{0x91, 0x01}, errMsgpackNotMap},
		{"truncated map", []byte{0x82, 0xa1, 'a'}, errMsgpackTruncated},
		{"huge claimed map", []byte{0xdf, 0xff, 0xff, 0xff, 0xff}, errMsgpackTruncated},
		{"huge claimed string", []byte{0x81, 0xa1, 'a', 0xdb, 0xff, 0xff, 0xff, 0xff}, errMsgpackTruncated},
		{"int key", []byte{0x81, 0x01, 0x01}, errMsgpackKey},
		{"NaN", []byte{0x81, 0xa1, 'a', 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1}, errMsgpackFloat},
		{"unknown ext", []byte{0x81, 0xa1, 'a', 0xd4, 0x05, 0x00}, errMsgpackExt},
		{"reserved byte", []byte{0x81, 0xa1, 'a', 0xc1}, errMsgpackByte},
		{"too deep", append(append([]byte{0x81, 0xa1, 'a'}, deep...), 0xc0), errMsgpackDepth},
		{"trailing", []byte{0x80, 0x00}, errMsgpackTrailing},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := msgpackToJSON(tc.in); !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAppendJSONStringReplacesInvalidUTF8(t *testing.T) {
	t.Parallel()
	got := appendJSONString(nil, []byte("a\xffb\u2028"))
	var s string
	if err := json.Unmarshal(got, &s); err != nil || s != "a\ufffdb\u2028" {
		t.Fatalf("%s decodes to %q, %v", got, s, err)
	}
}

func TestParseReplyReadsBothShapes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, payload, want string
	}{
		{"engine subscribe",
			`{"action":"subscribe","success":true,"success_topics":["a"],"failed_topics":["b","c"],"failed_codes":{"b":"FORBIDDEN","c":"LIMIT"}}`,
			"subscribe [a] [{b FORBIDDEN} {c LIMIT}]"},
		{"engine unsubscribe",
			`{"action":"unsubscribe","success":true,"success_topics":[],"failed_topics":[],"failed_codes":{},"unsubscribed_topics":["a"]}`,
			"unsubscribe [a] []"},
		{"object failures", `{"action":"subscribe","success_topics":[],"failed_topics":[{"topic":"b","code":"INVALID_TOPIC"},7]}`,
			"subscribe [] [{b INVALID_TOPIC}]"},
		{"application unsubscribe reply", `{"action":"unsubscribe","success_topics":["a"]}`, "unsubscribe [a] []"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, ok := parseReply(json.RawMessage(tc.payload))
			if !ok {
				t.Fatal("not parsed")
			}
			if got := fmt.Sprintf("%s %v %v", r.Action, r.Granted, r.Failed); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
