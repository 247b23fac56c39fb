package protocol

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func FuzzTagTopic(f *testing.F) {
	f.Add([]byte(`{"c":"U","t":"chat","p":{"text":"hi"}}`), "chat.room1")
	f.Add([]byte(` {} `), `a"b`)
	f.Add([]byte(`[1]`), "feed")
	f.Fuzz(func(t *testing.T, text []byte, topic string) {
		out, ok := TagTopic(text, topic)
		trimmed := bytes.TrimLeft(text, " \t\r\n")
		object := bytes.HasPrefix(trimmed, []byte("{")) && json.Valid(text)
		if ok != object {
			t.Fatalf("TagTopic(%q) ok = %v, want %v", text, ok, object)
		}
		if !ok {
			if len(out) != len(text) || len(text) > 0 && &out[0] != &text[0] {
				t.Fatal("untagged text was changed")
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("TagTopic(%q) = %q, not valid JSON", text, out)
		}
		open := len(text) - len(trimmed)
		tag := AppendString([]byte(`"tp":`), topic)
		if !bytes.Equal(out[:open+1], text[:open+1]) || !bytes.HasPrefix(out[open+1:], tag) {
			t.Fatalf("TagTopic(%q) = %q does not start with the tag", text, out)
		}
		var m struct {
			Tp string `json:"tp"`
		}
		if err := json.Unmarshal(append(bytes.Clone(out[open:open+1+len(tag)]), '}'), &m); err != nil {
			t.Fatalf("tag of %q does not decode: %v", out, err)
		}
		if utf8.ValidString(topic) && m.Tp != topic {
			t.Fatalf("tag decodes to %q, want %q", m.Tp, topic)
		}
		if rest := out[open+1+len(tag):]; !bytes.Equal(bytes.TrimPrefix(rest, []byte(",")), text[open+1:]) {
			t.Fatalf("TagTopic(%q) = %q changed the text", text, out)
		}
	})
}
