package server

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// refusalCount reads wse_refusals_total{reason} from /metrics.
func refusalCount(t *testing.T, srv *Server, reason string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^wse_refusals_total\{reason="` + regexp.QuoteMeta(reason) + `"\} (\S+)$`)
	m := re.FindStringSubmatch(scrape(t, srv))
	if m == nil {
		t.Fatalf("/metrics has no wse_refusals_total{reason=%q}", reason)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// rawUpgrade sends an upgrade request for the WebSocket path with extra
// header lines over a plain TCP connection and returns the response status.
func rawUpgrade(t *testing.T, srv *Server, extra string) int {
	t.Helper()
	nc, err := net.DialTimeout("tcp", srv.Addr(), waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(waitTimeout))
	req := "GET " + srv.Config().Path + " HTTP/1.1\r\nHost: " + srv.Addr() + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + extra + "\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("reading the upgrade response: %v", err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// errorCodeNext reads until an error message arrives and returns its code.
func (c *wsClient) errorCodeNext() string {
	m := c.readUntil(func(m map[string]any) bool { return m["t"] == "error" })
	p, _ := m["p"].(map[string]any)
	code, _ := p["code"].(string)
	return code
}

func TestEveryRefusalIsCountedByReason(t *testing.T) {
	t.Parallel()
	withAuth := func(c *Config) { c.JWTSecret = testSecret }
	anyTopics := func(c *Config) { c.ClientSubscriptions = "any" }
	tests := []struct {
		reason string
		config func(*Config)
		refuse func(t *testing.T, srv *Server)
	}{
		{"draining", func(c *Config) { withAuth(c); c.AuthFirstMessage = true }, func(t *testing.T, srv *Server) {
			// A client still authenticating when the drain starts is
			// refused when its auth message arrives.
			c := dialRaw(t, srv, nil)
			srv.Engine().Drain(DrainCode, "", time.Millisecond)
			c.send(map[string]any{"t": "auth", "p": map[string]any{"token": mint(t, srv, "late")}})
			if code := c.closeCode(); code != DrainCode {
				t.Fatalf("close = %d, want %d", code, DrainCode)
			}
		}},
		{"origin_forbidden", nil, func(t *testing.T, srv *Server) {
			if got := rawUpgrade(t, srv, "Origin: http://elsewhere.example\r\n"); got != 403 {
				t.Fatalf("upgrade from a foreign origin = %d, want 403", got)
			}
		}},
		{"connection_limit", func(c *Config) { c.MaxConnections = 1 }, func(t *testing.T, srv *Server) {
			dial(t, srv, nil)
			if got := rawUpgrade(t, srv, ""); got != 503 {
				t.Fatalf("upgrade over max-connections = %d, want 503", got)
			}
		}},
		{"bad_upgrade", nil, func(t *testing.T, srv *Server) {
			resp, err := httpClient.Get("http://" + srv.Addr() + srv.Config().Path)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode/100 != 4 {
				t.Fatalf("plain GET of the WebSocket path = %d, want 4xx", resp.StatusCode)
			}
		}},
		{"bad_http_request", withAuth, func(t *testing.T, srv *Server) {
			tok := strings.Repeat("a", 100<<10)
			if got := rawUpgrade(t, srv, "Authorization: Bearer "+tok+"\r\n"); got != 431 {
				t.Fatalf("upgrade with a 100 KiB token = %d, want 431", got)
			}
		}},
		{"auth_required", withAuth, func(t *testing.T, srv *Server) {
			c := dialRaw(t, srv, nil)
			if code := c.errorCodeNext(); code != "AUTH_REQUIRED" {
				t.Fatalf("error code = %s", code)
			}
			if code := c.closeCode(); code != 4401 {
				t.Fatalf("close = %d, want 4401", code)
			}
		}},
		{"auth_failed", withAuth, func(t *testing.T, srv *Server) {
			c := dialRaw(t, srv, bearer("not.a.token"))
			if code := c.closeCode(); code != 4401 {
				t.Fatalf("close = %d, want 4401", code)
			}
		}},
		{"protocol_error", nil, func(t *testing.T, srv *Server) {
			c := dial(t, srv, nil)
			// FIN+RSV1 text frame, masked, empty: RSV1 without an extension.
			if _, err := c.conn.Write([]byte{0xC1, 0x80, 1, 2, 3, 4}); err != nil {
				t.Fatal(err)
			}
			if code := c.closeCode(); code != 1002 {
				t.Fatalf("close = %d, want 1002", code)
			}
		}},
		{"invalid_payload", nil, func(t *testing.T, srv *Server) {
			c := dial(t, srv, nil)
			if err := wsutil.WriteClientText(c.conn, []byte{0xff, 0xfe, 0xfd}); err != nil {
				t.Fatal(err)
			}
			if code := c.closeCode(); code != 1007 {
				t.Fatalf("close = %d, want 1007", code)
			}
		}},
		{"message_too_big", func(c *Config) { c.MaxMessageSize = 1024 }, func(t *testing.T, srv *Server) {
			c := dial(t, srv, nil)
			if err := wsutil.WriteClientText(c.conn, []byte(strings.Repeat("x", 4096))); err != nil {
				t.Fatal(err)
			}
			if code := c.closeCode(); code != 1009 {
				t.Fatalf("close = %d, want 1009", code)
			}
			if m := srv.Engine().Metrics(); m.Oversized != 1 {
				t.Fatalf("oversized = %d after a 1009 close, want 1", m.Oversized)
			}
			if !strings.Contains(scrape(t, srv), "\nwse_oversized_messages_total 1\n") {
				t.Fatal("/metrics: wse_oversized_messages_total is not 1")
			}
		}},
		{"rate_limited", func(c *Config) { c.RateLimitCapacity = 2; c.RateLimitRefill = 0.01 }, func(t *testing.T, srv *Server) {
			c := dial(t, srv, nil)
			for i := range 5 {
				c.send(map[string]any{"t": "x", "p": map[string]any{"i": i}})
			}
			if code := c.errorCodeNext(); code != "RATE_LIMITED" {
				t.Fatalf("error code = %s", code)
			}
		}},
		{"invalid_message", nil, func(t *testing.T, srv *Server) {
			c := dial(t, srv, nil)
			c.send(map[string]any{"t": "subscription_update", "p": map[string]any{"action": "dance", "topics": []string{"a"}}})
			if code := c.errorCodeNext(); code != "INVALID_MESSAGE" {
				t.Fatalf("error code = %s", code)
			}
		}},
		{"decrypt_failed", nil, func(t *testing.T, srv *Server) {
			c := dial(t, srv, nil)
			if err := wsutil.WriteClientBinary(c.conn, []byte("E:0123456789abcdef0123456789")); err != nil {
				t.Fatal(err)
			}
			if code := c.errorCodeNext(); code != "INVALID_MESSAGE" {
				t.Fatalf("error code = %s", code)
			}
		}},
		{"key_exchange_failed", nil, func(t *testing.T, srv *Server) {
			c := dial(t, srv, nil)
			c.send(map[string]any{"c": "WSE", "t": "client_hello", "p": map[string]any{"protocol_version": 1,
				"features": map[string]any{"encryption": true}, "encryption_public_key": "bm90IGEga2V5"}})
			if code := c.errorCodeNext(); code != "KEY_EXCHANGE_FAILED" {
				t.Fatalf("error code = %s", code)
			}
		}},
		{"invalid_topic", anyTopics, func(t *testing.T, srv *Server) {
			subscribeExpectFailure(t, dial(t, srv, nil), []string{"bad\ntopic"}, "INVALID_TOPIC")
		}},
		{"forbidden", nil, func(t *testing.T, srv *Server) {
			subscribeExpectFailure(t, dial(t, srv, nil), []string{"secret"}, "FORBIDDEN")
		}},
		{"limit", func(c *Config) { anyTopics(c); c.MaxSubscriptionsPerConnection = 1 }, func(t *testing.T, srv *Server) {
			subscribeExpectFailure(t, dial(t, srv, nil), []string{"a", "b"}, "LIMIT")
		}},
		{"idle_timeout", func(c *Config) { c.PingInterval = time.Second; c.IdleTimeout = 2 * time.Second }, func(t *testing.T, srv *Server) {
			c := dial(t, srv, nil) // reads, never writes
			if code := c.closeCode(); code != 4408 {
				t.Fatalf("close = %d, want 4408", code)
			}
		}},
		{"slow_consumer", func(c *Config) {
			anyTopics(c)
			c.MaxOutboundQueueBytes = 256 << 10
			c.SocketSendBuffer = 16 << 10
		}, func(t *testing.T, srv *Server) {
			floodNonReader(t, srv, "slow_consumer")
		}},
		{"input_budget", func(c *Config) { c.MaxInboundBufferBytes = 64 << 10 }, func(t *testing.T, srv *Server) {
			c := dial(t, srv, nil)
			// A 200 KiB text frame (within --max-message-size) of which
			// 150 KiB arrive: its buffer outgrows the 64 KiB budget.
			header := []byte{0x81, 0xFF, 0, 0, 0, 0, 0, 3, 32, 0, 0, 0, 0, 0} // FIN text, masked (zero mask), length 200 KiB
			if _, err := c.conn.Write(append(header, make([]byte, 150<<10)...)); err != nil {
				t.Fatal(err)
			}
			// gobwas/ws refuses 1013 as a close code (it knows only
			// 1000–1011), so the close frame is read by hand.
			_ = c.conn.SetReadDeadline(time.Now().Add(waitTimeout))
			h, err := ws.ReadHeader(c.rd)
			if err != nil || h.OpCode != ws.OpClose || h.Length < 2 {
				t.Fatalf("frame %+v, %v; want a close frame", h, err)
			}
			payload := make([]byte, h.Length)
			if _, err := io.ReadFull(c.rd, payload); err != nil {
				t.Fatal(err)
			}
			if code := int(payload[0])<<8 | int(payload[1]); code != 1013 {
				t.Fatalf("close = %d, want 1013", code)
			}
			waitFor(t, "buffers released", func() bool { return srv.Engine().Metrics().InboundBufferBytes == 0 })
		}},
		{"output_budget", func(c *Config) {
			anyTopics(c)
			c.MaxOutboundQueueBytes = 8 << 20
			c.MaxTotalOutboundBytes = 1 << 20
			c.SocketSendBuffer = 16 << 10
		}, func(t *testing.T, srv *Server) {
			floodNonReader(t, srv, "output_budget")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.reason, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, tc.config)
			if n := refusalCount(t, srv, tc.reason); n != 0 {
				t.Fatalf("fresh server: %s = %v", tc.reason, n)
			}
			tc.refuse(t, srv)
			waitFor(t, tc.reason+" counted", func() bool { return srv.Engine().Refusals()[tc.reason] > 0 })
			if n := refusalCount(t, srv, tc.reason); n < 1 {
				t.Fatalf("wse_refusals_total{reason=%q} = %v, want at least 1", tc.reason, n)
			}
			status, body := call(t, srv, "GET", "/health", nil, "")
			summary, _ := body["refusals"].(map[string]any)
			if status != 200 || summary[tc.reason] == nil || body["refusals_total"].(float64) < 1 {
				t.Fatalf("/health = %d, refusals %v total %v; want %s summarised", status, summary, body["refusals_total"], tc.reason)
			}
		})
	}
}

// subscribeExpectFailure asks for topics and expects the reply to fail one
// of them with code.
func subscribeExpectFailure(t *testing.T, c *wsClient, topics []string, code string) {
	t.Helper()
	c.send(map[string]any{"t": "subscription_update", "p": map[string]any{"action": "subscribe", "topics": topics}})
	m := c.readUntil(func(m map[string]any) bool { return m["t"] == "subscription_update" })
	raw, _ := json.Marshal(m)
	if !strings.Contains(string(raw), `"`+code+`"`) {
		t.Fatalf("subscription reply %s lacks %s", raw, code)
	}
}

// floodNonReader subscribes a client that stops reading, publishes to it
// until the server refuses it for reason, then reads up to the 4429 close.
func floodNonReader(t *testing.T, srv *Server, reason string) {
	t.Helper()
	c := dial(t, srv, nil)
	c.send(map[string]any{"t": "subscription_update", "p": map[string]any{"action": "subscribe", "topics": []string{"flood"}}})
	c.readUntil(func(m map[string]any) bool { return m["t"] == "subscription_update" })
	id := c.connID()
	pad := strings.Repeat("y", 64<<10)
	deadline := time.Now().Add(waitTimeout)
	for srv.Engine().Refusals()[reason] == 0 && time.Now().Before(deadline) {
		call(t, srv, "POST", "/api/publish", map[string]any{"topic": "flood", "data": map[string]any{"t": "f", "p": pad}}, "")
	}
	if srv.Engine().Refusals()[reason] == 0 {
		t.Fatalf("connection %s not refused for %s after flooding it", id, reason)
	}
	if code := c.closeCode(); code != 4429 {
		t.Fatalf("close = %d, want 4429", code)
	}
}
