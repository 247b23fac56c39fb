package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// waitTimeout bounds every wait in these tests.
const waitTimeout = 10 * time.Second

// startServer starts a server on free loopback ports; mutate adjusts the
// configuration first. The server is closed when the test ends.
func startServer(t *testing.T, mutate func(*Config)) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Port = 0
	cfg.APIAddr = "127.0.0.1:0"
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

var httpClient = &http.Client{Timeout: 70 * time.Second}

// call sends a control API request; body is sent as is when it is a string,
// JSON-encoded otherwise (nil = no body). It returns the status and the
// decoded JSON body.
func call(t *testing.T, srv *Server, method, path string, body any, key string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, "http://"+srv.APIAddr()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: body %q is not a JSON object: %v", method, path, raw, err)
	}
	return resp.StatusCode, out
}

// errorCode returns error.code of an error body.
func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// wsClient is a minimal WebSocket client over gobwas/ws.
type wsClient struct {
	t    *testing.T
	conn net.Conn
	rd   io.Reader
	// ready is the server_ready message.
	ready map[string]any
}

// dial connects to the server's WebSocket endpoint with optional headers
// and reads server_ready.
func dial(t *testing.T, srv *Server, header http.Header) *wsClient {
	t.Helper()
	d := ws.Dialer{Timeout: waitTimeout}
	if header != nil {
		d.Header = ws.HandshakeHeaderHTTP(header)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, br, _, err := d.Dial(ctx, srv.WebSocketURL())
	if err != nil {
		t.Fatalf("dial %s: %v", srv.WebSocketURL(), err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c := &wsClient{t: t, conn: conn, rd: conn}
	if br != nil {
		c.rd = br
	}
	c.ready = c.readUntil(func(m map[string]any) bool { return m["t"] == "server_ready" })
	return c
}

// connID returns the connection id announced in server_ready.
func (c *wsClient) connID() string {
	p, _ := c.ready["p"].(map[string]any)
	d, _ := p["details"].(map[string]any)
	id, _ := d["connection_id"].(string)
	if id == "" {
		c.t.Fatalf("server_ready without connection_id: %v", c.ready)
	}
	return id
}

// read returns the next data frame, or the error that ended the connection
// (wsutil.ClosedError for a close frame).
func (c *wsClient) read() ([]byte, ws.OpCode, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(waitTimeout))
	return wsutil.ReadServerData(struct {
		io.Reader
		io.Writer
	}{c.rd, c.conn})
}

// readUntil reads JSON messages until match accepts one, within a bounded
// number of frames and waitTimeout.
func (c *wsClient) readUntil(match func(map[string]any) bool) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for i := 0; i < 100 && time.Now().Before(deadline); i++ {
		data, _, err := c.read()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		var m map[string]any
		if json.Unmarshal(data, &m) == nil && match(m) {
			return m
		}
	}
	c.t.Fatalf("no matching message within %s", waitTimeout)
	return nil
}

// send writes a JSON text frame.
func (c *wsClient) send(v any) {
	c.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := wsutil.WriteClientText(c.conn, data); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// closeCode reads until the server closes the connection and returns the
// close code (0 if the connection ended without a close frame).
func (c *wsClient) closeCode() int {
	c.t.Helper()
	for i := 0; i < 1000; i++ {
		_, _, err := c.read()
		if err == nil {
			continue
		}
		var closed wsutil.ClosedError
		if errors.As(err, &closed) {
			return int(closed.Code)
		}
		return 0
	}
	c.t.Fatal("no close within 1000 frames")
	return 0
}

// waitFor polls cond every 10ms until it holds or waitTimeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pollEvents long-polls /api/events until want events of the connection
// have arrived (other connections' events are skipped).
func pollEvents(t *testing.T, srv *Server, key, connID string, want int) []map[string]any {
	t.Helper()
	var got []map[string]any
	deadline := time.Now().Add(waitTimeout)
	for len(got) < want && time.Now().Before(deadline) {
		status, body := call(t, srv, "GET", "/api/events?max=100&timeout_ms=200", nil, key)
		if status != 200 {
			t.Fatalf("GET /api/events = %d %v", status, body)
		}
		list, _ := body["events"].([]any)
		for _, e := range list {
			ev, _ := e.(map[string]any)
			if ev["conn_id"] == connID {
				got = append(got, ev)
			}
		}
	}
	if len(got) < want {
		t.Fatalf("got %d events of %s, want %d: %v", len(got), connID, want, got)
	}
	return got
}

// scrape returns the text of GET /metrics.
func scrape(t *testing.T, srv *Server) string {
	t.Helper()
	resp, err := httpClient.Get("http://" + srv.APIAddr() + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	return string(raw)
}

// dialRaw upgrades without reading anything.
func dialRaw(t *testing.T, srv *Server, header http.Header) *wsClient {
	t.Helper()
	d := ws.Dialer{Timeout: waitTimeout}
	if header != nil {
		d.Header = ws.HandshakeHeaderHTTP(header)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, br, _, err := d.Dial(ctx, srv.WebSocketURL())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c := &wsClient{t: t, conn: conn, rd: conn}
	if br != nil {
		c.rd = br
	}
	return c
}
