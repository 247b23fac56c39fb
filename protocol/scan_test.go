package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestScanObjectAgreesWithJSONValid(t *testing.T) {
	t.Parallel()
	cases := []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":[1,2,{"b":null}],"c":true,"d":false}`,
		`{"a":-0.5e+10}`, `{"a":"\u00e9\n\"x"}`, `{"a":1,}`, `{"a" 1}`, `{"a":01}`,
		`{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":-}`, `{"a":tru}`, `{"a":nul}`,
		`{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}", `{"a":[}`, `{"a":{]}`,
		`{"a":1}}`, `{"a":1} x`, `{"a":1}{}`, `{1:2}`, `[1]`, `"s"`, ``, `{`,
		`{"a":[1 2]}`, `{"a":[,1]}`, `{"a":[1,]}`, `{"a":"b":1}`, `{"a":1 "b":2}`,
		"{\"a\":\"\xff\"}", `{"a":[[[[]]]]}`, `{"a":0}`, `{"a":-0}`, `{"a":1E-3}`,
	}
	for _, in := range cases {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			_, ok := scanObject([]byte(in))
			want := json.Valid([]byte(in)) && strings.HasPrefix(strings.TrimSpace(in), "{")
			if ok != want {
				t.Fatalf("scanObject(%q) ok = %v, json.Valid says %v", in, ok, want)
			}
		})
	}
}

func TestScanObjectLimitsNestingLikeEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, depth := range []int{maxScanDepth, maxScanDepth + 1} {
		in := strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
		_, ok := scanObject([]byte(in))
		if want := json.Valid([]byte(in)); ok != want {
			t.Fatalf("depth %d: ok = %v, json.Valid = %v", depth, ok, want)
		}
	}
}

func TestScanObjectReportsTopLevelKeys(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in     string
		tFound bool
		t      string
		hasC   bool
		empty  bool
	}{
		{in: `{}`, empty: true},
		{in: ` { } `, empty: true},
		{in: `{"a":{}}`},
		{in: `{"t":"x"}`, tFound: true, t: "x"},
		{in: `{"t" : "x" , "c":1}`, tFound: true, t: "x", hasC: true},
		{in: `{"t":1}`},
		{in: `{"t":{"t":"x"}}`},
		{in: `{"t":["x"]}`},
		{in: `{"t":"x","t":2}`},
		{in: `{"t":2,"t":"y"}`, tFound: true, t: "y"},
		{in: `{"\u0074":"x","\u0063":0}`, tFound: true, t: "x", hasC: true},
		{in: `{"p":{"c":1,"t":"x"}}`},
		{in: `{"tt":"x","cc":1}`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			info, ok := scanObject([]byte(tc.in))
			if !ok {
				t.Fatal("not accepted")
			}
			if info.tFound != tc.tFound || string(info.t) != tc.t && tc.tFound || info.hasC != tc.hasC || info.empty != tc.empty {
				t.Fatalf("got %+v", info)
			}
		})
	}
}

func TestUnescapeDecodesLikeEncodingJSON(t *testing.T) {
	t.Parallel()
	cases := []string{
		`a\"b`, `\\\/\b\f\n\r\t`, `\u0070ing`, `\u00e9`, `\ud83d\ude00`, `\ud83d`,
		`\ude00`, `\ud83dx`, `\ud83d\u0041`, `plain`,
	}
	for _, raw := range cases {
		t.Run(raw, func(t *testing.T) {
			t.Parallel()
			var want string
			if err := json.Unmarshal([]byte(`"`+raw+`"`), &want); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			if got := string(unescape(nil, []byte(raw))); got != want {
				t.Fatalf("unescape(%s) = %q, want %q", raw, got, want)
			}
		})
	}
}
