package wseclient

import (
	"encoding/json"
	"testing"
)

// FuzzDecode checks that Decode never panics, that what it accepts is a
// JSON object, and that the fields it reads agree with encoding/json.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(sampleEvent))
	f.Add([]byte(`{"tp":"prices","e":"5f3a9c01","o":42,"c":"U","t":"tick","p":{"n":1}}`))
	f.Add([]byte(`WSE{"t":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decode(data, 1<<20)
		if err != nil {
			return
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(m.Raw, &fields); err != nil {
			t.Fatalf("Raw %q is not a JSON object: %v", m.Raw, err)
		}
		str := func(key string) string {
			var s string
			if json.Unmarshal(fields[key], &s) != nil {
				return ""
			}
			return s
		}
		num := func(key string) uint64 {
			n, _ := parseUint(fields[key])
			return n
		}
		if m.Type != str("t") || m.Category != str("c") || m.ID != str("id") || m.Topic != str("tp") || m.Epoch != str("e") {
			t.Fatalf("strings of %q: got %+v", m.Raw, m)
		}
		if m.Offset != num("o") || m.Seq != num("seq") {
			t.Fatalf("numbers of %q: o %d seq %d", m.Raw, m.Offset, m.Seq)
		}
		if p, ok := fields["p"]; ok != (m.Payload != nil) || (ok && string(p) != string(m.Payload)) {
			t.Fatalf("payload of %q: %q, want %q", m.Raw, m.Payload, p)
		}
	})
}
