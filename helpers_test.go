package wse_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wse-go/wse"
)

// testSecret is the HS256 secret of test servers with auth.
var testSecret = []byte("0123456789abcdef0123456789abcdef-test")

// startServer starts a server on a free loopback port and stops it when the
// test ends.
func startServer(t testing.TB, cfg wse.Config) *wse.Server {
	t.Helper()
	cfg.Host = "127.0.0.1"
	cfg.Port = -1
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

// wsURL returns the WebSocket URL of srv with an optional query.
func wsURL(srv *wse.Server, query string) string {
	u := "ws://" + srv.Addr() + srv.Config().Path
	if query != "" {
		u += "?" + query
	}
	return u
}

// token mints a valid HS256 token for sub with extra claims.
func token(t testing.TB, sub string, extra map[string]any) string {
	t.Helper()
	claims := map[string]any{"sub": sub, "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range extra {
		claims[k] = v
	}
	tok, err := wse.EncodeJWT(claims, testSecret)
	if err != nil {
		t.Fatalf("EncodeJWT: %v", err)
	}
	return tok
}

// client is a real WebSocket client for tests.
type client struct {
	t    testing.TB
	conn net.Conn // reads drain the handshake's leftover bytes first
	raw  net.Conn // the socket itself
}

// dial connects to url with header; it fails the test on error.
func dial(t testing.TB, url string, header http.Header) *client {
	t.Helper()
	c, err := tryDial(t, url, header)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return c
}

// tryDial connects to url with header and returns the handshake error.
func tryDial(t testing.TB, url string, header http.Header) (*client, error) {
	t.Helper()
	return dialWith(t, url, ws.Dialer{Header: ws.HandshakeHeaderHTTP(header)})
}

// smallRcvBuf is a dialer whose sockets have a 4 KiB receive buffer.
var smallRcvBuf = ws.Dialer{NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		_ = rc.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return err
	}}
	return d.DialContext(ctx, network, addr)
}}

// readyWith dials with d and reads server_ready.
func readyWith(t testing.TB, url string, d ws.Dialer) (*client, map[string]any) {
	t.Helper()
	c, err := dialWith(t, url, d)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	m := c.readJSON()
	if m["t"] != "server_ready" {
		t.Fatalf("first frame = %v, want server_ready", m)
	}
	return c, m
}

// dialWith connects to url with dialer d.
func dialWith(t testing.TB, url string, d ws.Dialer) (*client, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = conn.Close() })
	raw := conn
	if br != nil {
		// The handshake reader may hold frames read past the response.
		conn = bufferedConn{Conn: conn, r: io.MultiReader(br, conn)}
	}
	return &client{t: t, conn: conn, raw: raw}, nil
}

// bufferedConn reads through r (the handshake's leftover bytes, then the
// socket) and writes to the connection.
type bufferedConn struct {
	net.Conn
	r io.Reader
}

func (c bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// ready dials and reads server_ready, returning the client and the frame.
func ready(t testing.TB, url string, header http.Header) (*client, map[string]any) {
	t.Helper()
	return readyWith(t, url, ws.Dialer{Header: ws.HandshakeHeaderHTTP(header)})
}

// connID returns p.details.connection_id of a server_ready frame.
func connID(m map[string]any) string {
	return m["p"].(map[string]any)["details"].(map[string]any)["connection_id"].(string)
}

// read returns the next data frame; it fails the test on close or timeout.
func (c *client) read() ([]byte, ws.OpCode) {
	c.t.Helper()
	data, op, err := c.tryRead(5 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return data, op
}

// tryRead returns the next data frame, answering WebSocket pings.
func (c *client) tryRead(timeout time.Duration) ([]byte, ws.OpCode, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
	return wsutil.ReadServerData(c.conn)
}

// readJSON reads the next text or binary frame as a JSON object.
func (c *client) readJSON() map[string]any {
	c.t.Helper()
	data, _ := c.read()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		c.t.Fatalf("frame %q is not JSON: %v", data, err)
	}
	return m
}

// readType reads frames until one of type typ arrives, skipping server pings.
func (c *client) readType(typ string) map[string]any {
	c.t.Helper()
	for range 100 {
		m := c.readJSON()
		if m["t"] == typ {
			return m
		}
	}
	c.t.Fatalf("no %s frame within 100 frames", typ)
	return nil
}

// send writes a text frame.
func (c *client) send(text string) {
	c.t.Helper()
	if err := wsutil.WriteClientText(c.conn, []byte(text)); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// sendBinary writes a binary frame.
func (c *client) sendBinary(b []byte) {
	c.t.Helper()
	if err := wsutil.WriteClientBinary(c.conn, b); err != nil {
		c.t.Fatalf("send binary: %v", err)
	}
}

// closeCode reads until the server closes and returns the close code.
func (c *client) closeCode() int {
	c.t.Helper()
	for range 1000 {
		_, _, err := c.tryRead(5 * time.Second)
		if err == nil {
			continue
		}
		var closed wsutil.ClosedError
		if errors.As(err, &closed) {
			return int(closed.Code)
		}
		c.t.Fatalf("connection ended without a close frame: %v", err)
	}
	c.t.Fatal("no close frame within 1000 frames")
	return 0
}

// eventually polls cond until it holds or 5 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// nextEvent returns the next event of one of the given types, skipping others.
func nextEvent(t testing.TB, srv *wse.Server, types ...wse.EventType) wse.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, ev := range srv.DrainInbound(1, 100*time.Millisecond) {
			for _, typ := range types {
				if ev.Type == typ {
					return ev
				}
			}
		}
	}
	t.Fatalf("no %v event within 5s", types)
	return wse.Event{}
}

// subscribeReq is a client subscription request for topics.
func subscribeReq(topics ...string) string {
	if topics == nil {
		topics = []string{}
	}
	b, _ := json.Marshal(map[string]any{
		"c": "WSE", "t": "subscription_update",
		"p": map[string]any{"action": "subscribe", "topics": topics},
	})
	return string(b)
}

// payload returns m["p"] as an object.
func payload(m map[string]any) map[string]any {
	p, _ := m["p"].(map[string]any)
	return p
}

// bearer returns an Authorization header with tok.
func bearer(tok string) http.Header {
	return http.Header{"Authorization": []string{"Bearer " + tok}}
}

// hasPrefix reports whether b starts with prefix.
func hasPrefix(b []byte, prefix string) bool { return strings.HasPrefix(string(b), prefix) }

// zlibFrame returns "C:" + zlib(text), a compressed client message.
func zlibFrame(t testing.TB, text string) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("C:")
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
