package wseclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wse-go/wse"
	wseclient "github.com/wse-go/wse/clients/go"
)

// testSecret is the HS256 secret of test servers with auth.
var testSecret = []byte("0123456789abcdef0123456789abcdef-client")

// fastReconnect makes reconnects quick enough for tests.
var fastReconnect = wseclient.Reconnect{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond}

// startServer starts a server on a free loopback port and stops it when the
// test ends.
func startServer(t testing.TB, cfg wse.Config) *wse.Server {
	t.Helper()
	return startOnPort(t, -1, cfg)
}

// startOnPort starts a server on 127.0.0.1:port (-1: a free one).
func startOnPort(t testing.TB, port int, cfg wse.Config) *wse.Server {
	t.Helper()
	cfg.Host, cfg.Port = "127.0.0.1", port
	srv, err := wse.NewServer(cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// wsURL returns the WebSocket URL of srv.
func wsURL(srv *wse.Server) string { return "ws://" + srv.Addr() + srv.Config().Path }

// token mints an HS256 token for sub that expires after ttl (negative:
// already expired).
func token(t testing.TB, sub string, ttl time.Duration) string {
	t.Helper()
	tok, err := wse.EncodeJWT(map[string]any{"sub": sub, "exp": time.Now().Add(ttl).Unix()}, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// dial connects a client and closes it when the test ends.
func dial(t testing.TB, url string, opts wseclient.Options) *wseclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := wseclient.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("Dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// eventually polls cond every 5 ms until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ctxT returns a context that ends after d.
func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// recorder keeps what a client's dispatcher delivered.
type recorder struct {
	mu     sync.Mutex
	msgs   []wseclient.Message
	events []wseclient.Event
}

// options returns opts with the recorder receiving every message and event.
func (r *recorder) options(opts wseclient.Options) wseclient.Options {
	opts.OnMessage = func(m wseclient.Message) {
		r.mu.Lock()
		r.msgs = append(r.msgs, m)
		r.mu.Unlock()
	}
	opts.OnEvent = func(ev wseclient.Event) {
		r.mu.Lock()
		r.events = append(r.events, ev)
		r.mu.Unlock()
	}
	return opts
}

// messages returns the messages of type typ received so far.
func (r *recorder) messages(typ string) []wseclient.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []wseclient.Message
	for _, m := range r.msgs {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

// eventsOf returns the events of kind k received so far.
func (r *recorder) eventsOf(k wseclient.EventKind) []wseclient.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []wseclient.Event
	for _, ev := range r.events {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

// payloadN returns p.n of a tick message.
func payloadN(t testing.TB, m wseclient.Message) int {
	t.Helper()
	var p struct {
		N int `json:"n"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		t.Fatalf("payload %s: %v", m.Payload, err)
	}
	return p.N
}

// sockets is a NetDial that remembers the connections it opened and can
// refuse new ones.
type sockets struct {
	mu      sync.Mutex
	conns   []net.Conn
	refuse  atomic.Bool
	dialled atomic.Int32
}

// dial opens a TCP connection unless refuse is set.
func (s *sockets) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	s.dialled.Add(1)
	if s.refuse.Load() {
		return nil, errors.New("test: dialing refused")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err == nil {
		s.mu.Lock()
		s.conns = append(s.conns, conn)
		s.mu.Unlock()
	}
	return conn, err
}

// kill closes the latest connection abruptly, without a close frame.
func (s *sockets) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.conns); n > 0 {
		_ = s.conns[n-1].Close()
	}
}

// fakeServer is a scripted WSE server for protocol-level tests.
type fakeServer struct {
	t     testing.TB
	ln    net.Listener
	conns chan *fakeConn
}

// fakeConn is one upgraded connection of a fakeServer.
type fakeConn struct {
	t      testing.TB
	conn   net.Conn
	uri    string            // the request URI of the upgrade
	header map[string]string // the upgrade request's headers
}

// newFakeServer listens on a free loopback port until the test ends.
func newFakeServer(t testing.TB) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{t: t, ln: ln, conns: make(chan *fakeConn, 8)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			fc := &fakeConn{t: t, conn: conn, header: make(map[string]string)}
			u := ws.Upgrader{
				OnRequest: func(uri []byte) error { fc.uri = string(uri); return nil },
				OnHeader: func(key, value []byte) error {
					fc.header[string(key)] = string(value)
					return nil
				},
			}
			if _, err := u.Upgrade(conn); err != nil {
				_ = conn.Close()
				continue
			}
			f.conns <- fc
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		close(f.conns)
		for c := range f.conns {
			_ = c.conn.Close()
		}
	})
	return f
}

// url returns the server's URL.
func (f *fakeServer) url() string { return "ws://" + f.ln.Addr().String() + "/wse" }

// accept returns the next upgraded connection.
func (f *fakeServer) accept() *fakeConn {
	f.t.Helper()
	select {
	case c := <-f.conns:
		f.t.Cleanup(func() { _ = c.conn.Close() })
		return c
	case <-time.After(5 * time.Second):
		f.t.Fatal("no connection within 5s")
		return nil
	}
}

// send writes a text frame.
func (c *fakeConn) send(text string) {
	c.t.Helper()
	if err := wsutil.WriteServerText(c.conn, []byte(text)); err != nil {
		c.t.Fatalf("fake send: %v", err)
	}
}

// sendBinary writes a binary frame.
func (c *fakeConn) sendBinary(b []byte) {
	c.t.Helper()
	if err := wsutil.WriteServerBinary(c.conn, b); err != nil {
		c.t.Fatalf("fake send: %v", err)
	}
}

// ready sends server_ready announcing recovery when recovery is set.
func (c *fakeConn) ready(connID string, recovery bool) {
	c.send(`{"c":"WSE","t":"server_ready","id":"r1","ts":"2026-01-01T00:00:00.000Z","p":{"message":"Connection established","details":{"version":1,"connection_id":"` +
		connID + `","user_id":"u1","server_time":"2026-01-01T00:00:00.000Z","features":{"compression":true,"recovery":` + strconv.FormatBool(recovery) + `,"msgpack":true}}},"v":1}`)
}

// read returns the next text frame from the client as an object.
func (c *fakeConn) read() map[string]any {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	data, op, err := wsutil.ReadClientData(c.conn)
	if err != nil {
		c.t.Fatalf("fake read: %v", err)
	}
	if op != ws.OpText {
		c.t.Fatalf("client sent opcode %v", op)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		c.t.Fatalf("client frame %q: %v", data, err)
	}
	return m
}

// readType reads frames until one of type typ arrives.
func (c *fakeConn) readType(typ string) map[string]any {
	c.t.Helper()
	for range 50 {
		if m := c.read(); m["t"] == typ {
			return m
		}
	}
	c.t.Fatalf("no %s frame within 50 frames", typ)
	return nil
}

// stamped returns a stamped tick publication of topic at (epoch, offset).
func stamped(topic, epoch string, offset uint64) string {
	return fmt.Sprintf(`{"tp":%q,"e":%q,"o":%d,"c":"U","t":"tick","p":{"n":%d}}`, topic, epoch, offset, offset)
}
