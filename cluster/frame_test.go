package cluster

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestFrameRoundTripsEveryType(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		typ     frameType
		flags   uint8
		topic   string
		payload []byte
	}{
		{"empty ping", framePing, 0, "", nil},
		{"message", frameMsg, 0, "chat.room", []byte(`{"t":"x"}`)},
		{"flags kept", frameResync, flagMore, "", encodeTopicList([]string{"a", "b"})},
		{"long topic", frameMsg, 0, strings.Repeat("t", 65535), []byte("p")},
		{"unknown type", 250, 0xff, "x", []byte{0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := encodeFrame(tc.typ, tc.flags, tc.topic, tc.payload)
			f, n, err := decodeFrame(b, DefaultMaxFrameSize)
			if err != nil || n != len(b) {
				t.Fatalf("decode: %v, %d of %d bytes", err, n, len(b))
			}
			if f.typ != tc.typ || f.flags != tc.flags || f.topic != tc.topic || !bytes.Equal(f.payload, tc.payload) {
				t.Fatalf("got %+v", f)
			}
			r, _, err := readFrame(bufio.NewReader(bytes.NewReader(b)), DefaultMaxFrameSize)
			if err != nil || r.typ != tc.typ || r.topic != tc.topic || !bytes.Equal(r.payload, tc.payload) {
				t.Fatalf("readFrame: %v %+v", err, r)
			}
		})
	}
}

func TestDecodeFrameRejectsMalformedInput(t *testing.T) {
	t.Parallel()
	withLen := func(n uint32, rest ...byte) []byte { return append(binary.BigEndian.AppendUint32(nil, n), rest...) }
	cases := []struct {
		name string
		in   []byte
		max  int
		want error
	}{
		{"short prefix", []byte{0, 0}, 1 << 20, io.ErrUnexpectedEOF},
		{"short body", withLen(10, 1, 0, 0, 0), 1 << 20, io.ErrUnexpectedEOF},
		{"below header", withLen(3, 1, 0, 0), 1 << 20, ErrBadFrame},
		{"over cap", withLen(1 << 20), 1 << 20, ErrFrameTooLarge},
		{"max uint32", withLen(0xFFFFFFFF), 1 << 30, ErrFrameTooLarge},
		{"topic beyond frame", withLen(5, 6, 0, 0, 9, 'x'), 1 << 20, ErrBadFrame},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := decodeFrame(tc.in, tc.max); !errors.Is(err, tc.want) {
				t.Fatalf("decodeFrame = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestReadFrameChecksLengthBeforeReadingBody(t *testing.T) {
	t.Parallel()
	// Only the 4-byte header exists: an oversized length must fail at once
	// instead of waiting for (or allocating) the body.
	r := bufio.NewReader(bytes.NewReader(binary.BigEndian.AppendUint32(nil, 1<<30)))
	if _, n, err := readFrame(r, DefaultMaxFrameSize); !errors.Is(err, ErrFrameTooLarge) || n != lenSize {
		t.Fatalf("readFrame = %d, %v", n, err)
	}
}

func TestBodyCodecsRoundTrip(t *testing.T) {
	t.Parallel()
	t.Run("hello", func(t *testing.T) {
		h := hello{version: 1, caps: localCaps, maxFrame: 1 << 20, nodeID: "node-1", addr: "10.0.0.1:7946"}
		f, _, err := decodeFrame(encodeHello(h, flagReject), DefaultMaxFrameSize)
		if err != nil || f.flags != flagReject {
			t.Fatalf("%v %+v", err, f)
		}
		got, err := decodeHello(f.payload)
		if err != nil || got != h {
			t.Fatalf("%v %+v", err, got)
		}
	})
	t.Run("topics", func(t *testing.T) {
		in := []string{"a", "", "news.*", strings.Repeat("x", 300)}
		got, err := decodeTopicList(encodeTopicList(in))
		if err != nil || !reflect.DeepEqual(got, in) {
			t.Fatalf("%v %q", err, got)
		}
	})
	t.Run("members", func(t *testing.T) {
		in := []member{{"a", "127.0.0.1:1"}, {"b", ""}}
		got, err := decodeMembers(encodeMembers(in))
		if err != nil || !reflect.DeepEqual(got, in) {
			t.Fatalf("%v %+v", err, got)
		}
	})
	t.Run("presence", func(t *testing.T) {
		in := Presence{Kind: PresenceUpdate, Topic: "room", UserID: "u1", Data: []byte(`{"a":1}`), Conns: 3, TS: -5}
		f, _, err := decodeFrame(encodePresence(in), DefaultMaxFrameSize)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodePresence(f.topic, f.payload)
		if err != nil || !reflect.DeepEqual(got, in) {
			t.Fatalf("%v %+v", err, got)
		}
	})
	t.Run("presence sync", func(t *testing.T) {
		in := []Presence{
			{Kind: PresenceJoin, Topic: "r", UserID: "a", Data: []byte(`{}`), Conns: 1, TS: 1},
			{Kind: PresenceJoin, Topic: "r", UserID: "b", Conns: 2, TS: 2},
		}
		chunks, skipped := chunkPresence(in, 1<<20)
		if len(chunks) != 1 || skipped != 0 {
			t.Fatalf("%d chunks, %d skipped", len(chunks), skipped)
		}
		got, err := decodePresenceSync(chunks[0])
		if err != nil || !reflect.DeepEqual(got, in) {
			t.Fatalf("%v %+v", err, got)
		}
	})
}

func TestBodyDecodersRejectMalformedInput(t *testing.T) {
	t.Parallel()
	valid := encodeHello(hello{version: 1, nodeID: "n"}, 0)[frameOverhead:]
	cases := []struct {
		name   string
		decode func() error
	}{
		{"hello bad magic", func() error { _, err := decodeHello([]byte("XXXX0000000000000")); return err }},
		{"hello short", func() error { _, err := decodeHello(valid[:8]); return err }},
		{"hello trailing", func() error { _, err := decodeHello(append(bytes.Clone(valid), 0)); return err }},
		{"hello empty id", func() error {
			_, err := decodeHello(encodeHello(hello{version: 1}, 0)[frameOverhead:])
			return err
		}},
		{"topics truncated", func() error { _, err := decodeTopicList([]byte{0, 5, 'a'}); return err }},
		{"members odd", func() error { _, err := decodeMembers(appendStr16(nil, "id")); return err }},
		{"members empty id", func() error { _, err := decodeMembers(encodeMembers([]member{{"", "x:1"}})); return err }},
		{"presence short", func() error { _, err := decodePresence("t", []byte{1, 2}); return err }},
		{"presence kind", func() error {
			b := encodePresence(Presence{Kind: 9, UserID: "u"})
			f, _, _ := decodeFrame(b, DefaultMaxFrameSize)
			_, err := decodePresence(f.topic, f.payload)
			return err
		}},
		{"presence sync data length", func() error {
			b := appendPresenceEntry(nil, Presence{Kind: PresenceJoin, Data: []byte("xy")})
			_, err := decodePresenceSync(b[:len(b)-1])
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.decode(); !errors.Is(err, ErrBadFrame) {
				t.Fatalf("got %v, want ErrBadFrame", err)
			}
		})
	}
}

func TestChunkingSplitsLargeSets(t *testing.T) {
	t.Parallel()
	topics := make([]string, 50000)
	for i := range topics {
		topics[i] = fmt.Sprintf("topic.%08d", i)
	}
	chunks := chunkTopics(topics, MinMaxFrameSize-frameOverhead)
	if len(chunks) < 2 {
		t.Fatalf("%d chunks", len(chunks))
	}
	var all []string
	for _, c := range chunks {
		if len(c) > MinMaxFrameSize-frameOverhead {
			t.Fatalf("chunk of %d bytes", len(c))
		}
		got, err := decodeTopicList(c)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, got...)
	}
	if !reflect.DeepEqual(all, topics) {
		t.Fatalf("topics lost in chunking")
	}
	if c := chunkTopics(nil, 1<<20); len(c) != 1 || len(c[0]) != 0 {
		t.Fatalf("empty set gives %d chunks", len(c))
	}
	huge := []Presence{{Kind: PresenceJoin, Data: make([]byte, 1000)}, {Kind: PresenceJoin, UserID: "ok"}}
	pc, skipped := chunkPresence(huge, 500)
	if skipped != 1 || len(pc) != 1 {
		t.Fatalf("%d chunks, %d skipped", len(pc), skipped)
	}
}
