package wsconn

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAdoptProcessesBufferedBytesAndInitialFrameFirst(t *testing.T) {
	t.Parallel()
	e, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	_ = cl.SetDeadline(time.Now().Add(testTimeout))
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	// Half a frame buffered: the rest comes from the socket.
	first := clientFrame(true, OpText, []byte("first"), 0, false)
	buffered := append(clientFrame(true, OpText, []byte("zero"), 0, false), first[:3]...)
	c, err := e.Adopt(srv, newRecorder(true), AdoptOptions{
		Buffered: buffered,
		Initial:  BuildFrame(OpText, []byte("ready")),
		Context:  "ctx",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Context() != "ctx" || c.RemoteAddr() != cl.LocalAddr().String() {
		t.Fatalf("Context %v RemoteAddr %q", c.Context(), c.RemoteAddr())
	}
	if _, err := cl.Write(append(first[3:], clientFrame(true, OpText, []byte("second"), 0, false)...)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(cl)
	for _, want := range []string{"ready", "zero", "first", "second"} {
		f, err := readServerFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		if string(f.Payload) != want {
			t.Fatalf("got %q, want %q", f.Payload, want)
		}
	}
}

func TestUpgradeReturnsBytesSentWithHandshake(t *testing.T) {
	t.Parallel()
	s := startServer(t, Config{}, newRecorder(true), AdoptOptions{Initial: BuildFrame(OpText, []byte("ready"))})
	cl, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	_ = cl.SetDeadline(time.Now().Add(testTimeout))
	req := "GET / HTTP/1.1\r\nHost: " + s.addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := cl.Write(append([]byte(req), clientFrame(true, OpText, []byte("early"), 0, false)...)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(cl)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{"ready", "early"} {
		f, err := readServerFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		if string(f.Payload) != want {
			t.Fatalf("got %q, want %q", f.Payload, want)
		}
	}
}

func TestUpgradeRejectsPlainRequest(t *testing.T) {
	t.Parallel()
	upErr := make(chan error, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: testTimeout, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _, err := Upgrade(w, r)
		upErr <- err
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	hc := &http.Client{Timeout: testTimeout}
	resp, err := hc.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
	// The handler may still be returning when the client has the response.
	select {
	case err := <-upErr:
		if !errors.Is(err, ErrHandshake) {
			t.Fatalf("Upgrade error %v, want ErrHandshake", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Upgrade did not return")
	}
}

func TestAdoptRejectsBadInput(t *testing.T) {
	t.Parallel()
	running, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := running.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(running.Stop)
	notStarted, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	stopped, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := stopped.Start(); err != nil {
		t.Fatal(err)
	}
	stopped.Stop()
	cases := []struct {
		name string
		e    *Engine
		h    Handler
		want error
	}{
		{name: "pipe", e: running, h: newRecorder(false), want: ErrUnsupportedConn},
		{name: "nil handler", e: running, h: nil, want: ErrNilHandler},
		{name: "not started", e: notStarted, h: newRecorder(false), want: ErrStopped},
		{name: "stopped", e: stopped, h: newRecorder(false), want: ErrStopped},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer b.Close()
			if _, err := tc.e.Adopt(a, tc.h, AdoptOptions{}); !errors.Is(err, tc.want) {
				t.Fatalf("Adopt: %v, want %v", err, tc.want)
			}
			// Adopt closed a.
			if _, err := a.Write([]byte("x")); !errors.Is(err, net.ErrClosed) && !errors.Is(err, errors.ErrUnsupported) && err == nil {
				t.Fatal("the net.Conn was not closed")
			}
		})
	}
	if err := stopped.Start(); !errors.Is(err, ErrStopped) {
		t.Fatalf("Start after Stop: %v", err)
	}
	if err := running.Start(); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v", err)
	}
}

func TestNewEngineValidatesConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{name: "zero", cfg: Config{}, ok: true},
		{name: "negative max message", cfg: Config{MaxMessageSize: -1}},
		{name: "negative queue", cfg: Config{MaxQueueBytes: -1}},
		{name: "negative pollers", cfg: Config{Pollers: -1}},
		{name: "too many pollers", cfg: Config{Pollers: MaxPollers + 1}},
		{name: "negative flushers", cfg: Config{Flushers: -1}},
		{name: "too many flushers", cfg: Config{Flushers: MaxFlushers + 1}},
		{name: "negative timeout", cfg: Config{CloseTimeout: -time.Second}},
		{name: "negative read buffer", cfg: Config{ReadBufferSize: -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewEngine(tc.cfg)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				cfg := e.Config()
				if cfg.MaxMessageSize != DefaultMaxMessageSize || cfg.MaxQueueBytes != DefaultMaxQueueBytes ||
					cfg.Pollers != DefaultPollers || cfg.Flushers != runtime.GOMAXPROCS(0) ||
					cfg.CloseTimeout != DefaultCloseTimeout || cfg.ReadBufferSize != DefaultReadBufferSize {
					t.Fatalf("defaults not applied: %+v", cfg)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("NewEngine: %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestFanoutDeliversEveryFrame(t *testing.T) {
	t.Parallel()
	const conns, frames = 2000, 100
	s := startServer(t, Config{Pollers: 2}, newRecorder(false), AdoptOptions{})
	clients := make([]*client, conns)
	servers := make([]*Conn, conns)
	for i := range clients {
		clients[i] = s.dial(t)
		servers[i] = s.nextConn(t)
	}
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for _, cl := range clients {
		_ = cl.SetDeadline(time.Now().Add(60 * time.Second))
		wg.Go(func() {
			for i := range frames {
				f, err := readServerFrame(cl.r)
				if err != nil {
					errs <- err
					return
				}
				if want := string(rune('A' + i%26)); string(f.Payload) != strings.Repeat(want, 100) {
					errs <- errors.New("frame out of order or corrupt")
					return
				}
			}
		})
	}
	for i := range frames {
		frame := BuildFrame(OpText, []byte(strings.Repeat(string(rune('A'+i%26)), 100)))
		for _, c := range servers {
			if err := c.Enqueue(frame); err != nil {
				t.Fatal(err)
			}
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(70 * time.Second):
		t.Fatal("timed out waiting for deliveries")
	}
	close(errs)
	for err := range errs {
		for i, c := range servers {
			c.mu.Lock()
			if c.q.len() > 0 {
				t.Logf("conn %d: %d frames queued, scheduled %v waitOut %v flushing %v", i, c.q.len(), c.scheduled, c.waitOut, c.flushing)
			}
			c.mu.Unlock()
		}
		t.Fatalf("%v; stats %+v", err, s.e.Stats())
	}
	st := s.e.Stats()
	if st.FramesOut != conns*frames || st.Dropped != 0 {
		t.Fatalf("FramesOut %d Dropped %d, want %d and 0", st.FramesOut, st.Dropped, conns*frames)
	}
	t.Logf("stats: %+v", st)
}

func TestFlushCoalescesBacklog(t *testing.T) {
	t.Parallel()
	s := startServer(t, Config{Flushers: 1}, newRecorder(false), AdoptOptions{})
	cl := s.dial(t)
	c := s.nextConn(t)
	const n = 5000
	frame := BuildFrame(OpBinary, make([]byte, 100))
	go func() {
		for range n {
			if err := c.Enqueue(frame); err != nil {
				return
			}
		}
	}()
	for range n {
		cl.readFrame(t)
	}
	st := s.e.Stats()
	if st.FramesOut != n || st.Writes >= st.FramesOut/2 {
		t.Fatalf("Writes %d for FramesOut %d: no coalescing", st.Writes, st.FramesOut)
	}
	t.Logf("%d frames in %d writev calls", st.FramesOut, st.Writes)
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	_ = client.SetDeadline(time.Now().Add(testTimeout))
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return client, server
}

func TestPausedAdoptWaitsForResume(t *testing.T) {
	t.Parallel()
	s := startServer(t, Config{}, newRecorder(false), AdoptOptions{})
	rec := newRecorder(true)
	cl, srv := tcpPair(t)
	c, err := s.e.Adopt(srv, rec, AdoptOptions{
		Buffered: clientFrame(true, OpText, []byte("zero"), 0, false),
		Initial:  BuildFrame(OpText, []byte("ready")),
		Paused:   true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Write(clientFrame(true, OpText, []byte("first"), 0, false)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(cl)
	f, err := readServerFrame(r) // output works while paused
	if err != nil || string(f.Payload) != "ready" {
		t.Fatalf("got %q, %v", f.Payload, err)
	}
	if st := s.e.Stats(); st.FramesIn != 0 || st.Reads != 0 || len(rec.messages()) != 0 {
		t.Fatalf("input processed while paused: %+v", st)
	}
	c.Resume()
	c.Resume() // no effect
	for _, want := range []string{"zero", "first"} {
		f, err := readServerFrame(r)
		if err != nil || string(f.Payload) != want {
			t.Fatalf("got %q, %v; want %q", f.Payload, err, want)
		}
	}
}

func TestPausedConnectionIsStillClosed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		close func(e *Engine, c *Conn)
	}{
		{name: "abort", close: func(_ *Engine, c *Conn) { c.Abort() }},
		{name: "stop", close: func(e *Engine, _ *Conn) { e.Stop() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, Config{}, newRecorder(false), AdoptOptions{})
			rec := newRecorder(false)
			cl, srv := tcpPair(t)
			c, err := s.e.Adopt(srv, rec, AdoptOptions{Paused: true})
			if err != nil {
				t.Fatal(err)
			}
			tc.close(s.e, c)
			if ev := rec.waitClose(t); ev.c != c || ev.code != CloseAbnormal {
				t.Fatalf("OnClose code %d, want 1006", ev.code)
			}
			if _, err := cl.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
				t.Fatalf("client read: %v, want EOF", err)
			}
		})
	}
}
