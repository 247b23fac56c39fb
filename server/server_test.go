package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const testSecret = "0123456789abcdef0123456789abcdef-test"

// mint asks the server for a token of sub.
func mint(t *testing.T, srv *Server, sub string) string {
	t.Helper()
	status, body := call(t, srv, "POST", "/api/token", map[string]any{"sub": sub}, "")
	tok, _ := body["token"].(string)
	if status != 200 || tok == "" {
		t.Fatalf("POST /api/token = %d %v", status, body)
	}
	return tok
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func TestAPIPublishReachesSubscriber(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	c := dial(t, srv, nil)
	id := c.connID()
	if status, body := call(t, srv, "POST", "/api/subscribe", map[string]any{"conn_id": id, "topics": []string{"chat:1"}}, ""); status != 200 || body["ok"] != true {
		t.Fatalf("subscribe = %d %v", status, body)
	}
	tests := []struct {
		name string
		req  string
		want func(map[string]any) bool
	}{
		{"object", `{"topic":"chat:1","data":{"t":"chat","p":{"n":1}}}`, func(m map[string]any) bool {
			p, _ := m["p"].(map[string]any)
			return m["t"] == "chat" && p["n"] == 1.0 && m["c"] == "U"
		}},
		{"string", `{"topic":"chat:1","data":"{\"t\":\"note\",\"p\":{}}"}`, func(m map[string]any) bool { return m["t"] == "note" }},
		{"local", `{"topic":"chat:1","data":{"t":"local"},"local":true}`, func(m map[string]any) bool { return m["t"] == "local" }},
	}
	for _, tc := range tests {
		status, body := call(t, srv, "POST", "/api/publish", tc.req, "")
		if status != 200 || body["delivered"] != 1.0 {
			t.Fatalf("%s: publish = %d %v", tc.name, status, body)
		}
		c.readUntil(tc.want)
	}
	if status, body := call(t, srv, "GET", "/api/topics/chat:1", nil, ""); status != 200 || body["subscribers"] != 1.0 || body["topic"] != "chat:1" {
		t.Fatalf("GET /api/topics/chat:1 = %d %v", status, body)
	}
}

func TestAPIBadRequestsGetJSONErrors(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	c := dial(t, srv, nil)
	id := c.connID()
	tests := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"malformed JSON", "POST", "/api/publish", `{"topic":`, 400, codeInvalidJSON},
		{"empty body", "POST", "/api/publish", "", 400, codeInvalidJSON},
		{"trailing data", "POST", "/api/publish", `{"topic":"a","data":"x"} {}`, 400, codeInvalidJSON},
		{"unknown field", "POST", "/api/publish", `{"topik":"a","data":"x"}`, 400, codeInvalidJSON},
		{"wrong field type", "POST", "/api/publish", `{"topic":5,"data":"x"}`, 400, codeInvalidField},
		{"publish without topic", "POST", "/api/publish", `{"data":"x"}`, 400, codeMissingField},
		{"publish without data", "POST", "/api/publish", `{"topic":"a"}`, 400, codeMissingField},
		{"publish number data", "POST", "/api/publish", `{"topic":"a","data":42}`, 400, codeInvalidField},
		{"publish null data", "POST", "/api/publish", `{"topic":"a","data":null}`, 400, codeInvalidField},
		{"publish invalid topic", "POST", "/api/publish", `{"topic":"a\u0001b","data":"x"}`, 400, "INVALID_TOPIC"},
		{"broadcast_all without data", "POST", "/api/broadcast_all", `{}`, 400, codeMissingField},
		{"send without conn_id", "POST", "/api/send", `{"data":"x"}`, 400, codeMissingField},
		{"send to unknown connection", "POST", "/api/send", `{"conn_id":"nope","data":"x"}`, 404, codeUnknownConn},
		{"subscribe unknown connection", "POST", "/api/subscribe", `{"conn_id":"nope","topics":["a"]}`, 404, codeUnknownConn},
		{"subscribe without topics", "POST", "/api/subscribe", `{"conn_id":"` + id + `"}`, 400, codeMissingField},
		{"subscribe invalid topic", "POST", "/api/subscribe", `{"conn_id":"` + id + `","topics":[""]}`, 400, "INVALID_TOPIC"},
		{"subscribe epoch without recover", "POST", "/api/subscribe", `{"conn_id":"` + id + `","topics":["a"],"epoch":"00000001"}`, 400, codeInvalidField},
		{"subscribe presence while disabled", "POST", "/api/subscribe", `{"conn_id":"` + id + `","topics":["a"],"presence":{"x":1}}`, 409, "PRESENCE_DISABLED"},
		{"unsubscribe unknown connection", "POST", "/api/unsubscribe", `{"conn_id":"nope"}`, 404, codeUnknownConn},
		{"disconnect unknown connection", "POST", "/api/disconnect", `{"conn_id":"nope"}`, 404, codeUnknownConn},
		{"disconnect bad code", "POST", "/api/disconnect", `{"conn_id":"` + id + `","code":999}`, 400, codeInvalidField},
		{"disconnect long reason", "POST", "/api/disconnect", `{"conn_id":"` + id + `","reason":"` + strings.Repeat("r", 200) + `"}`, 400, codeInvalidField},
		{"presence update while disabled", "POST", "/api/presence/update", `{"conn_id":"` + id + `","data":{"a":1}}`, 409, "PRESENCE_DISABLED"},
		{"presence update without data", "POST", "/api/presence/update", `{"conn_id":"` + id + `"}`, 400, codeMissingField},
		{"presence query while disabled", "GET", "/api/presence/a", nil, 409, "PRESENCE_DISABLED"},
		{"token without secret", "POST", "/api/token", `{"sub":"alice"}`, 409, codeAuthDisabled},
		{"events max not a number", "GET", "/api/events?max=many", nil, 400, codeInvalidField},
		{"events max zero", "GET", "/api/events?max=0", nil, 400, codeInvalidField},
		{"events timeout too long", "GET", "/api/events?timeout_ms=3600000", nil, 400, codeInvalidField},
		{"topic invalid", "GET", "/api/topics/a%7Fb", nil, 400, "INVALID_TOPIC"},
		{"wrong method", "GET", "/api/publish", nil, 405, "METHOD_NOT_ALLOWED"},
		{"wrong method on read", "POST", "/api/connections", `{}`, 405, "METHOD_NOT_ALLOWED"},
		{"unknown path", "GET", "/api/nothing", nil, 404, "NOT_FOUND"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := call(t, srv, tc.method, tc.path, tc.body, "")
			if status != tc.status || errorCode(body) != tc.code {
				t.Fatalf("%s %s = %d %v, want %d %s", tc.method, tc.path, status, body, tc.status, tc.code)
			}
			if e, _ := body["error"].(map[string]any); e["message"] == "" {
				t.Fatalf("error without message: %v", body)
			}
		})
	}
}

func TestAPISendBroadcastAllConnectionsAndDisconnect(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	c := dial(t, srv, nil)
	id := c.connID()

	if status, body := call(t, srv, "POST", "/api/send", map[string]any{"conn_id": id, "data": map[string]any{"t": "direct"}}, ""); status != 200 || body["ok"] != true {
		t.Fatalf("send = %d %v", status, body)
	}
	c.readUntil(func(m map[string]any) bool { return m["t"] == "direct" })

	if status, body := call(t, srv, "POST", "/api/broadcast_all", map[string]any{"data": map[string]any{"t": "everyone"}}, ""); status != 200 || body["delivered"] != 1.0 {
		t.Fatalf("broadcast_all = %d %v", status, body)
	}
	c.readUntil(func(m map[string]any) bool { return m["t"] == "everyone" && m["c"] == "U" })

	status, body := call(t, srv, "GET", "/api/connections", nil, "")
	list, _ := body["connections"].([]any)
	if status != 200 || body["count"] != 1.0 || len(list) != 1 || list[0] != id {
		t.Fatalf("connections = %d %v", status, body)
	}

	if status, body := call(t, srv, "POST", "/api/disconnect", map[string]any{"conn_id": id, "code": 4403, "reason": "bye"}, ""); status != 200 {
		t.Fatalf("disconnect = %d %v", status, body)
	}
	if code := c.closeCode(); code != 4403 {
		t.Fatalf("close code = %d, want 4403", code)
	}
	waitFor(t, "connection list to empty", func() bool {
		_, body := call(t, srv, "GET", "/api/connections", nil, "")
		return body["count"] == 0.0
	})
}

func TestAPIUnsubscribeSomeOrAllTopics(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	id := dial(t, srv, nil).connID()
	eng := srv.Engine()
	if status, body := call(t, srv, "POST", "/api/subscribe", map[string]any{"conn_id": id, "topics": []string{"a", "b", "c"}}, ""); status != 200 {
		t.Fatalf("subscribe = %d %v", status, body)
	}
	if status, body := call(t, srv, "POST", "/api/unsubscribe", map[string]any{"conn_id": id, "topics": []string{"a"}}, ""); status != 200 {
		t.Fatalf("unsubscribe a = %d %v", status, body)
	}
	if a, b := eng.TopicSubscriberCount("a"), eng.TopicSubscriberCount("b"); a != 0 || b != 1 {
		t.Fatalf("after unsubscribe a: a=%d b=%d", a, b)
	}
	if status, body := call(t, srv, "POST", "/api/unsubscribe", map[string]any{"conn_id": id, "topics": []string{}}, ""); status != 200 || eng.TopicSubscriberCount("b") != 1 {
		t.Fatalf("unsubscribe [] = %d %v, b=%d", status, body, eng.TopicSubscriberCount("b"))
	}
	if status, body := call(t, srv, "POST", "/api/unsubscribe", map[string]any{"conn_id": id}, ""); status != 200 {
		t.Fatalf("unsubscribe all = %d %v", status, body)
	}
	if b, c := eng.TopicSubscriberCount("b"), eng.TopicSubscriberCount("c"); b != 0 || c != 0 {
		t.Fatalf("after unsubscribe all: b=%d c=%d", b, c)
	}
}

func TestAPITokenMintsUsableTokens(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.JWTSecret = testSecret; c.JWTIssuer = "wse-test" })
	tok := mint(t, srv, "alice")
	c := dial(t, srv, bearer(tok))
	p, _ := c.ready["p"].(map[string]any)
	d, _ := p["details"].(map[string]any)
	if d["user_id"] != "alice" {
		t.Fatalf("server_ready user_id = %v, want alice", d["user_id"])
	}
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"missing sub", `{"ttl_s":60}`, 400},
		{"negative ttl", `{"sub":"a","ttl_s":-1}`, 400},
		{"ttl too long", `{"sub":"a","ttl_s":1e12}`, 400},
		{"claims not an object", `{"sub":"a","claims":[1]}`, 400},
		{"with claims and ttl", `{"sub":"bob","ttl_s":60,"claims":{"role":"admin"}}`, 200},
	}
	for _, tc := range tests {
		if status, body := call(t, srv, "POST", "/api/token", tc.body, ""); status != tc.status {
			t.Errorf("%s: token = %d %v, want %d", tc.name, status, body, tc.status)
		}
	}
}

func TestSubscribeOnConnectExpandsUserID(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) {
		c.JWTSecret = testSecret
		c.SubscribeOnConnect = []string{"user:{user_id}", "news"}
	})
	c := dial(t, srv, bearer(mint(t, srv, "bob")))
	eng := srv.Engine()
	waitFor(t, "on-connect subscriptions", func() bool {
		return eng.TopicSubscriberCount("user:bob") == 1 && eng.TopicSubscriberCount("news") == 1
	})
	if status, body := call(t, srv, "POST", "/api/publish", map[string]any{"topic": "user:bob", "data": map[string]any{"t": "dm"}}, ""); status != 200 {
		t.Fatalf("publish = %d %v", status, body)
	}
	c.readUntil(func(m map[string]any) bool { return m["t"] == "dm" })
}

func TestSubscribeOnConnectSkipsUserTemplatesWithoutAuth(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.SubscribeOnConnect = []string{"user:{user_id}", "news"} })
	dial(t, srv, nil)
	eng := srv.Engine()
	waitFor(t, "news subscription", func() bool { return eng.TopicSubscriberCount("news") == 1 })
	if topics := eng.Topics(); len(topics) != 1 {
		t.Fatalf("topics = %v, want only news", topics)
	}
}

func TestEventsLongPollDeliversConnectMsgDisconnectInOrder(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.EventsBufferBeforePoll = true })
	c := dial(t, srv, http.Header{"Cookie": {"theme=dark"}})
	id := c.connID()
	c.send(map[string]any{"t": "chat", "p": map[string]any{"text": "hi"}})
	if err := wsutil.WriteClientText(c.conn, []byte("plain words")); err != nil {
		t.Fatal(err)
	}
	if err := wsutil.WriteClientBinary(c.conn, []byte{0xff, 0x00, 0x01}); err != nil {
		t.Fatal(err)
	}
	_ = c.conn.Close()

	events := pollEvents(t, srv, "", id, 5)
	wantTypes := []string{"connect", "msg", "raw", "bin", "disconnect"}
	for i, ev := range events[:5] {
		if ev["type"] != wantTypes[i] {
			t.Fatalf("event %d type = %v, want %s (all: %v)", i, ev["type"], wantTypes[i], events)
		}
	}
	if events[0]["data"] != "theme=dark" {
		t.Errorf("connect data = %v, want the Cookie header", events[0]["data"])
	}
	msg, _ := events[1]["data"].(map[string]any)
	if msg["t"] != "chat" {
		t.Errorf("msg data = %v, want the message object", events[1]["data"])
	}
	if events[2]["data"] != "plain words" {
		t.Errorf("raw data = %v", events[2]["data"])
	}
	if events[3]["data"] != "/wAB" {
		t.Errorf("bin data = %v, want base64 /wAB", events[3]["data"])
	}
	if v, ok := events[4]["data"]; !ok || v != nil {
		t.Errorf("disconnect data = %v (present %v), want null", v, ok)
	}
}

func TestEventsLongPollReturnsEmptyAfterTimeout(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	status, body := call(t, srv, "GET", "/api/events?timeout_ms=100", nil, "")
	list, ok := body["events"].([]any)
	if status != 200 || !ok || len(list) != 0 {
		t.Fatalf("events = %d %v, want an empty list", status, body)
	}
}

func TestUnreadEventsAreDiscardedWithoutEngineDrops(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.EventsBufferSize = 2; c.EventsBufferBeforePoll = true })
	c := dial(t, srv, nil)
	for i := range 20 {
		c.send(map[string]any{"t": "spam", "p": map[string]any{"i": i}})
	}
	waitFor(t, "discards", func() bool { return srv.events.discarded.Load() >= 19 })
	if d := srv.Engine().InboundDropped(); d != 0 {
		t.Fatalf("engine inbound_dropped = %d, want 0", d)
	}
	events := srv.events.wait(context.Background(), 10, 0)
	if len(events) != 2 {
		t.Fatalf("buffer holds %d events, want 2", len(events))
	}
	last, _ := events[1].Data.(map[string]any)
	p, _ := last["p"].(map[string]any)
	if n, _ := p["i"].(float64); n != 19 {
		t.Fatalf("newest event = %v, want i=19 (oldest are discarded)", events[1])
	}
}

func TestEventBufferKeepsNewestAndServesEachOnce(t *testing.T) {
	t.Parallel()
	b := newEventBuffer(3, 1<<20, true)
	for i := range 5 {
		b.push(APIEvent{Type: "msg", ConnID: string(rune('a' + i))}, 100)
	}
	if b.discarded.Load() != 2 || b.len() != 3 {
		t.Fatalf("discarded %d, len %d; want 2 and 3", b.discarded.Load(), b.len())
	}
	got := b.wait(context.Background(), 2, 0)
	if len(got) != 2 || got[0].ConnID != "c" || got[1].ConnID != "d" {
		t.Fatalf("first wait = %v, want c, d", got)
	}
	got = b.wait(context.Background(), 10, 0)
	if len(got) != 1 || got[0].ConnID != "e" {
		t.Fatalf("second wait = %v, want e", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := b.wait(ctx, 10, time.Minute); len(got) != 0 {
		t.Fatalf("cancelled wait = %v, want none", got)
	}
	done := make(chan []APIEvent)
	go func() { done <- b.wait(context.Background(), 10, waitTimeout) }()
	b.push(APIEvent{Type: "late"}, 100)
	select {
	case got := <-done:
		if len(got) != 1 || got[0].Type != "late" {
			t.Fatalf("waiting reader got %v, want the late event", got)
		}
	case <-time.After(waitTimeout):
		t.Fatal("waiting reader not woken by push")
	}
}

func TestAPIPresenceQueriesAndUpdate(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.JWTSecret = testSecret; c.Presence = true })
	c := dial(t, srv, bearer(mint(t, srv, "alice")))
	id := c.connID()
	if status, body := call(t, srv, "POST", "/api/subscribe", map[string]any{"conn_id": id, "topics": []string{"room"}, "presence": map[string]any{"status": "here"}}, ""); status != 200 {
		t.Fatalf("subscribe with presence = %d %v", status, body)
	}
	c.readUntil(func(m map[string]any) bool { return m["t"] == "presence_join" })
	status, body := call(t, srv, "GET", "/api/presence/room", nil, "")
	members, _ := body["members"].(map[string]any)
	alice, _ := members["alice"].(map[string]any)
	data, _ := alice["data"].(map[string]any)
	if status != 200 || data["status"] != "here" || alice["connections"] != 1.0 {
		t.Fatalf("presence = %d %v", status, body)
	}
	if status, body := call(t, srv, "GET", "/api/presence/room/stats", nil, ""); status != 200 || body["num_users"] != 1.0 || body["num_connections"] != 1.0 {
		t.Fatalf("presence stats = %d %v", status, body)
	}
	if status, body := call(t, srv, "POST", "/api/presence/update", map[string]any{"conn_id": id, "data": map[string]any{"status": "away"}}, ""); status != 200 {
		t.Fatalf("presence update = %d %v", status, body)
	}
	c.readUntil(func(m map[string]any) bool { return m["t"] == "presence_update" })
	_, body = call(t, srv, "GET", "/api/presence/room", nil, "")
	members, _ = body["members"].(map[string]any)
	alice, _ = members["alice"].(map[string]any)
	if data, _ := alice["data"].(map[string]any); data["status"] != "away" {
		t.Fatalf("presence after update = %v", body)
	}
	tests := []struct {
		name   string
		path   string
		body   any
		status int
		code   string
	}{
		{"too large", "/api/subscribe", map[string]any{"conn_id": id, "topics": []string{"big"}, "presence": map[string]any{"x": strings.Repeat("x", 5000)}}, 413, codePresenceTooLarge},
		{"no presence yet", "/api/presence/update", map[string]any{"conn_id": dial(t, srv, bearer(mint(t, srv, "carol"))).connID(), "data": map[string]any{}}, 409, codeNoPresence},
		{"unknown connection", "/api/presence/update", map[string]any{"conn_id": "nope", "data": map[string]any{}}, 404, codeUnknownConn},
	}
	for _, tc := range tests {
		if status, body := call(t, srv, "POST", tc.path, tc.body, ""); status != tc.status || errorCode(body) != tc.code {
			t.Errorf("%s: %d %v, want %d %s", tc.name, status, body, tc.status, tc.code)
		}
	}
}

func TestAPISubscribeWithRecoveryReplaysMissedMessages(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.Recovery = true })
	first := dial(t, srv, nil)
	if status, body := call(t, srv, "POST", "/api/subscribe", map[string]any{"conn_id": first.connID(), "topics": []string{"feed"}}, ""); status != 200 {
		t.Fatalf("subscribe = %d %v", status, body)
	}
	if status, body := call(t, srv, "POST", "/api/publish", map[string]any{"topic": "feed", "data": map[string]any{"t": "warmup"}}, ""); status != 200 {
		t.Fatalf("publish = %d %v", status, body)
	}
	// Recovering without a position reports the current one.
	status, body := call(t, srv, "POST", "/api/subscribe", map[string]any{"conn_id": first.connID(), "topics": []string{"feed"}, "recover": true}, "")
	rec, _ := body["recovery"].(map[string]any)
	feed, _ := rec["feed"].(map[string]any)
	epoch, _ := feed["epoch"].(string)
	if status != 200 || epoch == "" {
		t.Fatalf("recover without position = %d %v", status, body)
	}
	offset := feed["offset"]
	for i := range 3 {
		if status, body := call(t, srv, "POST", "/api/publish", map[string]any{"topic": "feed", "data": map[string]any{"t": "item", "p": map[string]any{"i": i}}}, ""); status != 200 {
			t.Fatalf("publish = %d %v", status, body)
		}
	}
	second := dial(t, srv, nil)
	status, body = call(t, srv, "POST", "/api/subscribe", map[string]any{"conn_id": second.connID(), "topics": []string{"feed"}, "recover": true, "epoch": epoch, "offset": offset}, "")
	rec, _ = body["recovery"].(map[string]any)
	feed, _ = rec["feed"].(map[string]any)
	if status != 200 || feed["recovered"] != true || feed["count"] != 3.0 {
		t.Fatalf("recover from %s/%v = %d %v", epoch, offset, status, body)
	}
	for i := range 3 {
		second.readUntil(func(m map[string]any) bool {
			p, _ := m["p"].(map[string]any)
			return m["t"] == "item" && p["i"] == float64(i)
		})
	}
}

func TestAPIKeyGuardsEveryEndpoint(t *testing.T) {
	t.Parallel()
	const key = "s3cret-key"
	srv := startServer(t, func(c *Config) { c.APIKey = key })
	tests := []struct {
		name, key string
		status    int
	}{
		{"missing", "", 401},
		{"wrong", "wrong-key", 401},
		{"prefix of the key", "s3cret", 401},
		{"right", key, 200},
	}
	for _, tc := range tests {
		for _, path := range []string{"/health", "/api/connections", "/api/events"} {
			status, body := call(t, srv, "GET", path, nil, tc.key)
			if status != tc.status || (status == 401 && errorCode(body) != codeUnauthorized) {
				t.Errorf("%s key on %s: %d %v, want %d", tc.name, path, status, body, tc.status)
			}
		}
	}
	req, _ := http.NewRequest("GET", "http://"+srv.APIAddr()+"/metrics", nil)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("/metrics without key = %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

func TestNewRefusesNonLoopbackAPIWithoutKey(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Port = 0
	cfg.APIAddr = "0.0.0.0:0"
	_, err := New(cfg, nil)
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "--api-key") {
		t.Fatalf("New = %v, want ErrInvalidConfig naming --api-key", err)
	}
}

func TestMetricsEndpointExportsPrometheusText(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	c := dial(t, srv, nil)
	c.send(map[string]any{"t": "hello"})
	waitFor(t, "message counted", func() bool { return srv.Engine().Metrics().MessagesReceived >= 1 })
	resp, err := httpClient.Get("http://" + srv.APIAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(text)))
	if err != nil {
		t.Fatalf("metrics do not parse: %v\n%s", err, text)
	}
	series := []string{"wse_connections", "wse_inbound_queue_depth", "wse_uptime_seconds", "wse_topics",
		"wse_presence_topics", "wse_presence_users", "wse_recovery_topics", "wse_recovery_bytes",
		"wse_messages_received_total", "wse_messages_sent_total", "wse_bytes_received_total", "wse_bytes_sent_total",
		"wse_connections_accepted_total", "wse_connections_rejected_total", "wse_auth_failures_total",
		"wse_rate_limited_total", "wse_inbound_dropped_total", "wse_slow_consumer_drops_total",
		"wse_slow_consumer_closes_total", "wse_api_events_discarded_total", "wse_api_events_buffered"}
	for _, name := range series {
		if _, ok := fams[name]; !ok {
			t.Errorf("series %s missing", name)
		}
	}
	if v := fams["wse_connections"].GetMetric()[0].GetGauge().GetValue(); v != 1 {
		t.Errorf("wse_connections = %v, want 1", v)
	}
	if v := fams["wse_messages_received_total"].GetMetric()[0].GetCounter().GetValue(); v < 1 {
		t.Errorf("wse_messages_received_total = %v, want >= 1", v)
	}
}

func TestShutdownDrainsClientsWith4300(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	clients := []*wsClient{dial(t, srv, nil), dial(t, srv, nil)}
	apiAddr := srv.APIAddr()
	left := make(chan int, 1)
	go func() { left <- srv.Shutdown(5 * time.Second) }()
	for i, c := range clients {
		if code := c.closeCode(); code != DrainCode {
			t.Errorf("client %d close code = %d, want %d", i, code, DrainCode)
		}
	}
	select {
	case n := <-left:
		if n != 0 {
			t.Errorf("Shutdown left %d connections", n)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Shutdown did not return")
	}
	if conn, err := net.DialTimeout("tcp", apiAddr, time.Second); err == nil {
		conn.Close()
		t.Error("control API still accepting after Shutdown")
	}
	if n := srv.Shutdown(time.Second); n != 0 {
		t.Errorf("second Shutdown = %d", n)
	}
	srv.Close()
}

func TestDemoPageIsServedAtRoot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		demo   bool
		path   string
		status int
	}{
		{"page", true, "/", 200},
		{"other path", true, "/favicon.ico", 404},
		{"disabled", false, "/", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, func(c *Config) { c.Demo = tc.demo; c.Path = "/ws" })
			resp, err := httpClient.Get("http://" + srv.Addr() + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("GET %s = %d", tc.path, resp.StatusCode)
			}
			if tc.status == 200 {
				for _, want := range []string{`data-ws-path="/ws"`, `src="/assets/chat.js"`} {
					if !strings.Contains(string(body), want) {
						t.Errorf("demo page lacks %q", want)
					}
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
					t.Errorf("Content-Type = %q", ct)
				}
			}
		})
	}
}

func TestStartFailsOnBusyPortAndTwice(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := DefaultConfig()
	cfg.Port = 0
	cfg.APIAddr = ln.Addr().String()
	srv, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Start(); err == nil {
		t.Fatal("Start on a busy API port succeeded")
	}
	started := startServer(t, nil)
	if err := started.Start(); !errors.Is(err, ErrAlreadyStarted) {
		t.Fatalf("second Start = %v, want ErrAlreadyStarted", err)
	}
}

func TestPprofIsServedOnlyWhenEnabled(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.Port, cfg.APIAddr, cfg.Pprof = 0, "127.0.0.1:0", on
		srv, err := New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get("http://" + srv.APIAddr() + "/debug/pprof/heap?debug=1")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		srv.Close()
		if want := map[bool]int{false: 404, true: 200}[on]; resp.StatusCode != want {
			t.Fatalf("pprof %v: status %d, want %d", on, resp.StatusCode, want)
		}
	}
}
