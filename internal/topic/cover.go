package topic

// Covers reports whether every topic that pattern matches is also matched by
// rule (both in the syntax of Match): the check that grants a pattern
// subscription under an ACL. It is exact for patterns whose '*' the rule
// meets with a '*', and errs on the side of refusing otherwise: a '*' in
// pattern is covered only by a '*' in rule, so "*a" is not reported covered
// by "?*" although every topic ending in "a" has at least one byte.
//
// It runs in O(len(rule)·len(pattern)) time and space.
func Covers(rule, pattern string) bool {
	// memo[i][j]: 0 unknown, 1 true, 2 false, for pattern[i:] under rule[j:].
	memo := make([]uint8, (len(pattern)+1)*(len(rule)+1))
	var covers func(i, j int) bool
	covers = func(i, j int) bool {
		k := i*(len(rule)+1) + j
		if memo[k] != 0 {
			return memo[k] == 1
		}
		var ok bool
		switch {
		case j == len(rule):
			ok = i == len(pattern)
		case rule[j] == '*':
			// The rule's star takes nothing, or the pattern's next token,
			// whatever it is (a star of the rule matches what a star or a
			// '?' of the pattern can produce).
			ok = covers(i, j+1) || i < len(pattern) && covers(i+1, j)
		case i == len(pattern):
			ok = false
		case pattern[i] == '*':
			ok = false
		case rule[j] == '?':
			ok = covers(i+1, j+1)
		default:
			ok = pattern[i] == rule[j] && covers(i+1, j+1)
		}
		memo[k] = 2
		if ok {
			memo[k] = 1
		}
		return ok
	}
	return covers(0, 0)
}

// Overlaps reports whether some topic is matched by both globs a and b:
// a deny rule that overlaps a pattern forbids the pattern. It is exact and
// runs in O(len(a)·len(b)) time and space.
func Overlaps(a, b string) bool {
	memo := make([]uint8, (len(a)+1)*(len(b)+1))
	var overlaps func(i, j int) bool
	overlaps = func(i, j int) bool {
		k := i*(len(b)+1) + j
		if memo[k] != 0 {
			return memo[k] == 1
		}
		var ok bool
		switch {
		case i < len(a) && a[i] == '*':
			ok = overlaps(i+1, j) || j < len(b) && overlaps(i, j+1)
		case j < len(b) && b[j] == '*':
			ok = overlaps(i, j+1) || i < len(a) && overlaps(i+1, j)
		case i == len(a) || j == len(b):
			ok = i == len(a) && j == len(b)
		case a[i] == '?' || b[j] == '?' || a[i] == b[j]:
			ok = overlaps(i+1, j+1)
		}
		memo[k] = 2
		if ok {
			memo[k] = 1
		}
		return ok
	}
	return overlaps(0, 0)
}
