package wsconn

import (
	"bytes"
	"testing"
)

// collector is a frameSink recording copies of what it receives. It stops at
// a close frame, as Conn does.
type collector struct {
	got []message
}

func (s *collector) frame(op Opcode, p []byte) bool {
	s.got = append(s.got, message{op, string(p)})
	return op != OpClose
}

// parseChunks feeds stream to a fresh parser in chunks of the given sizes
// (the last chunk takes the rest) and returns what it decoded, the close code
// and the largest buffer capacities seen.
func parseChunks(stream []byte, max int64, sizes []int) (got []message, fail int, pendingCap, msgCap int) {
	data := append([]byte(nil), stream...)
	p := parser{max: max}
	s := &collector{}
	for i := 0; len(data) > 0; i++ {
		n := len(data)
		if i < len(sizes) {
			n = min(max2(sizes[i], 1), len(data))
		}
		fail = p.feed(data[:n], s)
		data = data[n:]
		pendingCap = max2(pendingCap, cap(p.pending))
		msgCap = max2(msgCap, cap(p.msg))
		if fail != 0 || (len(s.got) > 0 && s.got[len(s.got)-1].op == OpClose) {
			break
		}
	}
	return s.got, fail, pendingCap, msgCap
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func TestParserResultDoesNotDependOnSplits(t *testing.T) {
	t.Parallel()
	var stream []byte
	stream = append(stream, clientFrame(true, OpText, []byte("one"), 0, false)...)
	stream = append(stream, clientFrame(false, OpBinary, bytes.Repeat([]byte{1}, 300), 0, false)...)
	stream = append(stream, clientFrame(true, OpPing, []byte("ping"), 0, false)...)
	stream = append(stream, clientFrame(true, OpContinuation, bytes.Repeat([]byte{2}, 70000), 0, false)...)
	stream = append(stream, clientFrame(true, OpText, nil, 0, false)...)
	stream = append(stream, clientFrame(true, OpClose, []byte{0x03, 0xE8}, 0, false)...)
	stream = append(stream, clientFrame(true, OpText, []byte("after close"), 0, false)...)
	want, fail, _, _ := parseChunks(stream, 1<<20, nil)
	if fail != 0 || len(want) != 5 || len(want[2].data) != 70300 {
		t.Fatalf("whole stream: fail %d, %d messages", fail, len(want))
	}
	cases := []struct {
		name  string
		sizes func(i int) []int
	}{
		{name: "two chunks", sizes: func(i int) []int { return []int{i} }},
		{name: "three chunks", sizes: func(i int) []int { return []int{i, 7} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := 1; i < len(stream); i += 1 + i/50 {
				got, fail, _, _ := parseChunks(stream, 1<<20, tc.sizes(i))
				if fail != 0 || len(got) != len(want) {
					t.Fatalf("split %d: fail %d, %d messages", i, fail, len(got))
				}
				for k := range got {
					if got[k] != want[k] {
						t.Fatalf("split %d: message %d differs", i, k)
					}
				}
			}
		})
	}
}

func TestParserReleasesBuffers(t *testing.T) {
	t.Parallel()
	p := parser{max: 1 << 20}
	s := &collector{}
	frag := clientFrame(false, OpText, []byte("hello "), 0, false)
	last := clientFrame(true, OpContinuation, []byte("world"), 0, false)
	if fail := p.feed(frag[:4], s); fail != 0 || p.pending == nil {
		t.Fatalf("partial header: fail %d pending %v", fail, p.pending)
	}
	if fail := p.feed(frag[4:], s); fail != 0 || p.pending != nil || p.msg == nil {
		t.Fatalf("first fragment: fail %d pending %d msg %d", fail, len(p.pending), len(p.msg))
	}
	if fail := p.feed(last, s); fail != 0 || p.pending != nil || p.msg != nil || p.msgOp != 0 {
		t.Fatalf("last fragment: fail %d, buffers kept", fail)
	}
	if len(s.got) != 1 || s.got[0].data != "hello world" {
		t.Fatalf("got %v", s.got)
	}
}

func TestParserNeverBuffersPastDeclaredSize(t *testing.T) {
	t.Parallel()
	const max = 100000
	frame := clientFrame(true, OpBinary, make([]byte, max), 0, false)
	sizes := make([]int, 0, 100)
	for range 100 {
		sizes = append(sizes, 4096)
	}
	got, fail, pendingCap, _ := parseChunks(frame, max, sizes)
	if fail != 0 || len(got) != 1 {
		t.Fatalf("fail %d, %d messages", fail, len(got))
	}
	if pendingCap > max+maxHeaderSize {
		t.Fatalf("pending grew to %d for a %d-byte frame", pendingCap, len(frame))
	}
	// A peer declaring a huge frame and sending little costs little.
	_, fail, pendingCap, _ = parseChunks(frame[:1000], max, []int{10})
	if fail != 0 || pendingCap > 2*1000 {
		t.Fatalf("fail %d, pending cap %d for 1000 bytes received", fail, pendingCap)
	}
}

func TestParserReportsViolationsWhateverTheSplits(t *testing.T) {
	t.Parallel()
	const max = 1000
	ok := clientFrame(true, OpText, []byte("ok"), 0, false)
	cases := []struct {
		name   string
		stream []byte
		fail   int
	}{
		{name: "unmasked", stream: clientFrame(true, OpText, []byte("hi"), 0, true), fail: CloseProtocolError},
		{name: "rsv", stream: clientFrame(true, OpText, []byte("hi"), 0x20, false), fail: CloseProtocolError},
		{name: "too big 16-bit", stream: clientFrame(true, OpBinary, make([]byte, max+1), 0, false), fail: CloseMessageTooBig},
		{name: "too big 64-bit", stream: clientFrame(true, OpBinary, make([]byte, 70000), 0, false), fail: CloseMessageTooBig},
		{name: "fragments too big", stream: append(clientFrame(false, OpBinary, make([]byte, 600), 0, false), clientFrame(true, OpContinuation, make([]byte, 600), 0, false)...), fail: CloseMessageTooBig},
		{name: "bad utf8", stream: clientFrame(true, OpText, []byte{0xc3, 0x28}, 0, false), fail: CloseInvalidPayload},
		{name: "orphan continuation", stream: clientFrame(true, OpContinuation, []byte("x"), 0, false), fail: CloseProtocolError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stream := append(append([]byte(nil), ok...), tc.stream...)
			for i := 1; i < len(stream); i += 1 + i/40 {
				got, fail, _, _ := parseChunks(stream, max, []int{i, 1, 3})
				if fail != tc.fail || len(got) != 1 {
					t.Fatalf("split %d: fail %d after %d messages, want %d after 1", i, fail, len(got), tc.fail)
				}
			}
		})
	}
}
