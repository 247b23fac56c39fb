package topic

import "testing"

// FuzzMatch compares Match with the recursive reference matcher on short
// inputs, both as given and folded onto the alphabet "ab.*?" so that
// wildcards and literals collide often.
func FuzzMatch(f *testing.F) {
	f.Fuzz(func(t *testing.T, pattern, topic string) {
		if len(pattern) > 64 || len(topic) > 64 {
			t.Skip()
		}
		for _, in := range [][2]string{{pattern, topic}, {fold(pattern), fold(topic)}} {
			if got, want := Match(in[0], in[1]), refMatch(in[0], in[1]); got != want {
				t.Fatalf("Match(%q, %q) = %v, reference says %v", in[0], in[1], got, want)
			}
		}
	})
}

// fold maps every byte of s onto the alphabet "ab.*?".
func fold(s string) string {
	const alphabet = "ab.*?"
	b := []byte(s)
	for i, c := range b {
		b[i] = alphabet[int(c)%len(alphabet)]
	}
	return string(b)
}
