package wsconn

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

func TestEngineEchoesTextAndBinary(t *testing.T) {
	t.Parallel()
	s := startServer(t, Config{}, newRecorder(true), AdoptOptions{})
	cl := s.dial(t)
	cases := []struct {
		name string
		op   ws.OpCode
		data string
	}{
		{name: "text", op: ws.OpText, data: "hello"},
		{name: "binary", op: ws.OpBinary, data: "\x00\x01\x02"},
		{name: "empty", op: ws.OpText, data: ""},
		{name: "medium", op: ws.OpBinary, data: string(make([]byte, 300))},
		{name: "large", op: ws.OpBinary, data: string(make([]byte, 200000))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := wsutil.WriteClientMessage(cl, tc.op, []byte(tc.data)); err != nil {
				t.Fatal(err)
			}
			f := cl.readFrame(t)
			if f.Header.OpCode != tc.op || string(f.Payload) != tc.data || !f.Header.Fin {
				t.Fatalf("got op %v len %d, want op %v len %d", f.Header.OpCode, len(f.Payload), tc.op, len(tc.data))
			}
		})
	}
}

func TestEngineReassemblesFragments(t *testing.T) {
	t.Parallel()
	rec := newRecorder(true)
	s := startServer(t, Config{}, rec, AdoptOptions{})
	cl := s.dial(t)
	// A text message in three fragments with a ping between them.
	var raw []byte
	raw = append(raw, clientFrame(false, OpText, []byte("hel"), 0, false)...)
	raw = append(raw, clientFrame(true, OpPing, []byte("p"), 0, false)...)
	raw = append(raw, clientFrame(false, OpContinuation, []byte("lo wo"), 0, false)...)
	raw = append(raw, clientFrame(true, OpContinuation, []byte("rld"), 0, false)...)
	// Sent byte by byte so that every frame is split across reads.
	for i := range raw {
		if _, err := cl.Write(raw[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	f := cl.readFrame(t)
	if f.Header.OpCode != ws.OpPong || string(f.Payload) != "p" {
		t.Fatalf("got %v %q, want pong \"p\"", f.Header.OpCode, f.Payload)
	}
	f = cl.readFrame(t)
	if f.Header.OpCode != ws.OpText || string(f.Payload) != "hello world" {
		t.Fatalf("got %v %q, want text \"hello world\"", f.Header.OpCode, f.Payload)
	}
}

func TestEngineAnswersPingWithPong(t *testing.T) {
	t.Parallel()
	s := startServer(t, Config{}, newRecorder(false), AdoptOptions{})
	cl := s.dial(t)
	c := s.nextConn(t)
	before := c.LastActivity()
	if _, err := cl.Write(clientFrame(true, OpPing, []byte("are you there"), 0, false)); err != nil {
		t.Fatal(err)
	}
	f := cl.readFrame(t)
	if f.Header.OpCode != ws.OpPong || string(f.Payload) != "are you there" {
		t.Fatalf("got %v %q, want the pong", f.Header.OpCode, f.Payload)
	}
	if c.LastActivity() < before {
		t.Fatalf("LastActivity went back: %d < %d", c.LastActivity(), before)
	}
}

func TestEngineClosesOnProtocolViolation(t *testing.T) {
	t.Parallel()
	const maxSize = 1000
	rec := newRecorder(false)
	s := startServer(t, Config{MaxMessageSize: maxSize}, rec, AdoptOptions{})
	big := make([]byte, maxSize+1)
	half := make([]byte, maxSize/2+1)
	cases := []struct {
		name string
		raw  []byte
		code int
	}{
		{name: "unmasked", raw: clientFrame(true, OpText, []byte("hi"), 0, true), code: CloseProtocolError},
		{name: "rsv1", raw: clientFrame(true, OpText, []byte("hi"), 0x40, false), code: CloseProtocolError},
		{name: "rsv3", raw: clientFrame(true, OpBinary, []byte("hi"), 0x10, false), code: CloseProtocolError},
		{name: "unknown opcode", raw: clientFrame(true, Opcode(3), []byte("hi"), 0, false), code: CloseProtocolError},
		{name: "unknown control opcode", raw: clientFrame(true, Opcode(0xB), nil, 0, false), code: CloseProtocolError},
		{name: "fragmented ping", raw: clientFrame(false, OpPing, []byte("hi"), 0, false), code: CloseProtocolError},
		{name: "long ping", raw: clientFrame(true, OpPing, make([]byte, 126), 0, false), code: CloseProtocolError},
		{name: "continuation first", raw: clientFrame(true, OpContinuation, []byte("hi"), 0, false), code: CloseProtocolError},
		{name: "text inside fragmented", raw: append(clientFrame(false, OpText, []byte("a"), 0, false), clientFrame(true, OpText, []byte("b"), 0, false)...), code: CloseProtocolError},
		{name: "oversize header", raw: clientFrame(true, OpBinary, big, 0, false)[:14], code: CloseMessageTooBig},
		{name: "oversize 64-bit length", raw: []byte{0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4}, code: CloseMessageTooBig},
		{name: "length msb set", raw: []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, code: CloseProtocolError},
		{name: "oversize fragmented total", raw: append(clientFrame(false, OpBinary, half, 0, false), clientFrame(true, OpContinuation, half, 0, false)...), code: CloseMessageTooBig},
		{name: "invalid utf8", raw: clientFrame(true, OpText, []byte{0xff, 0xfe}, 0, false), code: CloseInvalidPayload},
		{name: "invalid utf8 fragmented", raw: append(clientFrame(false, OpText, []byte{0xe2, 0x82}, 0, false), clientFrame(true, OpContinuation, []byte{0x28}, 0, false)...), code: CloseInvalidPayload},
		{name: "close code 1005", raw: clientFrame(true, OpClose, []byte{0x03, 0xED}, 0, false), code: CloseProtocolError},
		{name: "close payload 1 byte", raw: clientFrame(true, OpClose, []byte{0x03}, 0, false), code: CloseProtocolError},
		{name: "close reason invalid utf8", raw: clientFrame(true, OpClose, []byte{0x03, 0xE8, 0xff}, 0, false), code: CloseInvalidPayload},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := s.dial(t)
			c := s.nextConn(t)
			if _, err := cl.Write(tc.raw); err != nil {
				t.Fatal(err)
			}
			code, _, data := cl.readClose(t)
			if code != tc.code {
				t.Fatalf("close code %d, want %d", code, tc.code)
			}
			if len(data) != 0 {
				t.Fatalf("got %d data frames before the close", len(data))
			}
			// The server shut its write side down after the close frame.
			cl.expectEOF(t)
			_ = cl.Close()
			eventually(t, testTimeout, "OnClose", func() bool { return rec.closeCount(c) == 1 })
		})
	}
	if got := len(rec.messages()); got != 0 {
		t.Fatalf("OnMessage ran %d times for invalid input", got)
	}
}

func TestEngineDeliversValidEdgeCases(t *testing.T) {
	t.Parallel()
	rec := newRecorder(true)
	s := startServer(t, Config{MaxMessageSize: 1000}, rec, AdoptOptions{})
	cl := s.dial(t)
	exact := make([]byte, 1000)
	var raw []byte
	raw = append(raw, clientFrame(true, OpBinary, exact, 0, false)...)                                 // exactly the limit
	raw = append(raw, clientFrame(false, OpBinary, exact[:500], 0, false)...)                          // fragmented up to the limit
	raw = append(raw, clientFrame(true, OpContinuation, exact[:500], 0, false)...)                     //
	raw = append(raw, clientFrame(false, OpText, nil, 0, false)...)                                    // empty fragments
	raw = append(raw, clientFrame(true, OpContinuation, []byte("\u00e9"), 0, false)...)                //
	raw = append(raw, clientFrame(true, OpText, []byte("\xe2\x82\xac \xf0\x9f\x98\x80"), 0, false)...) // multi-byte UTF-8
	if _, err := cl.Write(raw); err != nil {
		t.Fatal(err)
	}
	want := []int{1000, 1000, 2, 8}
	for i, n := range want {
		f := cl.readFrame(t)
		if len(f.Payload) != n {
			t.Fatalf("message %d: %d bytes, want %d", i, len(f.Payload), n)
		}
	}
}

func TestWriteDelayCoalescesFrames(t *testing.T) {
	t.Parallel()
	s := startServer(t, Config{WriteDelay: 200 * time.Millisecond}, newRecorder(false), AdoptOptions{})
	cl := s.dial(t)
	c := s.nextConn(t)
	before := s.e.Stats().Writes
	const frames = 10
	for i := range frames {
		if err := c.Enqueue(BuildFrame(OpText, []byte(strconv.Itoa(i)))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range frames {
		if f := cl.readFrame(t); string(f.Payload) != strconv.Itoa(i) {
			t.Fatalf("frame %d = %q", i, f.Payload)
		}
	}
	// Ten frames enqueued back to back, well inside the delay: one write
	// (two if the machine stalled across the delay).
	if w := s.e.Stats().Writes - before; w > 2 {
		t.Fatalf("%d writes for %d frames with a write delay", w, frames)
	}
	// Control output is not delayed: a close goes out and completes.
	c.Close(1000, "bye")
	if code, _, _ := cl.readClose(t); code != 1000 {
		t.Fatalf("close code %d", code)
	}
}

func TestWriteDelayIsBounded(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{-time.Millisecond, MaxWriteDelay + 1} {
		if _, err := NewEngine(Config{WriteDelay: d}); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("WriteDelay %v: err = %v", d, err)
		}
	}
}
