package wse_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wse-go/wse"
)

func TestServerReadyIsFirstFrameWithoutAuth(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	c, m := ready(t, wsURL(srv, ""), http.Header{"Cookie": []string{"a=1; b=2"}})
	_ = c
	if m["c"] != "WSE" || m["v"] != float64(1) {
		t.Fatalf("server_ready envelope = %v", m)
	}
	details := payload(m)["details"].(map[string]any)
	features := details["features"].(map[string]any)
	if features["recovery"] != false || features["msgpack"] != true {
		t.Fatalf("features = %v", features)
	}
	ev := nextEvent(t, srv, wse.EventConnect)
	if ev.ConnID != connID(m) || ev.Cookies != "a=1; b=2" {
		t.Fatalf("connect event = %+v, want conn %s with cookies", ev, connID(m))
	}
	if srv.ConnectionCount() != 1 {
		t.Fatalf("ConnectionCount = %d", srv.ConnectionCount())
	}
}

func TestAuthConnectCarriesUserID(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{JWT: wse.JWTConfig{Secret: testSecret}})
	_, m := ready(t, wsURL(srv, ""), bearer(token(t, "user-42", nil)))
	details := payload(m)["details"].(map[string]any)
	if details["user_id"] != "user-42" {
		t.Fatalf("user_id = %v", details["user_id"])
	}
	ev := nextEvent(t, srv, wse.EventAuthConnect)
	if ev.UserID != "user-42" || ev.ConnID != connID(m) {
		t.Fatalf("auth_connect = %+v", ev)
	}
}

func TestAuthFailuresCloseWith4401(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{JWT: wse.JWTConfig{Secret: testSecret, Issuer: "app"}})
	expired, _ := wse.EncodeJWT(map[string]any{"sub": "u", "iss": "app", "exp": time.Now().Add(-time.Hour).Unix()}, testSecret)
	wrongKey, _ := wse.EncodeJWT(map[string]any{"sub": "u", "iss": "app", "exp": time.Now().Add(time.Hour).Unix()}, []byte("another-secret-another-secret-0000"))
	noSub, _ := wse.EncodeJWT(map[string]any{"iss": "app", "exp": time.Now().Add(time.Hour).Unix()}, testSecret)
	wrongIss, _ := wse.EncodeJWT(map[string]any{"sub": "u", "iss": "other", "exp": time.Now().Add(time.Hour).Unix()}, testSecret)
	cases := []struct {
		name   string
		header http.Header
		code   string
	}{
		{"missing", nil, "AUTH_REQUIRED"},
		{"undefined cookie", http.Header{"Cookie": []string{"access_token=undefined"}}, "AUTH_REQUIRED"},
		{"garbage", bearer("not-a-jwt"), "AUTH_FAILED"},
		{"expired", bearer(expired), "AUTH_FAILED"},
		{"wrong key", bearer(wrongKey), "AUTH_FAILED"},
		{"no sub", bearer(noSub), "AUTH_FAILED"},
		{"wrong issuer", bearer(wrongIss), "AUTH_FAILED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, wsURL(srv, ""), tc.header)
			m := c.readJSON()
			if m["t"] != "error" || payload(m)["code"] != tc.code {
				t.Fatalf("frame = %v, want error %s", m, tc.code)
			}
			if code := c.closeCode(); code != 4401 {
				t.Fatalf("close code = %d, want 4401", code)
			}
		})
	}
	eventually(t, "auth failures counted", func() bool { return srv.Metrics().AuthFailures >= uint64(len(cases)) })
	if n := srv.ConnectionCount(); n != 0 {
		t.Fatalf("ConnectionCount = %d after auth failures", n)
	}
}

func TestCookieTokenWinsOverBearer(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{JWT: wse.JWTConfig{Secret: testSecret}})
	h := bearer(token(t, "from-header", nil))
	h.Set("Cookie", "access_token="+token(t, "from-cookie", nil))
	_, m := ready(t, wsURL(srv, ""), h)
	if got := payload(m)["details"].(map[string]any)["user_id"]; got != "from-cookie" {
		t.Fatalf("user_id = %v, want from-cookie", got)
	}
	// An invalid cookie is not rescued by a valid header.
	h = bearer(token(t, "from-header", nil))
	h.Set("Cookie", "access_token=broken")
	c := dial(t, wsURL(srv, ""), h)
	c.readType("error")
	if code := c.closeCode(); code != 4401 {
		t.Fatalf("close code = %d, want 4401", code)
	}
}

func TestHandshakeRefusals(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{MaxConnections: 1, AllowedOrigins: []string{"https://app.example"}})
	cases := []struct {
		name   string
		url    string
		header http.Header
		status string
	}{
		{"wrong path", "ws://" + srv.Addr() + "/other", nil, "404"},
		{"cross origin", wsURL(srv, ""), http.Header{"Origin": []string{"https://evil.example"}}, "403"},
	}
	for _, tc := range cases {
		_, err := tryDial(t, tc.url, tc.header)
		if err == nil || !strings.Contains(err.Error(), tc.status) {
			t.Fatalf("%s: dial error = %v, want status %s", tc.name, err, tc.status)
		}
	}
	ready(t, wsURL(srv, ""), http.Header{"Origin": []string{"https://app.example"}})
	_, err := tryDial(t, wsURL(srv, ""), nil)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("over MaxConnections: dial error = %v, want 503", err)
	}
	if srv.Metrics().ConnectionsRejected < 2 {
		t.Fatalf("rejections not counted: %+v", srv.Metrics())
	}
}

func TestSameHostOriginIsAccepted(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	ready(t, wsURL(srv, ""), http.Header{"Origin": []string{"http://" + srv.Addr()}})
}

func TestStopClosesClientsWith1001(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	c, m := ready(t, wsURL(srv, ""), nil)
	srv.Stop()
	if code := c.closeCode(); code != 1001 {
		t.Fatalf("close code = %d, want 1001", code)
	}
	if srv.IsRunning() {
		t.Fatal("IsRunning after Stop")
	}
	if err := srv.Send(connID(m), "x"); !errors.Is(err, wse.ErrServerStopped) {
		t.Fatalf("Send after Stop = %v, want ErrServerStopped", err)
	}
	if err := srv.Start(); !errors.Is(err, wse.ErrServerStopped) {
		t.Fatalf("Start after Stop = %v", err)
	}
	srv.Stop() // idempotent
}

// TestEventsRacingStopIsSafe starts the event forwarder (Events) and the
// callback workers (SetCallbacks) while Stop is waiting for the engine's
// goroutines; under -race this caught Add racing Wait on the WaitGroup.
func TestEventsRacingStopIsSafe(t *testing.T) {
	t.Parallel()
	for range 20 {
		srv := startServer(t, wse.Config{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = srv.Events()
			srv.SetCallbacks(wse.Callbacks{})
		}()
		srv.Stop()
		<-done
	}
}

func TestDrainClosesWith4300AndRefusesNewConnections(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	a, _ := ready(t, wsURL(srv, ""), nil)
	b, _ := ready(t, wsURL(srv, ""), nil)
	done := make(chan int, 1)
	go func() { done <- srv.Drain(0, "", 5*time.Second) }()
	for _, c := range []*client{a, b} {
		if code := c.closeCode(); code != 4300 {
			t.Fatalf("close code = %d, want 4300", code)
		}
	}
	if left := <-done; left != 0 {
		t.Fatalf("Drain left %d connections", left)
	}
	if _, err := tryDial(t, wsURL(srv, ""), nil); err == nil {
		t.Fatal("dial succeeded while draining")
	}
}

func TestUnknownConnectionAndInvalidConfigAreErrors(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	for name, err := range map[string]error{
		"Send":        srv.Send("nope", "x"),
		"SendBytes":   srv.SendBytes("nope", []byte{1}),
		"Subscribe":   srv.Subscribe("nope", []string{"a"}, nil),
		"Unsubscribe": srv.Unsubscribe("nope", nil),
		"Disconnect":  srv.Disconnect("nope"),
		"SetTopicACL": srv.SetTopicACL("nope", nil, nil),
	} {
		if !errors.Is(err, wse.ErrUnknownConnection) {
			t.Errorf("%s(unknown) = %v, want ErrUnknownConnection", name, err)
		}
	}
	if _, err := srv.SendEvent("nope", map[string]any{"t": "x"}); !errors.Is(err, wse.ErrUnknownConnection) {
		t.Errorf("SendEvent(unknown) = %v", err)
	}
	bad := []wse.Config{
		{Port: 70000},
		{Path: "wse"},
		{PingInterval: time.Minute},
		{PingInterval: 10 * time.Second, IdleTimeout: 5 * time.Second},
		{ClientSubscriptions: "everything"},
		{MaxConnections: -1},
		{JWT: wse.JWTConfig{Secret: []byte("short")}},
		{ClientTopics: []string{"bad\x01topic"}},
	}
	for i, cfg := range bad {
		if _, err := wse.NewServer(cfg); !errors.Is(err, wse.ErrInvalidConfig) {
			t.Errorf("config %d: NewServer = %v, want ErrInvalidConfig", i, err)
		}
	}
}

func TestDisconnectEmitsEventAndCloses(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	c, m := ready(t, wsURL(srv, ""), nil)
	id := connID(m)
	if err := srv.DisconnectWithCode(id, 4403, "banned"); err != nil {
		t.Fatal(err)
	}
	if code := c.closeCode(); code != 4403 {
		t.Fatalf("close code = %d, want 4403", code)
	}
	ev := nextEvent(t, srv, wse.EventDisconnect)
	if ev.ConnID != id {
		t.Fatalf("disconnect event = %+v", ev)
	}
	eventually(t, "connection removed", func() bool { return srv.ConnectionCount() == 0 })
}

func TestHealthSnapshotHasEverySeedKey(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	ready(t, wsURL(srv, ""), nil)
	b, err := json.Marshal(srv.HealthSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	keys := []string{"connections", "inbound_queue_depth", "inbound_dropped", "cluster_connected",
		"cluster_peer_count", "cluster_messages_sent", "cluster_messages_delivered",
		"cluster_messages_dropped", "cluster_bytes_sent", "cluster_bytes_received",
		"cluster_reconnect_count", "cluster_unknown_message_types", "cluster_dlq_size",
		"uptime_secs", "recovery_enabled", "recovery_topic_count", "recovery_total_bytes",
		"presence_enabled", "presence_topics", "presence_total_users"}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("health snapshot lacks %q", k)
		}
	}
	if len(m) != len(keys) {
		t.Errorf("health snapshot has %d keys, want %d: %v", len(m), len(keys), m)
	}
	if m["connections"] != float64(1) {
		t.Errorf("connections = %v", m["connections"])
	}
}

func TestCallbacksReceiveEventsInOrder(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	got := make(chan wse.Event, 16)
	srv.SetCallbacks(wse.Callbacks{
		OnConnect:    func(ev wse.Event) { got <- ev },
		OnMessage:    func(ev wse.Event) { got <- ev },
		OnDisconnect: func(ev wse.Event) { got <- ev },
	})
	c, _ := ready(t, wsURL(srv, ""), nil)
	c.send(`{"t":"hello","p":{}}`)
	_ = c.conn.Close()
	want := []wse.EventType{wse.EventConnect, wse.EventMessage, wse.EventDisconnect}
	for _, typ := range want {
		select {
		case ev := <-got:
			if ev.Type != typ {
				t.Fatalf("event %s, want %s", ev.Type, typ)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s callback", typ)
		}
	}
}

func TestIdleConnectionIsClosedWith4408(t *testing.T) {
	t.Parallel()
	// The active client below is silent 100 ms at a time, a tenth of the
	// timeout, so a loaded machine cannot make it look idle.
	srv := startServer(t, wse.Config{PingInterval: 100 * time.Millisecond, IdleTimeout: time.Second})
	c, _ := ready(t, wsURL(srv, ""), nil)
	if m := c.readJSON(); m["t"] != "ping" {
		t.Fatalf("frame = %v, want server ping", m)
	}
	if code := c.closeCode(); code != 4408 {
		t.Fatalf("close code = %d, want 4408", code)
	}
	// An active client stays.
	active, _ := ready(t, wsURL(srv, ""), nil)
	for range 15 {
		active.send(`{"t":"ping","p":{"timestamp":1}}`)
		active.readType("PONG")
		time.Sleep(100 * time.Millisecond)
	}
	if srv.ConnectionCount() != 1 {
		t.Fatalf("active connection closed; count = %d", srv.ConnectionCount())
	}
}
