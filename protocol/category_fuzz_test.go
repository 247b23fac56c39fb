package protocol

import (
	"bytes"
	"encoding/json"
	"testing"
)

func FuzzInjectCategory(f *testing.F) {
	f.Add([]byte(`{"t":"price","p":{}}`))
	f.Fuzz(func(t *testing.T, text []byte) {
		orig := bytes.Clone(text)
		out := InjectCategory(text)
		if !bytes.Equal(text, orig) {
			t.Fatal("input modified")
		}

		// What the rule says should happen, decided with encoding/json.
		var want string
		var m map[string]any
		trimmed := bytes.TrimLeft(text, " \t\r\n")
		if bytes.HasPrefix(trimmed, []byte("{")) && json.Unmarshal(text, &m) == nil {
			if _, hasC := m["c"]; !hasC {
				if s, ok := m["t"].(string); ok {
					want = Category(s)
				}
			}
		}

		if want == "" {
			if len(out) != len(text) || len(text) > 0 && &out[0] != &text[0] {
				t.Fatalf("InjectCategory(%q) = %q, want the input unchanged", text, out)
			}
			return
		}
		open := len(text) - len(trimmed)
		insert := `"c":"` + want + `",`
		if string(out) != string(text[:open+1])+insert+string(text[open+1:]) {
			t.Fatalf("InjectCategory(%q) = %q, want %s inserted", text, out, insert)
		}
		if !json.Valid(out) {
			t.Fatalf("output %q is not valid JSON", out)
		}
	})
}
