package protocol

import (
	"bytes"
	"strings"
)

// Message categories (field "c").
const (
	// CategorySystem marks protocol messages.
	CategorySystem = "WSE"
	// CategorySnapshot marks snapshot messages.
	CategorySnapshot = "S"
	// CategoryUpdate marks every other (application) message.
	CategoryUpdate = "U"
)

// wseTypes are the message types of category CategorySystem.
var wseTypes = map[string]struct{}{
	TypeServerReady:           {},
	TypeServerHello:           {},
	TypeSubscriptionUpdate:    {},
	TypeError:                 {},
	TypePing:                  {},
	TypePong:                  {},
	TypePongLower:             {},
	TypePresenceJoin:          {},
	TypePresenceLeave:         {},
	TypePresenceUpdate:        {},
	TypeRateLimitWarning:      {},
	"client_hello_ack":        {},
	"connection_state_change": {},
}

// Category returns the category of message type t: CategorySnapshot ("S")
// when t contains "_snapshot" or starts with "snapshot_" (this wins, so
// snapshot_complete is "S"), CategorySystem ("WSE") for protocol types, and
// CategoryUpdate ("U") for everything else.
func Category(t string) string {
	if strings.Contains(t, "_snapshot") || strings.HasPrefix(t, "snapshot_") {
		return CategorySnapshot
	}
	if _, ok := wseTypes[t]; ok {
		return CategorySystem
	}
	return CategoryUpdate
}

// categoryOf is Category for a type held in bytes, without allocating.
func categoryOf(t []byte) string {
	if bytes.Contains(t, []byte("_snapshot")) || bytes.HasPrefix(t, []byte("snapshot_")) {
		return CategorySnapshot
	}
	if _, ok := wseTypes[string(t)]; ok {
		return CategorySystem
	}
	return CategoryUpdate
}

// InjectCategory returns text with "c":"<category>", inserted right after its
// first '{', the category being that of the top-level "t" (PROTOCOL §5).
// Only the top level counts: keys of nested objects and JSON inside strings
// are ignored, and whitespace around the colon is allowed. text is returned
// unchanged (the same slice) when it is not exactly one valid JSON object,
// when it has a top-level "c", or when its top-level "t" is missing or not a
// string. The scan is a single pass; only the output is allocated.
func InjectCategory(text []byte) []byte {
	info, ok := scanObject(text)
	if !ok || info.hasC || !info.tFound {
		return text
	}
	t := info.t
	if info.tEscaped {
		var buf [64]byte
		t = unescape(buf[:0], t)
	}
	c := categoryOf(t)
	out := make([]byte, 0, len(text)+len(`"c":"",`)+len(c))
	out = append(out, text[:info.open+1]...)
	out = append(out, `"c":"`...)
	out = append(out, c...)
	out = append(out, `",`...)
	return append(out, text[info.open+1:]...)
}
