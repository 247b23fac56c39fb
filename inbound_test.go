package wse_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/wse-go/wse"
)

// inboundVectors is testdata/vectors/inbound.json.
type inboundVectors struct {
	Cases []struct {
		Name    string `json:"name"`
		Frame   string `json:"frame"`
		Data    string `json:"data"`
		DataB64 string `json:"data_b64"`
		Expect  struct {
			Event       string          `json:"event"`
			Data        json.RawMessage `json:"data"`
			DataB64     string          `json:"data_b64"`
			Reply       string          `json:"reply"`
			ReplyPrefix string          `json:"reply_prefix"`
			ReplyP      map[string]any  `json:"reply_p"`
		} `json:"expect"`
	} `json:"cases"`
}

// TestInboundVectorsOverRealSocket sends every inbound vector through a real
// connection and checks what the application or the client receives.
func TestInboundVectorsOverRealSocket(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/vectors/inbound.json")
	if err != nil {
		t.Fatal(err)
	}
	var vec inboundVectors
	if err := json.Unmarshal(raw, &vec); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyAny})
	c, m := ready(t, wsURL(srv, ""), nil)
	id := connID(m)
	nextEvent(t, srv, wse.EventConnect)
	for _, tc := range vec.Cases {
		if tc.Frame == "text" {
			c.send(tc.Data)
		} else {
			b, _ := base64.StdEncoding.DecodeString(tc.DataB64)
			c.sendBinary(b)
		}
		switch tc.Expect.Event {
		case "msg":
			ev := nextEvent(t, srv, wse.EventMessage, wse.EventRaw, wse.EventBinary)
			var want map[string]any
			_ = json.Unmarshal(tc.Expect.Data, &want)
			if ev.Type != wse.EventMessage || ev.ConnID != id || !reflect.DeepEqual(ev.Message, want) {
				t.Errorf("%s: event %+v, want msg %v", tc.Name, ev, want)
			}
		case "msgs":
			var want []map[string]any
			_ = json.Unmarshal(tc.Expect.Data, &want)
			for i, w := range want {
				ev := nextEvent(t, srv, wse.EventMessage, wse.EventRaw, wse.EventBinary)
				if ev.Type != wse.EventMessage || !reflect.DeepEqual(ev.Message, w) {
					t.Errorf("%s[%d]: event %+v, want %v", tc.Name, i, ev, w)
				}
			}
		case "raw":
			var want string
			_ = json.Unmarshal(tc.Expect.Data, &want)
			ev := nextEvent(t, srv, wse.EventMessage, wse.EventRaw, wse.EventBinary)
			if ev.Type != wse.EventRaw || ev.Text != want {
				t.Errorf("%s: event %+v, want raw %q", tc.Name, ev, want)
			}
		case "bin":
			want, _ := base64.StdEncoding.DecodeString(tc.Expect.DataB64)
			ev := nextEvent(t, srv, wse.EventMessage, wse.EventRaw, wse.EventBinary)
			if ev.Type != wse.EventBinary || !bytes.Equal(ev.Data, want) {
				t.Errorf("%s: event %+v, want bin %x", tc.Name, ev, want)
			}
		case "native":
			data, _ := c.read()
			var reply map[string]any
			_ = json.Unmarshal(data, &reply)
			if reply["t"] != tc.Expect.Reply {
				t.Errorf("%s: reply %s, want %s", tc.Name, data, tc.Expect.Reply)
			}
			if tc.Expect.ReplyPrefix != "" && !hasPrefix(data, tc.Expect.ReplyPrefix) {
				t.Errorf("%s: reply %s lacks prefix %s", tc.Name, data, tc.Expect.ReplyPrefix)
			}
			for k, v := range tc.Expect.ReplyP {
				if got := payload(reply)[k]; !reflect.DeepEqual(got, v) {
					t.Errorf("%s: reply p.%s = %v, want %v", tc.Name, k, got, v)
				}
			}
		case "swallowed":
			// Checked below: nothing reaches the application or the client.
		}
	}
	// Nothing else was forwarded: a marker arrives as the next event.
	c.send(`{"t":"marker"}`)
	ev := nextEvent(t, srv, wse.EventMessage, wse.EventRaw, wse.EventBinary)
	if ev.Message["t"] != "marker" {
		t.Fatalf("unexpected event %+v before the marker", ev)
	}
}

func TestClientHelloGetsServerHello(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	c, m := ready(t, wsURL(srv, ""), nil)
	c.send(`{"c":"WSE","t":"client_hello","p":{"client_version":"2.4.1","protocol_version":1,"features":{"compression":true}},"v":1}`)
	hello := c.readType("server_hello")
	p := payload(hello)
	if p["connection_id"] != connID(m) || p["protocol_version"] != float64(1) || p["ping_interval"] != float64(25000) {
		t.Fatalf("server_hello p = %v", p)
	}
	limits := p["limits"].(map[string]any)
	if limits["max_message_size"] != float64(1<<20) {
		t.Fatalf("limits = %v", limits)
	}
}

func TestOversizedMessageClosesWith1009(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	c, _ := ready(t, wsURL(srv, ""), nil)
	c.sendBinary(make([]byte, 1<<20+1))
	if code := c.closeCode(); code != 1009 {
		t.Fatalf("close code = %d, want 1009", code)
	}
	// Exactly the limit passes.
	ok, _ := ready(t, wsURL(srv, ""), nil)
	ok.sendBinary(make([]byte, 1<<20))
	ev := nextEvent(t, srv, wse.EventBinary)
	if len(ev.Data) != 1<<20 {
		t.Fatalf("bin event of %d bytes", len(ev.Data))
	}
}

func TestRateLimitWarnsThenRejects(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{RateLimitCapacity: 10, RateLimitRefill: 0.001})
	c, _ := ready(t, wsURL(srv, ""), nil)
	for i := range 12 {
		c.send(`{"t":"chat","p":{"i":` + string(rune('0'+i%10)) + `}}`)
	}
	warn := c.readType("rate_limit_warning")
	if payload(warn)["limit"] != float64(10) {
		t.Fatalf("warning = %v", warn)
	}
	errMsg := c.readType("error")
	if payload(errMsg)["code"] != "RATE_LIMITED" || payload(errMsg)["retry_after"] == nil {
		t.Fatalf("error = %v", errMsg)
	}
	eventually(t, "rate limited counted", func() bool { return srv.Metrics().RateLimited == 2 })
}

func TestMsgpackConnectionDecodesBinaryMessages(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	c, m := ready(t, wsURL(srv, "format=msgpack"), nil)
	b, _ := msgpack.Marshal(map[string]any{"type": "chat", "payload": map[string]any{"n": 1}})
	c.sendBinary(append([]byte("M:"), b...))
	ev := nextEvent(t, srv, wse.EventMessage)
	if ev.Message["t"] != "chat" {
		t.Fatalf("msgpack event = %+v", ev.Message)
	}
	// send_event answers in MessagePack on this connection.
	if _, err := srv.SendEvent(connID(m), map[string]any{"t": "price", "p": map[string]any{"v": 2}}); err != nil {
		t.Fatal(err)
	}
	data, _ := c.read()
	if !hasPrefix(data, "M:") {
		t.Fatalf("send_event frame %q lacks M:", data)
	}
	var out map[string]any
	if err := msgpack.Unmarshal(data[2:], &out); err != nil || out["t"] != "price" || out["c"] != "U" {
		t.Fatalf("decoded %v, %v", out, err)
	}
}

func TestInboundQueueOverflowIsCountedNotBlocking(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{MaxInboundQueueSize: 10})
	c, _ := ready(t, wsURL(srv, ""), nil)
	for range 50 {
		c.send(`{"t":"flood"}`)
	}
	// The connection still works: ping is answered by the engine.
	c.send(`{"t":"ping","p":{"timestamp":5}}`)
	c.readType("PONG")
	eventually(t, "drops counted", func() bool { return srv.InboundDropped() >= 40 })
	if d := srv.InboundQueueDepth(); d != 10 {
		t.Fatalf("queue depth = %d, want 10", d)
	}
	if got := len(srv.DrainInbound(100, time.Millisecond)); got != 10 {
		t.Fatalf("drained %d events, want 10", got)
	}
}

func TestDrainInboundTimesOutEmpty(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	start := time.Now()
	if evs := srv.DrainInbound(10, 50*time.Millisecond); len(evs) != 0 {
		t.Fatalf("events %v", evs)
	}
	if time.Since(start) < 40*time.Millisecond {
		t.Fatal("DrainInbound returned before its timeout")
	}
}

func TestCompressedClientMessageIsInflatedWithinLimit(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{MaxMessageSize: 4096})
	c, _ := ready(t, wsURL(srv, ""), nil)
	// 3 KiB inflates fine, 8 KiB exceeds MaxMessageSize after inflation.
	c.sendBinary(zlibFrame(t, `{"t":"big","p":{"s":"`+strings.Repeat("x", 3000)+`"}}`))
	ev := nextEvent(t, srv, wse.EventMessage)
	if ev.Message["t"] != "big" {
		t.Fatalf("event %+v", ev)
	}
	c.sendBinary(zlibFrame(t, `{"t":"bomb","p":{"s":"`+strings.Repeat("x", 8000)+`"}}`))
	if code := c.closeCode(); code != 1009 {
		t.Fatalf("close code = %d, want 1009", code)
	}
}
