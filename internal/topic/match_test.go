package topic

import (
	"strings"
	"testing"
	"time"
)

// refMatch is the reference glob matcher: a direct recursive transcription
// of the rules, memoized on (pattern, topic) suffix lengths.
func refMatch(pattern, topic string) bool {
	memo := map[[2]int]bool{}
	var rec func(p, s string) bool
	rec = func(p, s string) bool {
		key := [2]int{len(p), len(s)}
		if v, ok := memo[key]; ok {
			return v
		}
		var v bool
		switch {
		case p == "":
			v = s == ""
		case p[0] == '*':
			v = rec(p[1:], s) || (s != "" && rec(p, s[1:]))
		case s == "":
			v = false
		case p[0] == '?' || p[0] == s[0]:
			v = rec(p[1:], s[1:])
		}
		memo[key] = v
		return v
	}
	return rec(pattern, topic)
}

func TestMatchFollowsGlobRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, topic string
		want           bool
	}{
		{"chat", "chat", true},
		{"chat", "chats", false},
		{"chat", "cha", false},
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything.at:all", true},
		{"**", "", true},
		{"chat.*", "chat.", true},
		{"chat.*", "chat.room", true},
		{"chat.*", "chat.room.42", true},
		{"chat.*", "chat", false},
		{"chat.*", "chatroom", false},
		{"*.admin", "chat.admin", true},
		{"*.admin", "chat.admins", false},
		{"user:*:inbox", "user:42:inbox", true},
		{"user:*:inbox", "user::inbox", true},
		{"user:*:inbox", "user:4:2:inbox", true},
		{"user:*:inbox", "user:42:outbox", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "acb", false},
		{"a*b*c", "abcbc", true},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"*a*a*", "aXa", true},
		{"*a*a*", "a", false},
		{"?", "x", true},
		{"?", "", false},
		{"?", "xy", false},
		{"??", "é", true}, // '?' is one byte, é is two
		{"?", "é", false},
		{"room.?", "room.1", true},
		{"room.?", "room.12", false},
		{"*?", "", false},
		{"*?", "a", true},
		{"?*?", "a", false},
		{"?*?", "ab", true},
		{"a*?b*c", "aXbc", true},
		{"a*?b*c", "abc", false},
		{"*a?c*", "xxabcxx", true},
		{"*a?c*", "xxacxx", false},
		{"a\\*", "a\\b", true}, // no escaping: '\' is literal, '*' is a wildcard
		{"[ab]", "a", false},   // no character classes
		{"[ab]", "[ab]", true},
		{"{user_id}", "{user_id}", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"|"+tt.topic, func(t *testing.T) {
			t.Parallel()
			if got := Match(tt.pattern, tt.topic); got != tt.want {
				t.Fatalf("Match(%q, %q) = %v, want %v", tt.pattern, tt.topic, got, tt.want)
			}
			if got := refMatch(tt.pattern, tt.topic); got != tt.want {
				t.Fatalf("refMatch(%q, %q) = %v, want %v (bad test case)", tt.pattern, tt.topic, got, tt.want)
			}
		})
	}
}

func TestMatchAvoidsExponentialBacktracking(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pattern, topic string
	}{
		{"ManyStars", strings.Repeat("a*", 64) + "b", strings.Repeat("a", MaxLen)},
		{"ManyStarsAndQuestions", strings.Repeat("*?", 64) + "b", strings.Repeat("a", MaxLen)},
		{"StarRuns", strings.Repeat("*a?a", 32) + "*b", strings.Repeat("a", MaxLen)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			for range 100 {
				if Match(tt.pattern, tt.topic) {
					t.Fatalf("Match(%q, %q) = true, want false", tt.pattern, tt.topic)
				}
			}
			// An exponential matcher would take years; 100 linear runs take microseconds.
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("100 matches took %v", d)
			}
		})
	}
}
