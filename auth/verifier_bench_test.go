package auth

import (
	"testing"
	"time"
)

func BenchmarkVerifyHS256(b *testing.B) {
	v := mustVerifier(b, Config{Secret: testSecret, Issuer: "wse", Audience: "app"})
	tok, err := Mint(testSecret, "user-42", time.Hour, "wse", "app",
		map[string]any{TopicsClaim: map[string]any{"allow": []string{"chat.*", "user:42:*"}, "deny": []string{"chat.admin"}}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(tok)))
	for b.Loop() {
		if _, err := v.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
