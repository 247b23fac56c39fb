package protocol

import (
	"errors"
	"math"
	"reflect"
	"regexp"
	"testing"

	"github.com/google/uuid"
)

func TestEventBuildsTheEnvelope(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ev   map[string]any
		want string // "<id>" stands for a generated UUIDv7
	}{
		{"minimal", map[string]any{"t": "price", "p": map[string]any{"v": 1}},
			`{"c":"U","t":"price","id":"<id>","ts":"2026-01-02T15:04:05.123Z","seq":7,"p":{"v":1},"v":1}`},
		{"type, payload and extras", map[string]any{"type": "user_snapshot", "payload": map[string]any{"a": 1}, "c": "X",
			"id": "id1", "ts": "T", "seq": 99, "v": 5, "zeta": 1, "alpha": "<b>"},
			`{"c":"S","t":"user_snapshot","id":"id1","ts":"T","seq":7,"p":{"a":1},"alpha":"<b>","zeta":1,"v":1}`},
		{"event_type", map[string]any{"event_type": "error"},
			`{"c":"WSE","t":"error","id":"<id>","ts":"2026-01-02T15:04:05.123Z","seq":7,"p":{},"v":1}`},
		{"t wins over type", map[string]any{"t": "a", "type": "b", "p": nil, "payload": "x", "id": nil},
			`{"c":"U","t":"a","id":"<id>","ts":"2026-01-02T15:04:05.123Z","seq":7,"p":"x","type":"b","v":1}`},
		{"nil t falls back", map[string]any{"t": nil, "type": "b", "": 0},
			`{"c":"U","t":"b","id":"<id>","ts":"2026-01-02T15:04:05.123Z","seq":7,"p":{},"":0,"v":1}`},
		{"escaping", map[string]any{"t": "q\"t", "p": "a\u2028b", "k\"": true},
			`{"c":"U","t":"q\"t","id":"<id>","ts":"2026-01-02T15:04:05.123Z","seq":7,"p":"a\u2028b","k\"":true,"v":1}`},
	}
	idPattern := regexp.MustCompile(`"id":"([0-9a-f-]{36})"`)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Event(tc.ev, 7, fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if m := idPattern.FindSubmatch(got); m != nil {
				u, err := uuid.ParseBytes(m[1])
				if err != nil || u.Version() != 7 {
					t.Fatalf("id %s is not a UUIDv7", m[1])
				}
				want = regexp.MustCompile(`<id>`).ReplaceAllLiteralString(want, string(m[1]))
			}
			if string(got) != want {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
			decodeMessage(t, got)
		})
	}
}

func TestEventRejectsUnusableEvents(t *testing.T) {
	t.Parallel()
	cases := map[string]map[string]any{
		"no type":        {"p": 1},
		"empty key":      {"": "x"},
		"nil":            nil,
		"numeric type":   {"t": 5},
		"NaN payload":    {"t": "x", "p": math.NaN()},
		"func extra":     {"t": "x", "f": func() {}},
		"channel id":     {"t": "x", "id": make(chan int)},
		"bad ts":         {"t": "x", "ts": math.Inf(1)},
		"type not first": {"type": 1, "event_type": "x"},
	}
	for name, ev := range cases {
		if _, err := Event(ev, 1, fixedNow); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestTransformEventMirrorsUpstream(t *testing.T) {
	t.Parallel()
	typeMap := map[string]string{"OrderCreated": "order_created"}
	cases := []struct {
		name  string
		event map[string]any
		want  map[string]any // "id" and "ts" checked separately when absent here
	}{
		{"already an envelope", map[string]any{"v": 1, "t": "x", "p": nil, "id": "a", "ts": "b"},
			map[string]any{"v": 1, "t": "x", "p": nil, "id": "a", "ts": "b", "seq": uint64(4)}},
		{"envelope keeps its seq", map[string]any{"v": 1, "t": "x", "p": 1, "id": "a", "ts": "b", "seq": 1},
			map[string]any{"v": 1, "t": "x", "p": 1, "id": "a", "ts": "b", "seq": 1}},
		{"metadata", map[string]any{"event_type": "OrderCreated", "order_id": 5.0, "_metadata": map[string]any{
			"event_id": "e1", "timestamp": "2026-01-02T15:04:04.123Z", "correlation_id": "c1", "priority": 8.0, "trace_id": "tr", "version": 2.0}},
			map[string]any{"c": "U", "t": "order_created", "original_event_type": "OrderCreated", "id": "e1",
				"ts": "2026-01-02T15:04:04.123Z", "latency_ms": int64(1000), "seq": uint64(4), "v": 1,
				"p": map[string]any{"event_type": "OrderCreated", "order_id": 5.0}, "cid": "c1", "pri": 8.0,
				"event_version": int64(2), "trace_id": "tr"}},
		{"payload object and lower-casing", map[string]any{"type": "User_Snapshot", "payload": map[string]any{"x": []byte("hi"), "y": []byte{0xe9}},
			"event_id": 42.0, "timestamp": "2026-01-02T15:04:03", "correlation_id": "", "pri": 3.0, "version": 3.0, "trace_id": "t2"},
			map[string]any{"c": "S", "t": "user_snapshot", "original_event_type": "User_Snapshot", "id": "42",
				"ts": "2026-01-02T15:04:03", "latency_ms": int64(2123), "seq": uint64(4), "v": 1,
				"p": map[string]any{"x": "hi", "y": "é"}, "pri": 3.0, "event_version": int64(3), "trace_id": "t2"}},
		{"own category and bad version", map[string]any{"type": "ping", "c": "U", "version": "x", "timestamp": "yesterday"},
			map[string]any{"c": "U", "t": "ping", "ts": "yesterday", "seq": uint64(4), "v": 1, "event_version": int64(1),
				"p": map[string]any{"type": "ping", "event_type": "ping", "c": "U", "version": "x", "timestamp": "yesterday"}}},
		{"empty", map[string]any{},
			map[string]any{"c": "U", "t": "unknown", "seq": uint64(4), "v": 1, "event_version": int64(1), "p": map[string]any{}}},
	}
	idPattern := regexp.MustCompile(`^[0-9a-f-]{36}$`)
	tsPattern := regexp.MustCompile(`^2026-01-02T15:04:05\.123456Z$`)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := deepCopy(tc.event)
			got, ok := transformEvent(tc.event, 4, typeMap, fixedNow)
			if !ok {
				t.Fatal("not usable")
			}
			if _, ok := tc.want["id"]; !ok {
				if id, _ := got["id"].(string); !idPattern.MatchString(id) {
					t.Fatalf("id = %v", got["id"])
				}
				delete(got, "id")
			}
			if _, ok := tc.want["ts"]; !ok {
				if ts, _ := got["ts"].(string); !tsPattern.MatchString(ts) {
					t.Fatalf("ts = %v", got["ts"])
				}
				delete(got, "ts")
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
			if !reflect.DeepEqual(tc.event, before) {
				t.Fatal("the event was modified")
			}
			if _, err := Event(got, 4, fixedNow); err != nil {
				t.Fatalf("Event rejects the result: %v", err)
			}
		})
	}
	if got, ok := TransformEvent(nil, 1, nil); ok || got != nil {
		t.Fatalf("nil event gives %v, %v", got, ok)
	}
}

// deepCopy copies maps and slices of decoded JSON.
func deepCopy(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, e := range v {
		switch e := e.(type) {
		case map[string]any:
			out[k] = deepCopy(e)
		case []byte:
			out[k] = append([]byte(nil), e...)
		default:
			out[k] = e
		}
	}
	return out
}
