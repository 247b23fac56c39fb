package topic

// Patterns is a set of glob patterns (the syntax of Match) indexed by their
// literal prefix, the bytes before the first '*' or '?'. Finding the
// patterns that match a topic walks the topic's bytes down a trie of those
// prefixes and runs Match only on the patterns whose prefix the topic
// starts with, so the cost grows with the topic's length and the number of
// candidate patterns, not with the size of the set: 10,000 patterns
// "prices.<symbol>.*" cost a publication to "prices.AAPL.bid" one Match.
//
// The zero Patterns is an empty set. A Patterns is not safe for concurrent
// use; its owner guards it.
type Patterns struct {
	root patternNode
	n    int
}

// patternNode is one byte of a literal prefix. here holds the patterns whose
// whole literal prefix ends at this node.
type patternNode struct {
	children map[byte]*patternNode
	here     []string
}

// literalPrefix returns the bytes of pattern before its first glob character.
func literalPrefix(pattern string) string {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '*' || pattern[i] == '?' {
			return pattern[:i]
		}
	}
	return pattern
}

// Len returns the number of patterns in the set.
func (p *Patterns) Len() int { return p.n }

// Add puts pattern in the set and reports whether it was not there before.
func (p *Patterns) Add(pattern string) bool {
	n := &p.root
	for _, b := range []byte(literalPrefix(pattern)) {
		next := n.children[b]
		if next == nil {
			if n.children == nil {
				n.children = make(map[byte]*patternNode, 1)
			}
			next = &patternNode{}
			n.children[b] = next
		}
		n = next
	}
	for _, q := range n.here {
		if q == pattern {
			return false
		}
	}
	n.here = append(n.here, pattern)
	p.n++
	return true
}

// Remove takes pattern out of the set, pruning the trie nodes it alone
// used, and reports whether it was there.
func (p *Patterns) Remove(pattern string) bool {
	prefix := literalPrefix(pattern)
	path := make([]*patternNode, 0, len(prefix)+1)
	n := &p.root
	path = append(path, n)
	for i := 0; i < len(prefix); i++ {
		if n = n.children[prefix[i]]; n == nil {
			return false
		}
		path = append(path, n)
	}
	i := -1
	for j, q := range n.here {
		if q == pattern {
			i = j
			break
		}
	}
	if i < 0 {
		return false
	}
	last := len(n.here) - 1
	n.here[i] = n.here[last]
	n.here[last] = ""
	n.here = n.here[:last]
	p.n--
	// Prune empty nodes from the leaf up; the root stays.
	for d := len(path) - 1; d > 0; d-- {
		node := path[d]
		if len(node.here) > 0 || len(node.children) > 0 {
			break
		}
		delete(path[d-1].children, prefix[d-1])
	}
	return true
}

// Each calls f for every pattern in the set that matches topic, until f
// returns false. The order is unspecified. f must not change the set.
func (p *Patterns) Each(topic string, f func(pattern string) bool) {
	n := &p.root
	for i := 0; ; i++ {
		for _, q := range n.here {
			if Match(q, topic) && !f(q) {
				return
			}
		}
		if i == len(topic) {
			return
		}
		if n = n.children[topic[i]]; n == nil {
			return
		}
	}
}

// Any reports whether some pattern in the set matches topic.
func (p *Patterns) Any(topic string) bool {
	found := false
	p.Each(topic, func(string) bool {
		found = true
		return false
	})
	return found
}

// All returns every pattern in the set, in no particular order.
func (p *Patterns) All() []string {
	out := make([]string, 0, p.n)
	var walk func(*patternNode)
	walk = func(n *patternNode) {
		out = append(out, n.here...)
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(&p.root)
	return out
}
