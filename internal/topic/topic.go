package topic

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxLen is the longest topic, in bytes.
const MaxLen = 256

// UserIDPlaceholder is the template variable Expand replaces with a user id.
const UserIDPlaceholder = "{user_id}"

// Validate reports whether topic is a valid topic name: 1 to MaxLen bytes of
// valid UTF-8 without ASCII control characters (below 0x20, and 0x7f). It
// returns nil or an error wrapping ErrInvalid with the reason.
func Validate(topic string) error {
	switch {
	case topic == "":
		return fmt.Errorf("%w: empty", ErrInvalid)
	case len(topic) > MaxLen:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrInvalid, len(topic), MaxLen)
	}
	for i := 0; i < len(topic); i++ {
		if c := topic[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("%w: control character 0x%02x at byte %d", ErrInvalid, c, i)
		}
	}
	if !utf8.ValidString(topic) {
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalid)
	}
	return nil
}

// IsPattern reports whether s holds a glob character ('*' or '?'), so that it
// names a set of topics rather than one.
func IsPattern(s string) bool {
	return strings.ContainsAny(s, "*?")
}

// Expand replaces every "{user_id}" in template with userID. The user id is
// inserted verbatim: when the result is used as a glob, prefer ExpandGlob.
func Expand(template, userID string) string {
	return strings.ReplaceAll(template, UserIDPlaceholder, userID)
}

// ExpandGlob is Expand for templates whose result is used as a glob (an ACL
// rule or a pattern subscription). It fails with ErrUnsafeUserID when the
// template uses "{user_id}" and userID holds '*' or '?': a user called "*"
// would otherwise be granted every other user's topics.
func ExpandGlob(template, userID string) (string, error) {
	if IsPattern(userID) && strings.Contains(template, UserIDPlaceholder) {
		return "", fmt.Errorf("%w: %q", ErrUnsafeUserID, userID)
	}
	return Expand(template, userID), nil
}
