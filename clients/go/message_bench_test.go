package wseclient

import (
	"testing"
)

// message100 is a 100-byte stamped topic publication.
const message100 = `{"tp":"prices","e":"5f3a9c01","o":42,"c":"U","t":"tick","ts":"2026-01-02T15:04:05.123Z","p":{"x":1}}`

func BenchmarkDecode100(b *testing.B) {
	frames := []struct {
		name  string
		frame []byte
	}{
		{"json", []byte(message100)},
		{"zlib", zlibFrame(b, message100)},
		{"msgpack", msgpackFrame(b, map[string]any{"tp": "prices", "e": "5f3a9c01", "o": 42, "c": "U", "t": "tick", "ts": "2026-01-02T15:04:05.123Z", "p": map[string]any{"x": 1}})},
	}
	if len(message100) != 100 {
		b.Fatalf("message is %d bytes", len(message100))
	}
	for _, f := range frames {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(f.frame)))
			for b.Loop() {
				if _, err := Decode(f.frame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
