package topic

import "strings"

// Match reports whether topic matches the glob pattern: '*' matches any run
// of bytes (including none, and across '.' and ':'), '?' exactly one byte,
// every other byte itself.
//
// It runs in O(len(pattern)·len(topic)) at worst and linear time for
// patterns without '?': the literal runs between stars are anchored at both
// ends and otherwise found leftmost, which is never worse than any other
// choice, so nothing is ever backtracked.
func Match(pattern, topic string) bool {
	star := strings.IndexByte(pattern, '*')
	if star < 0 {
		return len(pattern) == len(topic) && matchRun(pattern, topic)
	}
	// Anchor the run before the first star at the start of topic.
	head := pattern[:star]
	if len(topic) < len(head) || !matchRun(head, topic[:len(head)]) {
		return false
	}
	topic = topic[len(head):]
	pattern = pattern[star+1:]
	// Anchor the run after the last star at the end of topic.
	last := strings.LastIndexByte(pattern, '*')
	tail := pattern[last+1:]
	if len(topic) < len(tail) || !matchRun(tail, topic[len(topic)-len(tail):]) {
		return false
	}
	topic = topic[:len(topic)-len(tail)]
	if last < 0 {
		return true
	}
	// Find each run between stars leftmost, in order, in what remains.
	for middle := pattern[:last]; middle != ""; {
		run, rest, _ := strings.Cut(middle, "*")
		middle = rest
		if run == "" {
			continue
		}
		at := indexRun(topic, run)
		if at < 0 {
			return false
		}
		topic = topic[at+len(run):]
	}
	return true
}

// matchRun reports whether s matches the star-free run, byte for byte with
// '?' matching any byte; len(run) must equal len(s).
func matchRun(run, s string) bool {
	for i := 0; i < len(run); i++ {
		if run[i] != '?' && run[i] != s[i] {
			return false
		}
	}
	return true
}

// indexRun returns the first index in s where the star-free run matches, or -1.
func indexRun(s, run string) int {
	if strings.IndexByte(run, '?') < 0 {
		return strings.Index(s, run)
	}
	for i := 0; i+len(run) <= len(s); i++ {
		if matchRun(run, s[i:i+len(run)]) {
			return i
		}
	}
	return -1
}
