package protocol

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
	"unicode/utf8"
)

func FuzzStamp(f *testing.F) {
	f.Add([]byte(`{"c":"U","t":"tick","p":{}}`), "feed", "0000abcd", uint64(7))
	f.Fuzz(func(t *testing.T, text []byte, topic, epoch string, offset uint64) {
		out, ok := Stamp(text, topic, epoch, offset)
		trimmed := bytes.TrimLeft(text, " \t\r\n")
		object := bytes.HasPrefix(trimmed, []byte("{")) && json.Valid(text)
		if ok != object {
			t.Fatalf("Stamp(%q) ok = %v, want %v", text, ok, object)
		}
		if !ok {
			if len(out) != len(text) || len(text) > 0 && &out[0] != &text[0] {
				t.Fatal("unstamped text was changed")
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("Stamp(%q) = %q, not valid JSON", text, out)
		}
		var m struct {
			Tp string `json:"tp"`
			E  string `json:"e"`
			O  uint64 `json:"o"`
		}
		// Later duplicates of tp, e or o in the text would win; decode the
		// stamp alone.
		open := len(text) - len(trimmed)
		stampEnd := bytes.Index(out[open:], []byte(`,"o":`)) + open + len(`,"o":`) + len(strconv.FormatUint(offset, 10))
		if err := json.Unmarshal(append(bytes.Clone(out[open:stampEnd]), '}'), &m); err != nil {
			t.Fatalf("stamp of %q does not decode: %v", out, err)
		}
		if m.O != offset || utf8.ValidString(topic) && m.Tp != topic || utf8.ValidString(epoch) && m.E != epoch {
			t.Fatalf("stamp decodes to %+v", m)
		}
		rest := out[stampEnd:]
		if !bytes.Equal(text[:open+1], out[:open+1]) || !bytes.Equal(bytes.TrimPrefix(rest, []byte(",")), text[open+1:]) {
			t.Fatalf("Stamp(%q) = %q changed the text", text, out)
		}
	})
}
