package protocol

import (
	"encoding/json"
	"testing"
)

func TestStampInsertsPositionFirst(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, topic, in, out string
		offset               uint64
		ok                   bool
	}{
		{"spaced empty object", "a", ` { } `, ` {"tp":"a","e":"0000abcd","o":1 } `, 1, true},
		{"leading whitespace", "a", "\n{\"t\":\"x\"}", "\n{\"tp\":\"a\",\"e\":\"0000abcd\",\"o\":2,\"t\":\"x\"}", 2, true},
		{"control characters in topic", "a\nb\x01", `{}`, `{"tp":"a\nb\u0001","e":"0000abcd","o":0}`, 0, true},
		{"invalid UTF-8 in topic", "a\xffb", `{}`, `{"tp":"a\ufffdb","e":"0000abcd","o":3}`, 3, true},
		{"non-ASCII topic", "prix/€", `{}`, `{"tp":"prix/€","e":"0000abcd","o":4}`, 4, true},
		{"array", "a", `[{}]`, `[{}]`, 1, false},
		{"broken", "a", `{"t":`, `{"t":`, 1, false},
		{"trailing garbage", "a", `{} x`, `{} x`, 1, false},
		{"empty", "a", ``, ``, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Stamp([]byte(tc.in), tc.topic, "0000abcd", tc.offset)
			if string(got) != tc.out || ok != tc.ok {
				t.Fatalf("Stamp(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.out, tc.ok)
			}
			if ok && !json.Valid(got) {
				t.Fatalf("stamped text is not valid JSON: %s", got)
			}
		})
	}
}

func TestStampOutputDecodesToTheStamp(t *testing.T) {
	t.Parallel()
	out, ok := Stamp([]byte(`{"c":"U","t":"tick","p":{"o":"inner"}}`), `topic "quoted" \ back`, "ffffffff", 1<<63)
	if !ok {
		t.Fatal("not stamped")
	}
	var m struct {
		Tp string `json:"tp"`
		E  string `json:"e"`
		O  uint64 `json:"o"`
	}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if m.Tp != `topic "quoted" \ back` || m.E != "ffffffff" || m.O != 1<<63 {
		t.Fatalf("decoded %+v", m)
	}
}
