package protocol

import (
	"unicode/utf16"
	"unicode/utf8"
)

// maxScanDepth is the deepest nesting scanObject accepts; it matches the
// limit of encoding/json so that both agree on what is valid.
const maxScanDepth = 10000

// objectInfo describes a JSON object text checked by scanObject.
type objectInfo struct {
	open  int  // index of the opening '{'
	empty bool // the object has no members
	hasC  bool // some top-level key is "c"
	// tFound reports that the last top-level key "t" has a string value;
	// t is that value's raw content between the quotes, with escapes still
	// in place when tEscaped.
	tFound   bool
	tEscaped bool
	t        []byte
}

// Scanner states.
const (
	stKeyOrEnd   = iota // after '{': a key or '}'
	stKey               // after ',' in an object: a key
	stColon             // after a key: ':'
	stValue             // a value
	stValueOrEnd        // after '[': a value or ']'
	stNext              // after a value: ',' or the closing bracket
)

// scanObject reports whether b is exactly one JSON object (surrounding
// whitespace allowed), valid by the same rules as json.Valid, and describes
// its top level. It is a single pass over b that allocates only for
// nesting deeper than 32 levels.
func scanObject(b []byte) (objectInfo, bool) {
	var info objectInfo
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return info, false
	}
	info.open = i
	var stackBuf [32]byte
	stack := append(stackBuf[:0], '}') // closing bracket of each open container
	state := stKeyOrEnd
	pendingT := false // the current top-level member's key is "t"
	i++
	for {
		i = skipSpace(b, i)
		if len(stack) == 0 {
			return info, i == len(b)
		}
		if i >= len(b) {
			return info, false
		}
		c := b[i]
		switch state {
		case stKeyOrEnd, stKey:
			if c == '}' && state == stKeyOrEnd {
				info.empty = info.empty || len(stack) == 1
				stack = stack[:len(stack)-1]
				i++
				state = stNext
				continue
			}
			if c != '"' {
				return info, false
			}
			end, escaped, ok := scanString(b, i)
			if !ok {
				return info, false
			}
			if len(stack) == 1 {
				key := b[i+1 : end-1]
				if escaped {
					var buf [8]byte
					key = unescape(buf[:0], key)
				}
				pendingT = len(key) == 1 && key[0] == 't'
				info.hasC = info.hasC || len(key) == 1 && key[0] == 'c'
			}
			i = end
			state = stColon
		case stColon:
			if c != ':' {
				return info, false
			}
			i++
			state = stValue
		case stValue, stValueOrEnd:
			if c == ']' && state == stValueOrEnd {
				stack = stack[:len(stack)-1]
				i++
				state = stNext
				continue
			}
			top := len(stack) == 1
			switch {
			case c == '{' || c == '[':
				if c == '{' {
					stack = append(stack, '}')
					state = stKeyOrEnd
				} else {
					stack = append(stack, ']')
					state = stValueOrEnd
				}
				if len(stack) > maxScanDepth {
					return info, false
				}
				i++
				if top && pendingT {
					info.tFound = false
				}
				continue
			case c == '"':
				end, escaped, ok := scanString(b, i)
				if !ok {
					return info, false
				}
				if top && pendingT {
					info.tFound, info.tEscaped, info.t = true, escaped, b[i+1:end-1]
				}
				i = end
			default:
				end, ok := scanScalar(b, i)
				if !ok {
					return info, false
				}
				if top && pendingT {
					info.tFound = false
				}
				i = end
			}
			state = stNext
		case stNext:
			closer := stack[len(stack)-1]
			switch c {
			case ',':
				if closer == '}' {
					state = stKey
				} else {
					state = stValue
				}
			case closer:
				stack = stack[:len(stack)-1]
			default:
				return info, false
			}
			i++
		}
	}
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString checks the JSON string starting at b[i] == '"' and returns the
// index just past its closing quote and whether it contains escapes.
func scanString(b []byte, i int) (end int, escaped bool, ok bool) {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, escaped, true
		case c < 0x20:
			return 0, false, false
		case c == '\\':
			escaped = true
			i++
			if i >= len(b) {
				return 0, false, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return 0, false, false
				}
				for _, h := range b[i+1 : i+5] {
					if unhex(h) < 0 {
						return 0, false, false
					}
				}
				i += 4
			default:
				return 0, false, false
			}
		}
	}
	return 0, false, false
}

// scanScalar checks the number or literal (true, false, null) at b[i] and
// returns the index just past it.
func scanScalar(b []byte, i int) (int, bool) {
	for _, lit := range [...]string{"true", "false", "null"} {
		if b[i] == lit[0] {
			if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
				return i + len(lit), true
			}
			return 0, false
		}
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = skipDigits(b, i)
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

// skipDigits returns the index of the first non-digit at or after i.
func skipDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// unhex returns the value of the hex digit c, or -1.
func unhex(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// unescape appends the decoded form of raw, the content of a JSON string
// already checked by scanString, to dst. Lone surrogates become U+FFFD, as
// with encoding/json.
func unescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[i+1:])
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					r2 = hex4(raw[i+3:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, raw[i])
		}
	}
	return dst
}

// hex4 decodes four hex digits already checked by scanString.
func hex4(b []byte) rune {
	return unhex(b[0])<<12 | unhex(b[1])<<8 | unhex(b[2])<<4 | unhex(b[3])
}
