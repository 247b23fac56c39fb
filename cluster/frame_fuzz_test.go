package cluster

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzDecodeFrame feeds arbitrary bytes to the frame decoder and, for
// frames that decode, to the body decoder of their type. Nothing may panic,
// decoding must agree with the streaming reader, and a decoded frame must
// re-encode to the same bytes.
func FuzzDecodeFrame(f *testing.F) {
	f.Add(encodeHello(hello{version: 1, caps: localCaps, maxFrame: 1 << 20, nodeID: "a", addr: "127.0.0.1:1"}, 0))
	f.Add(encodeFrame(frameMsg, 0, "chat", []byte(`{"x":1}`)))
	f.Add(encodeFrame(frameSub, 0, "", encodeTopicList([]string{"a", "b.*"})))
	f.Add(encodeFrame(framePeerList, 0, "", encodeMembers([]member{{"a", "127.0.0.1:1"}})))
	f.Add(encodePresence(Presence{Kind: PresenceJoin, Topic: "t", UserID: "u", Data: []byte("{}"), Conns: 1, TS: 1}))
	ps, _ := chunkPresence([]Presence{{Kind: PresenceJoin, Topic: "t", UserID: "u", TS: 1}}, 1<<20)
	f.Add(encodeFrame(framePresenceSync, flagMore, "", ps[0]))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		const maxSize = 1 << 20
		fr, n, err := decodeFrame(b, maxSize)
		rf, _, rerr := readFrame(bufio.NewReader(bytes.NewReader(b)), maxSize)
		if (err == nil) != (rerr == nil) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("decodeFrame %v, readFrame %v", err, rerr)
		}
		if err != nil {
			return
		}
		if rf.typ != fr.typ || rf.topic != fr.topic || !bytes.Equal(rf.payload, fr.payload) {
			t.Fatalf("decoders disagree")
		}
		if re := encodeFrame(fr.typ, fr.flags, fr.topic, fr.payload); !bytes.Equal(re, b[:n]) {
			t.Fatalf("re-encoding differs")
		}
		switch fr.typ {
		case frameHello:
			if h, err := decodeHello(fr.payload); err == nil {
				if h2, err := decodeHello(encodeHello(h, 0)[frameOverhead:]); err != nil || h2 != h {
					t.Fatalf("HELLO round trip: %v", err)
				}
			}
		case frameSub, frameUnsub, frameResync:
			if ts, err := decodeTopicList(fr.payload); err == nil && !bytes.Equal(encodeTopicList(ts), fr.payload) {
				t.Fatalf("topic list round trip")
			}
		case framePeerAnnounce, framePeerList:
			if ms, err := decodeMembers(fr.payload); err == nil && !bytes.Equal(encodeMembers(ms), fr.payload) {
				t.Fatalf("member list round trip")
			}
		case framePresence:
			if p, err := decodePresence(fr.topic, fr.payload); err == nil {
				if !bytes.Equal(encodePresence(p)[frameOverhead+len(fr.topic):], fr.payload) {
					t.Fatalf("presence round trip")
				}
			}
		case framePresenceSync:
			if ps, err := decodePresenceSync(fr.payload); err == nil {
				var re []byte
				for _, p := range ps {
					re = appendPresenceEntry(re, p)
				}
				if !bytes.Equal(re, fr.payload) {
					t.Fatalf("presence sync round trip")
				}
			}
		}
	})
}
