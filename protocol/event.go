package protocol

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// microTimestampLayout is the "ts" TransformEvent generates: ISO-8601 UTC
// with microseconds, as the original WSE server writes it.
const microTimestampLayout = "2006-01-02T15:04:05.000000Z"

// eventKeys are the keys Event places itself; every other key of the event
// follows "p" in sorted order.
var eventKeys = map[string]struct{}{"c": {}, "t": {}, "id": {}, "ts": {}, "seq": {}, "p": {}, "v": {}}

// Event builds the send_event envelope for an application event
// (PROTOCOL §5): {"c","t","id","ts","seq","p",<other keys, sorted>,"v":1}.
//
//   - "c" is Category of the type; a "c" in ev is ignored.
//   - "t" is ev["t"], else ev["type"], else ev["event_type"], the first of
//     them that is present and not nil; it must be a string.
//   - "id" and "ts" are kept when present and not nil, else a new id and
//     Timestamp(now).
//   - "seq" is seq; a "seq" in ev is ignored.
//   - "p" is ev["p"], else ev["payload"], else {}.
//   - every other key follows in sorted order; the keys used for "t" and
//     "p" are not repeated.
//
// The error wraps ErrInvalid when the event has no string type or a value
// has no JSON form.
func Event(ev map[string]any, seq uint64, now time.Time) ([]byte, error) {
	typeKey := firstKey(ev, "t", "type", "event_type")
	t, ok := ev[typeKey].(string)
	if typeKey == "" || !ok {
		return nil, fmt.Errorf("%w: event without a string type", ErrInvalid)
	}
	payloadKey := firstKey(ev, "p", "payload")

	b := make([]byte, 0, 256)
	b = append(b, `{"c":"`...)
	b = append(b, Category(t)...)
	b = append(b, `","t":`...)
	b = AppendString(b, t)
	b = append(b, `,"id":`...)
	var err error
	if id, ok := ev["id"]; ok && id != nil {
		if b, err = appendValue(b, id); err != nil {
			return nil, err
		}
	} else {
		b = AppendString(b, NewID())
	}
	b = append(b, `,"ts":`...)
	if ts, ok := ev["ts"]; ok && ts != nil {
		if b, err = appendValue(b, ts); err != nil {
			return nil, err
		}
	} else {
		b = appendTimestamp(b, now)
	}
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"p":`...)
	if payloadKey == "" {
		b = append(b, "{}"...)
	} else if b, err = appendValue(b, ev[payloadKey]); err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(ev)) {
		if _, placed := eventKeys[k]; placed || k == typeKey || (k == payloadKey && k != "") {
			continue
		}
		b = append(b, ',')
		b = AppendString(b, k)
		b = append(b, ':')
		if b, err = appendValue(b, ev[k]); err != nil {
			return nil, err
		}
	}
	return append(b, `,"v":1}`...), nil
}

// firstKey returns the first of keys present in m with a non-nil value, or "".
func firstKey(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if v, ok := m[k]; ok && v != nil {
			return k
		}
	}
	return ""
}

// TransformEvent turns a raw application event into a wire envelope map, as
// the original WSE server's event transform does:
//
//   - An event that already has "v", "t", "p", "id" and "ts" passes through
//     (copied), with "seq" added when absent.
//   - The type is event_type, else type (as a string), else "unknown",
//     mapped through typeMap, else lower-cased; "original_event_type" keeps
//     the raw type when the two differ.
//   - "c" is the event's own c when not nil, else Category of the type.
//   - "id" is _metadata.event_id, else event_id, else a new UUIDv7; "ts" is
//     _metadata.timestamp, else timestamp, else now with microseconds; when
//     that timestamp parses as RFC 3339 (or as a naive UTC date-time),
//     "latency_ms" is its age.
//   - "p" is the event's payload when it is an object, else the event
//     itself, minus "_metadata", with "event_type" set from "type" when
//     missing; []byte values become strings.
//   - "seq" is seq; "v" is 1; "event_version" is version (from the event,
//     else _metadata) when an integer, else 1; "cid" (correlation_id),
//     "pri" (_metadata.priority, else pri) and "trace_id" are copied when
//     present.
//
// It returns (nil, false) only for a nil event. The event is not modified.
func TransformEvent(event map[string]any, seq uint64, typeMap map[string]string) (map[string]any, bool) {
	return transformEvent(event, seq, typeMap, time.Now())
}

// transformEvent is TransformEvent at time now.
func transformEvent(event map[string]any, seq uint64, typeMap map[string]string, now time.Time) (map[string]any, bool) {
	if event == nil {
		return nil, false
	}
	if hasAll(event, "v", "t", "p", "id", "ts") {
		out := maps.Clone(event)
		if _, ok := out["seq"]; !ok {
			out["seq"] = seq
		}
		return out, true
	}
	meta, _ := event["_metadata"].(map[string]any)

	rawType := "unknown"
	if k := firstKey(event, "event_type", "type"); k != "" {
		rawType = stringOf(event[k])
	}
	wsType, mapped := typeMap[rawType]
	if !mapped {
		wsType = strings.ToLower(rawType)
	}

	out := map[string]any{"t": wsType, "seq": seq, "v": Version}
	if c, ok := event["c"]; ok && c != nil {
		out["c"] = c
	} else {
		out["c"] = Category(wsType)
	}
	if wsType != rawType {
		out["original_event_type"] = rawType
	}

	if id, ok := metaOrEvent(meta, "event_id", event, "event_id"); ok {
		out["id"] = stringOf(id)
	} else {
		out["id"] = NewID()
	}
	if ts, ok := metaOrEvent(meta, "timestamp", event, "timestamp"); ok {
		s := stringOf(ts)
		out["ts"] = s
		if at, ok := parseEventTime(s); ok {
			out["latency_ms"] = now.Sub(at).Milliseconds()
		}
	} else {
		out["ts"] = now.UTC().Format(microTimestampLayout)
	}

	out["p"] = eventPayload(event)

	if cid, ok := meta["correlation_id"]; ok && cid != nil {
		out["cid"] = stringOf(cid)
	} else if cid := stringOf(event["correlation_id"]); event["correlation_id"] != nil && cid != "" {
		out["cid"] = cid
	}
	if pri, ok := metaOrEvent(meta, "priority", event, "pri"); ok {
		out["pri"] = pri
	}
	out["event_version"] = int64(1)
	if v, ok := metaOrEvent(event, "version", meta, "version"); ok {
		if n, ok := toInt64(v); ok {
			out["event_version"] = n
		}
	}
	if tr, ok := meta["trace_id"]; ok && tr != nil {
		out["trace_id"] = stringOf(tr)
	} else if tr := stringOf(event["trace_id"]); event["trace_id"] != nil && tr != "" {
		out["trace_id"] = tr
	}
	return out, true
}

// hasAll reports whether m has every key (nil values included).
func hasAll(m map[string]any, keys ...string) bool {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// metaOrEvent returns a[ka] when present and not nil, else b[kb] likewise.
func metaOrEvent(a map[string]any, ka string, b map[string]any, kb string) (any, bool) {
	if v, ok := a[ka]; ok && v != nil {
		return v, true
	}
	if v, ok := b[kb]; ok && v != nil {
		return v, true
	}
	return nil, false
}

// eventPayload returns a copy of the event's payload object, or of the
// event itself, without "_metadata" and with "event_type" set from "type".
func eventPayload(event map[string]any) map[string]any {
	src, ok := event["payload"].(map[string]any)
	if !ok {
		src = event
	}
	p := make(map[string]any, len(src)+1)
	for k, v := range src {
		if k != "_metadata" {
			p[k] = jsonSafe(v)
		}
	}
	if _, ok := p["event_type"]; !ok {
		if t, ok := p["type"]; ok && t != nil {
			p["event_type"] = t
		}
	}
	return p
}

// jsonSafe returns v with []byte values, at any depth, turned into strings
// (UTF-8 as is, other bytes as Latin-1), copying maps and slices it changes.
func jsonSafe(v any) any {
	switch v := v.(type) {
	case []byte:
		if utf8.Valid(v) {
			return string(v)
		}
		r := make([]rune, len(v))
		for i, c := range v {
			r[i] = rune(c)
		}
		return string(r)
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = jsonSafe(e)
		}
		return m
	case []any:
		a := make([]any, len(v))
		for i, e := range v {
			a[i] = jsonSafe(e)
		}
		return a
	}
	return v
}

// stringOf returns the string form of a decoded value: strings as they are,
// numbers without exponent where possible, other values as JSON.
func stringOf(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return jsonSafe(v).(string)
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case fmt.Stringer:
		return v.String()
	case float64:
		return string(appendFloat(nil, v))
	}
	b, err := appendValue(nil, v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// toInt64 converts a decoded number that is an integer.
func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		if n >= math.MinInt64 && n < math.MaxInt64 && n == math.Trunc(n) {
			return int64(n), true
		}
	case int:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		return int64(n), n <= math.MaxInt64
	}
	return 0, false
}

// parseEventTime parses an RFC 3339 time, or a date-time without zone taken
// as UTC.
func parseEventTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	t, err := time.Parse("2006-01-02T15:04:05.999999999", s)
	return t, err == nil
}
