package topic

// ACL is a topic access list of globs: a topic is allowed when it matches at
// least one Allow glob and no Deny glob. An empty Allow allows nothing (fail
// closed). The zero ACL allows nothing.
type ACL struct {
	// Allow lists the globs of permitted topics.
	Allow []string
	// Deny lists the globs of forbidden topics; a match wins over Allow.
	Deny []string
}

// Allows reports whether topic matches an Allow glob and no Deny glob. It
// does not validate the topic name; see Validate.
//
// A pattern (IsPattern) is allowed only when every topic it can match is:
// one Allow glob covers it (Covers) and no Deny glob overlaps it (Overlaps).
// A pattern that only a union of several Allow globs would cover is refused.
func (a ACL) Allows(topic string) bool {
	if IsPattern(topic) {
		return a.allowsPattern(topic)
	}
	for _, p := range a.Deny {
		if Match(p, topic) {
			return false
		}
	}
	for _, p := range a.Allow {
		if Match(p, topic) {
			return true
		}
	}
	return false
}

// allowsPattern is Allows for a pattern subscription.
func (a ACL) allowsPattern(pattern string) bool {
	for _, d := range a.Deny {
		if Overlaps(d, pattern) {
			return false
		}
	}
	for _, r := range a.Allow {
		if Covers(r, pattern) {
			return true
		}
	}
	return false
}

// Merge returns a new ACL with the rules of both a and b (duplicates dropped,
// order kept), used to combine the JWT claim, SetTopicACL and the server's
// patterns. Neither a nor b is modified, and the result shares no storage
// with them.
func (a ACL) Merge(b ACL) ACL {
	return ACL{Allow: union(a.Allow, b.Allow), Deny: union(a.Deny, b.Deny)}
}

// union returns the distinct strings of x then y, in first-seen order, or nil
// when there are none.
func union(x, y []string) []string {
	if len(x)+len(y) == 0 {
		return nil
	}
	out := make([]string, 0, len(x)+len(y))
	seen := make(map[string]struct{}, len(x)+len(y))
	for _, list := range [2][]string{x, y} {
		for _, s := range list {
			if _, dup := seen[s]; !dup {
				seen[s] = struct{}{}
				out = append(out, s)
			}
		}
	}
	return out
}
