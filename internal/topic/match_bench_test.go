package topic

import (
	"strings"
	"testing"
)

func BenchmarkMatch(b *testing.B) {
	cases := []struct {
		name, pattern, topic string
	}{
		{"Exact", "chat.room.42", "chat.room.42"},
		{"Prefix", "chat.*", "chat.room.42"},
		{"Middle", "user:*:inbox", "user:1234567890:inbox"},
		{"MultiStar", "*.room.*.msg*", "eu.chat.room.42.msg.new"},
		{"Question", "room.??.*", "room.42.messages"},
		{"MissLong", "*a*b*c*d", strings.Repeat("abc", 85)},
		{"Adversarial", strings.Repeat("*?", 32) + "b", strings.Repeat("a", 256)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Match(c.pattern, c.topic)
			}
		})
	}
}

func BenchmarkACLAllows(b *testing.B) {
	acl := ACL{
		Allow: []string{"chat.*", "user:42:*", "news.??.*", "presence.*"},
		Deny:  []string{"chat.admin*", "*.secret"},
	}
	b.ReportAllocs()
	for b.Loop() {
		acl.Allows("user:42:inbox")
	}
}
