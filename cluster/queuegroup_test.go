package cluster

import (
	"bytes"
	"slices"
	"testing"
)

func TestQueueInterestKeyRoundTrips(t *testing.T) {
	t.Parallel()
	topic, group, ok := parseQueueKey(QueueInterestKey("jobs.eu", "workers"))
	if !ok || topic != "jobs.eu" || group != "workers" {
		t.Fatalf("parseQueueKey = %q %q %v", topic, group, ok)
	}
	for _, notKey := range []string{"jobs", "jobs.*", "\x00q\x00", "\x00q\x00workers", "\x00q\x00\x00jobs"} {
		if _, _, ok := parseQueueKey(notKey); ok {
			t.Fatalf("parseQueueKey(%q) accepted", notKey)
		}
	}
}

func TestGroupMsgDecodesToItsGroupsAndText(t *testing.T) {
	t.Parallel()
	b := encodeGroupMsg("jobs", []byte(`{"t":"job"}`), []string{"workers", "audit"})
	f, n, err := decodeFrame(b, MinMaxFrameSize)
	if err != nil || n != len(b) || f.typ != frameMsg || f.flags != flagGroups || f.topic != "jobs" {
		t.Fatalf("decodeFrame = %+v, %d, %v", f, n, err)
	}
	groups, text, err := decodeGroups(f.payload)
	if err != nil || !slices.Equal(groups, []string{"workers", "audit"}) || string(text) != `{"t":"job"}` {
		t.Fatalf("decodeGroups = %v %q %v", groups, text, err)
	}
	for _, bad := range [][]byte{nil, {0}, {0, 1}, {0, 1, 0, 5, 'a'}} {
		if _, _, err := decodeGroups(bad); err == nil {
			t.Fatalf("decodeGroups(%v) accepted", bad)
		}
	}
}

func FuzzDecodeGroups(f *testing.F) {
	f.Add(appendGroups(nil, []string{"workers"}))
	f.Add(append(appendGroups(nil, []string{"a", "b"}), `{"t":"x"}`...))
	f.Add([]byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, p []byte) {
		groups, rest, err := decodeGroups(p)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same bytes.
		if again := append(appendGroups(nil, groups), rest...); !bytes.Equal(again, p) {
			t.Fatalf("decodeGroups(%x) = %q %x, re-encoded %x", p, groups, rest, again)
		}
	})
}
