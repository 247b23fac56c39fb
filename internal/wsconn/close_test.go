package wsconn

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// waitingForOutput reports whether c's writes are blocked on a full socket.
func waitingForOutput(c *Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waitOut
}

func TestCloseSendsPendingFramesFirst(t *testing.T) {
	t.Parallel()
	rec := newRecorder(false)
	s := startServer(t, Config{}, rec, AdoptOptions{})
	cl := s.dial(t)
	c := s.nextConn(t)
	const n = 100
	for i := range n {
		if err := c.Enqueue(BuildFrame(OpText, []byte(strconv.Itoa(i)))); err != nil {
			t.Fatal(err)
		}
	}
	c.Close(4000, "done")
	if !c.Closed() {
		t.Fatal("Closed() is false after Close")
	}
	if err := c.Enqueue(BuildFrame(OpText, []byte("late"))); !errors.Is(err, ErrClosed) {
		t.Fatalf("Enqueue after Close: %v, want ErrClosed", err)
	}
	code, reason, data := cl.readClose(t)
	if code != 4000 || reason != "done" {
		t.Fatalf("close %d %q, want 4000 \"done\"", code, reason)
	}
	if len(data) != n {
		t.Fatalf("got %d frames before the close, want %d", len(data), n)
	}
	for i, d := range data {
		if d != strconv.Itoa(i) {
			t.Fatalf("frame %d is %q", i, d)
		}
	}
	if _, err := cl.Write(clientFrame(true, OpClose, []byte{0x0F, 0xA0}, 0, false)); err != nil {
		t.Fatal(err)
	}
	cl.expectEOF(t)
	ev := rec.waitClose(t)
	if ev.c != c || ev.code != 4000 || ev.reason != "done" {
		t.Fatalf("OnClose(%d, %q), want (4000, \"done\")", ev.code, ev.reason)
	}
}

func TestCloseNowDropsUnstartedFrames(t *testing.T) {
	t.Parallel()
	rec := newRecorder(false)
	s := startServer(t, Config{}, rec, AdoptOptions{})
	cl := s.dial(t)
	c := s.nextConn(t)
	const n, size = 800, 16 << 10
	for i := range n {
		payload := []byte(fmt.Sprintf("%06d", i) + strings.Repeat("x", size-6))
		if err := c.Enqueue(BuildFrame(OpBinary, payload)); err != nil {
			t.Fatalf("enqueue %d: %v", i, err)
		}
	}
	eventually(t, testTimeout, "a full socket", func() bool { return waitingForOutput(c) })
	c.CloseNow(ClosePolicyViolation, "slow")
	code, reason, data := cl.readClose(t)
	if code != ClosePolicyViolation || reason != "slow" {
		t.Fatalf("close %d %q, want 1008 \"slow\"", code, reason)
	}
	if len(data) == 0 || len(data) >= n {
		t.Fatalf("got %d frames before the close, want some but not all %d", len(data), n)
	}
	for i, d := range data {
		if len(d) != size || d[:6] != fmt.Sprintf("%06d", i) {
			t.Fatalf("frame %d: %d bytes starting %q", i, len(d), d[:min(6, len(d))])
		}
	}
	if got := s.e.Stats().Discarded; got != uint64(n-len(data)) {
		t.Fatalf("Stats.Discarded = %d, want %d", got, n-len(data))
	}
	if _, err := cl.Write(clientFrame(true, OpClose, []byte{0x03, 0xF0}, 0, false)); err != nil {
		t.Fatal(err)
	}
	if ev := rec.waitClose(t); ev.code != ClosePolicyViolation {
		t.Fatalf("OnClose code %d, want 1008", ev.code)
	}
}

func TestEnqueueReturnsQueueFullForSlowReader(t *testing.T) {
	t.Parallel()
	const limit = 256 << 10
	s := startServer(t, Config{MaxQueueBytes: limit}, newRecorder(false), AdoptOptions{})
	slowCl := s.dial(t)
	slow := s.nextConn(t)
	fastCl := s.dial(t)
	fast := s.nextConn(t)
	_ = slowCl // never reads

	frame := BuildFrame(OpBinary, make([]byte, 1024))
	full := false
	for range 100000 {
		err := slow.Enqueue(frame)
		if errors.Is(err, ErrQueueFull) {
			full = true
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !full {
		t.Fatal("Enqueue never returned ErrQueueFull")
	}
	if q := slow.QueuedBytes(); q > limit || q < limit-2*len(frame) {
		t.Fatalf("QueuedBytes = %d, want just under %d", q, limit)
	}
	if s.e.Stats().Dropped == 0 {
		t.Fatal("Stats.Dropped is 0")
	}
	// The other connection is not held up.
	const n = 200
	for i := range n {
		if err := fast.Enqueue(BuildFrame(OpText, []byte(strconv.Itoa(i)))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		f := fastCl.readFrame(t)
		if string(f.Payload) != strconv.Itoa(i) {
			t.Fatalf("frame %d is %q", i, f.Payload)
		}
	}
	if slow.Closed() {
		t.Fatal("the slow connection was closed")
	}
}

func TestPeerCloseReportsPeerCodeOnce(t *testing.T) {
	t.Parallel()
	rec := newRecorder(false)
	s := startServer(t, Config{}, rec, AdoptOptions{})
	cl := s.dial(t)
	c := s.nextConn(t)
	payload := append([]byte{0x0F, 0xA1}, "bye"...) // 4001
	if _, err := cl.Write(clientFrame(true, OpClose, payload, 0, false)); err != nil {
		t.Fatal(err)
	}
	code, _, data := cl.readClose(t)
	if code != 4001 || len(data) != 0 {
		t.Fatalf("echo code %d after %d frames, want 4001 alone", code, len(data))
	}
	cl.expectEOF(t)
	ev := rec.waitClose(t)
	if ev.c != c || ev.code != 4001 || ev.reason != "bye" {
		t.Fatalf("OnClose(%d, %q), want (4001, \"bye\")", ev.code, ev.reason)
	}
	c.Close(CloseNormal, "")
	c.Abort()
	s.e.Stop()
	if n := rec.closeCount(c); n != 1 {
		t.Fatalf("OnClose ran %d times", n)
	}
}

func TestPeerCloseWithoutCodeReportsNoStatus(t *testing.T) {
	t.Parallel()
	rec := newRecorder(false)
	s := startServer(t, Config{}, rec, AdoptOptions{})
	cl := s.dial(t)
	_ = s.nextConn(t)
	if _, err := cl.Write(clientFrame(true, OpClose, nil, 0, false)); err != nil {
		t.Fatal(err)
	}
	f := cl.readFrame(t)
	if f.Header.OpCode != ws.OpClose || len(f.Payload) != 0 {
		t.Fatalf("got %v with %d bytes, want an empty close", f.Header.OpCode, len(f.Payload))
	}
	if ev := rec.waitClose(t); ev.code != CloseNoStatus {
		t.Fatalf("OnClose code %d, want 1005", ev.code)
	}
}

func TestAbruptDropReportsAbnormal(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		reset bool
	}{
		{name: "fin", reset: false},
		{name: "rst", reset: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(false)
			s := startServer(t, Config{}, rec, AdoptOptions{})
			cl := s.dial(t)
			c := s.nextConn(t)
			if tc.reset {
				_ = cl.Conn.(*net.TCPConn).SetLinger(0)
			}
			_ = cl.Close()
			ev := rec.waitClose(t)
			if ev.c != c || ev.code != CloseAbnormal {
				t.Fatalf("OnClose code %d, want 1006", ev.code)
			}
			if err := c.Enqueue(BuildFrame(OpText, []byte("x"))); !errors.Is(err, ErrClosed) {
				t.Fatalf("Enqueue after drop: %v, want ErrClosed", err)
			}

		})
	}
}

func TestCloseTimeoutEndsSilentPeer(t *testing.T) {
	t.Parallel()
	rec := newRecorder(false)
	s := startServer(t, Config{CloseTimeout: 200 * time.Millisecond}, rec, AdoptOptions{})
	cl := s.dial(t)
	c := s.nextConn(t)
	start := time.Now()
	c.Close(CloseGoingAway, "restart")
	if code, _, _ := cl.readClose(t); code != CloseGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	// The client neither answers nor closes.
	ev := rec.waitClose(t)
	if ev.code != CloseGoingAway {
		t.Fatalf("OnClose code %d, want 1001", ev.code)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("closed after %v, before the timeout", d)
	}
	if got := s.e.Stats().CloseTimeouts; got != 1 {
		t.Fatalf("Stats.CloseTimeouts = %d, want 1", got)
	}
	cl.expectEOF(t)
}

func TestAbortClosesAtOnce(t *testing.T) {
	t.Parallel()
	rec := newRecorder(false)
	s := startServer(t, Config{}, rec, AdoptOptions{})
	cl := s.dial(t)
	c := s.nextConn(t)
	c.Abort()
	if !c.Closed() {
		t.Fatal("Closed() is false after Abort")
	}
	cl.expectEOF(t)
	if ev := rec.waitClose(t); ev.code != CloseAbnormal {
		t.Fatalf("OnClose code %d, want 1006", ev.code)
	}
}

func TestAbortFromOnMessageStopsInput(t *testing.T) {
	t.Parallel()
	rec := newRecorder(false)
	rec.onMsg = func(c *Conn, _ Opcode, _ []byte) { c.Abort() }
	s := startServer(t, Config{}, rec, AdoptOptions{})
	cl := s.dial(t)
	var raw []byte
	for range 10 {
		raw = append(raw, clientFrame(true, OpText, []byte("m"), 0, false)...)
	}
	if _, err := cl.Write(raw); err != nil {
		t.Fatal(err)
	}
	rec.waitClose(t)
	if got := len(rec.messages()); got != 1 {
		t.Fatalf("OnMessage ran %d times, want 1", got)
	}
}

func TestWriteToResetPeerClosesConnection(t *testing.T) {
	t.Parallel()
	rec := newRecorder(false)
	s := startServer(t, Config{}, rec, AdoptOptions{})
	cl := s.dial(t)
	c := s.nextConn(t)
	// Write until the reset is noticed, by a failed write (EPIPE or
	// ECONNRESET, never SIGPIPE) or by the poller.
	_ = cl.Conn.(*net.TCPConn).SetLinger(0)
	_ = cl.Close()
	frame := BuildFrame(OpBinary, make([]byte, 4096))
	for range 100000 {
		if err := c.Enqueue(frame); errors.Is(err, ErrClosed) {
			break
		}
	}
	if ev := rec.waitClose(t); ev.code != CloseAbnormal {
		t.Fatalf("OnClose code %d, want 1006", ev.code)
	}
}
