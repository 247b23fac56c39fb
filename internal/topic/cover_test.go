package topic

import "testing"

func TestCoversGrantsOnlyNarrowerPatterns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule, pattern string
		want          bool
	}{
		{"prices.*", "prices.*", true},
		{"prices.*", "prices.AAPL.*", true},
		{"prices.*", "prices.?", true},
		{"prices.*", "prices*", false}, // would match "pricesX"
		{"prices.*", "*", false},
		{"*", "anything.*", true},
		{"*", "*", true},
		{"user.{id}.*", "user.{id}.inbox", true},
		{"chat.?", "chat.*", false},
		{"chat.?", "chat.?", true},
		{"chat.*.msgs", "chat.*.msgs", true},
		{"chat.*.msgs", "chat.*", false},
		{"a*b*c", "a*c", false}, // "ac" is not matched by a*b*c
		{"a*c", "a*b*c", true},
		{"?*", "*a", false}, // refused conservatively: covered in fact
		{"news", "news", true},
	}
	for _, tt := range tests {
		if got := Covers(tt.rule, tt.pattern); got != tt.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", tt.rule, tt.pattern, got, tt.want)
		}
	}
}

func TestOverlapsFindsACommonTopic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"prices.*", "prices.AAPL", true},
		{"prices.*", "news.*", false},
		{"*.admin", "chat.*", true}, // chat.admin
		{"a?c", "*b*", true},
		{"a?c", "abd", false},
		{"*", "", true},
		{"?", "", false},
		{"x*y", "*z", false},
	}
	for _, tt := range tests {
		if got := Overlaps(tt.a, tt.b); got != tt.want {
			t.Errorf("Overlaps(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := Overlaps(tt.b, tt.a); got != tt.want {
			t.Errorf("Overlaps(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
}

// strings returns every string over alphabet of length at most n.
func allStrings(alphabet string, n int) []string {
	out := []string{""}
	level := []string{""}
	for range n {
		var next []string
		for _, s := range level {
			for i := 0; i < len(alphabet); i++ {
				next = append(next, s+alphabet[i:i+1])
			}
		}
		out = append(out, next...)
		level = next
	}
	return out
}

// TestCoversAndOverlapsAgreeWithMatch checks every pair of globs of up to
// four tokens over a small alphabet against every topic of up to six bytes:
// Covers never grants a pattern that matches a topic the rule does not, and
// Overlaps finds a common topic exactly when one exists among them (every
// overlap of globs this short has a witness that short).
func TestCoversAndOverlapsAgreeWithMatch(t *testing.T) {
	t.Parallel()
	globs := allStrings("ab*?", 4)
	topics := allStrings("ab", 6)
	for _, rule := range globs {
		for _, pat := range globs {
			covers := Covers(rule, pat)
			overlaps := Overlaps(rule, pat)
			witness, escape := false, false
			for _, tp := range topics {
				mp := Match(pat, tp)
				mr := Match(rule, tp)
				witness = witness || mp && mr
				escape = escape || mp && !mr
			}
			if covers && escape {
				t.Fatalf("Covers(%q, %q) but some topic matches only the pattern", rule, pat)
			}
			if overlaps != witness {
				t.Fatalf("Overlaps(%q, %q) = %v, a common topic exists: %v", rule, pat, overlaps, witness)
			}
		}
	}
}

func TestACLGrantsAPatternOnlyWhenEveryTopicIsAllowed(t *testing.T) {
	t.Parallel()
	acl := ACL{Allow: []string{"prices.*", "user.alice.*"}, Deny: []string{"prices.secret*"}}
	tests := []struct {
		pattern string
		want    bool
	}{
		{"prices.AAPL.*", true},
		{"prices.*", false}, // would match prices.secret
		{"user.alice.*", true},
		{"user.*", false}, // wider than the ACL
		{"*", false},
	}
	for _, tt := range tests {
		if got := acl.Allows(tt.pattern); got != tt.want {
			t.Errorf("Allows(%q) = %v, want %v", tt.pattern, got, tt.want)
		}
	}
}
