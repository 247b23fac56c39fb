package wsconn

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// testTimeout bounds every wait in the tests.
const testTimeout = 15 * time.Second

// message is a message received by a recorder.
type message struct {
	op   Opcode
	data string
}

// closeEvent is an OnClose call recorded by a recorder.
type closeEvent struct {
	c      *Conn
	code   int
	reason string
}

// recorder is a Handler that records what it receives and, with echo set,
// sends every message back.
type recorder struct {
	echo    bool
	onMsg   func(c *Conn, op Opcode, data []byte)
	closeCh chan closeEvent

	mu     sync.Mutex
	msgs   []message
	closes map[*Conn]int
}

func newRecorder(echo bool) *recorder {
	return &recorder{echo: echo, closeCh: make(chan closeEvent, 8192), closes: map[*Conn]int{}}
}

func (r *recorder) OnMessage(c *Conn, op Opcode, data []byte) {
	r.mu.Lock()
	r.msgs = append(r.msgs, message{op, string(data)})
	r.mu.Unlock()
	if r.onMsg != nil {
		r.onMsg(c, op, data)
	}
	if r.echo {
		_ = c.Enqueue(BuildFrame(op, data))
	}
}

func (r *recorder) OnClose(c *Conn, code int, reason string) {
	r.mu.Lock()
	r.closes[c]++
	r.mu.Unlock()
	r.closeCh <- closeEvent{c, code, reason}
}

// messages returns a copy of the messages received so far.
func (r *recorder) messages() []message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]message(nil), r.msgs...)
}

// closeCount returns how many times OnClose ran for c.
func (r *recorder) closeCount(c *Conn) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closes[c]
}

// waitClose waits for the next OnClose call.
func (r *recorder) waitClose(t *testing.T) closeEvent {
	t.Helper()
	select {
	case ev := <-r.closeCh:
		return ev
	case <-time.After(testTimeout):
		t.Fatal("timed out waiting for OnClose")
		return closeEvent{}
	}
}

// testServer is an Engine behind an HTTP listener on 127.0.0.1.
type testServer struct {
	e     *Engine
	srv   *http.Server
	url   string
	addr  string
	conns chan *Conn
}

// startServer starts an Engine with cfg and an HTTP server upgrading every
// request and adopting it with h and opts. Both stop at cleanup.
func startServer(t testing.TB, cfg Config, h Handler, opts AdoptOptions) *testServer {
	t.Helper()
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	if err := e.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(e.Stop)
	return serveEngine(t, e, h, opts)
}

// serveEngine starts an HTTP server on 127.0.0.1 upgrading every request and
// adopting it into e with h and opts. It stops at cleanup.
func serveEngine(t testing.TB, e *Engine, h Handler, opts AdoptOptions) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &testServer{e: e, addr: ln.Addr().String(), url: "ws://" + ln.Addr().String() + "/", conns: make(chan *Conn, 8192)}
	s.srv = &http.Server{
		ReadHeaderTimeout: testTimeout,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			nc, buf, err := Upgrade(w, r)
			if err != nil {
				return
			}
			o := opts
			o.Buffered = buf
			c, err := e.Adopt(nc, h, o)
			if err == nil {
				s.conns <- c
			}
		}),
	}
	go func() { _ = s.srv.Serve(ln) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// nextConn returns the next adopted server-side connection.
func (s *testServer) nextConn(t testing.TB) *Conn {
	t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(testTimeout):
		t.Fatal("timed out waiting for Adopt")
		return nil
	}
}

// client is the client end of a test connection.
type client struct {
	net.Conn
	r *bufio.Reader
}

// dial opens a WebSocket client connection to s.
func (s *testServer) dial(t testing.TB) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	nc, br, _, err := ws.Dialer{}.Dial(ctx, s.url)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(testTimeout))
	var r io.Reader = nc
	if br != nil {
		r = io.MultiReader(br, nc)
	}
	return &client{Conn: nc, r: bufio.NewReader(r)}
}

// readFrame reads one server frame.
func (cl *client) readFrame(t testing.TB) ws.Frame {
	t.Helper()
	f, err := readServerFrame(cl.r)
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	if f.Header.Masked {
		t.Fatal("server frame is masked")
	}
	return f
}

// readClose reads frames until a close frame and returns its code and reason.
// Data frames are returned in data.
func (cl *client) readClose(t testing.TB) (code int, reason string, data []string) {
	t.Helper()
	for range 100000 {
		f := cl.readFrame(t)
		if f.Header.OpCode == ws.OpClose {
			if len(f.Payload) < 2 {
				return CloseNoStatus, "", data
			}
			return int(binary.BigEndian.Uint16(f.Payload)), string(f.Payload[2:]), data
		}
		data = append(data, string(f.Payload))
	}
	t.Fatal("no close frame")
	return 0, "", nil
}

// expectEOF reads until the server ends the stream.
func (cl *client) expectEOF(t testing.TB) {
	t.Helper()
	buf := make([]byte, 4096)
	for range 100000 {
		_, err := cl.r.Read(buf)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("want EOF, got %v", err)
		}
	}
}

// clientFrame builds a client frame. rsv is ORed into the first byte;
// unmasked leaves the payload unmasked.
func clientFrame(fin bool, op Opcode, payload []byte, rsv byte, unmasked bool) []byte {
	b0 := byte(op) | rsv
	if fin {
		b0 |= bitFin
	}
	n := len(payload)
	var b []byte
	switch {
	case n < 126:
		b = []byte{b0, byte(n)}
	case n <= 0xFFFF:
		b = []byte{b0, 126, byte(n >> 8), byte(n)}
	default:
		b = []byte{b0, 127}
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if unmasked {
		return append(b, payload...)
	}
	b[1] |= bitMask
	mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	b = append(b, mask[:]...)
	start := len(b)
	b = append(b, payload...)
	ws.Cipher(b[start:], mask, 0)
	return b
}

// eventually polls cond every few milliseconds until it holds or timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// readServerFrame reads one frame from r: the header, then exactly its
// declared payload (test peers are trusted, frames are small).
func readServerFrame(r io.Reader) (ws.Frame, error) {
	h, err := ws.ReadHeader(r)
	if err != nil {
		return ws.Frame{}, err
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(r, payload); err != nil {
		return ws.Frame{}, err
	}
	if h.Masked {
		ws.Cipher(payload, h.Mask, 0)
	}
	return ws.Frame{Header: h, Payload: payload}, nil
}
