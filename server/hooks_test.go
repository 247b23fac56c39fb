package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wse-go/wse/hooks"
)

// hookSecret signs the hook requests of these tests.
const hookSecret = "test-hook-secret-0123456789"

// backend is a real HTTP backend for the hooks: it checks every request's
// signature (401 when it does not verify), records the bodies by hook and
// answers with answer.
type backend struct {
	t      *testing.T
	url    string
	answer func(hook string, body map[string]any, r *http.Request) (int, any)

	// mu guards calls.
	mu    sync.Mutex
	calls map[string][]map[string]any
}

// startBackend starts a backend on loopback, closed when the test ends.
func startBackend(t *testing.T, answer func(hook string, body map[string]any, r *http.Request) (int, any)) *backend {
	t.Helper()
	b := &backend{t: t, answer: answer, calls: map[string][]map[string]any{}}
	srv := httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(srv.Close)
	b.url = srv.URL
	return b
}

func (b *backend) serve(w http.ResponseWriter, r *http.Request) {
	raw, err := hooks.VerifyRequest(r, []byte(hookSecret), 0, 1<<20)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	hook := r.Header.Get(hooks.HeaderHook)
	b.mu.Lock()
	b.calls[hook] = append(b.calls[hook], body)
	b.mu.Unlock()
	status, resp := b.answer(hook, body, r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

// count returns the number of verified calls of hook.
func (b *backend) count(hook string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.calls[hook])
}

// last returns the last verified body of hook.
func (b *backend) last(hook string) map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	list := b.calls[hook]
	if len(list) == 0 {
		b.t.Fatalf("no %s call", hook)
	}
	return list[len(list)-1]
}

// expectRefusal reads the error frame and the close of a refused connection.
func expectRefusal(t *testing.T, c *wsClient, code string, closeCode int) {
	t.Helper()
	m := c.readUntil(func(m map[string]any) bool { return m["t"] == "error" })
	if p, _ := m["p"].(map[string]any); p["code"] != code {
		t.Errorf("error frame %v, want code %s", m, code)
	}
	if got := c.closeCode(); got != closeCode {
		t.Errorf("close code %d, want %d", got, closeCode)
	}
}

// metricValue reads one series of /metrics ("name{labels}" as printed).
func metricValue(t *testing.T, srv *Server, series string) float64 {
	t.Helper()
	resp, err := httpClient.Get("http://" + srv.APIAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// cookieSessions maps a session cookie to a user, as a cookie-session app does.
func cookieSessions(hook string, body map[string]any, _ *http.Request) (int, any) {
	if hook != "connect" {
		return 404, map[string]any{}
	}
	cookies, _ := body["cookies"].(map[string]any)
	switch cookies["session"] {
	case "good":
		return 200, map[string]any{
			"allow": true, "user_id": "u1", "topics": []string{"news"},
			"acl": map[string]any{"allow": []string{"room:*"}},
		}
	case "slow":
		time.Sleep(2 * time.Second)
	case "broken":
		return 500, map[string]any{"detail": "database down"}
	}
	return 200, map[string]any{"allow": false, "code": 4403, "reason": "no session"}
}

func TestConnectHookAllowsCookieSessionWithUserTopicsAndACL(t *testing.T) {
	t.Parallel()
	b := startBackend(t, cookieSessions)
	srv := startServer(t, func(c *Config) {
		c.EventsBufferBeforePoll = true // the tests read events from the first connection on
		c.HookSecret = hookSecret
		c.HookConnectURL = b.url
	})
	c := dial(t, srv, http.Header{"Cookie": {"session=good; theme=dark"}, "X-Tenant": {"acme"}})
	details := c.ready["p"].(map[string]any)["details"].(map[string]any)
	if details["user_id"] != "u1" {
		t.Fatalf("server_ready user_id = %v, want u1", details["user_id"])
	}
	req := b.last("connect")
	if req["conn_id"] != c.connID() || req["headers"].(map[string]any)["X-Tenant"] != "acme" ||
		req["cookies"].(map[string]any)["theme"] != "dark" || req["path"] != "/wse" {
		t.Errorf("connect request = %v", req)
	}
	// The initial topic is subscribed before the client could ask.
	waitFor(t, "news subscriber", func() bool { return srv.Engine().TopicSubscriberCount("news") == 1 })
	if status, body := call(t, srv, "POST", "/api/publish", map[string]any{"topic": "news", "data": map[string]any{"t": "headline"}}, ""); status != 200 {
		t.Fatalf("publish = %d %v", status, body)
	}
	c.readUntil(func(m map[string]any) bool { return m["t"] == "headline" })
	// The ACL from the hook grants room:* to the client's own request.
	c.send(map[string]any{"t": "subscription_update", "p": map[string]any{"action": "subscribe", "topics": []string{"room:1", "admin"}}})
	reply := c.readUntil(func(m map[string]any) bool { return m["t"] == "subscription_update" })
	p := reply["p"].(map[string]any)
	if fmt.Sprint(p["success_topics"]) != "[room:1]" || !strings.Contains(fmt.Sprint(p["failed_topics"]), "admin") {
		t.Errorf("subscription reply = %v", p)
	}
	ev := pollEvents(t, srv, "", c.connID(), 1)
	if ev[0]["type"] != "auth_connect" || ev[0]["data"] != "u1" {
		t.Errorf("connect event = %v, want auth_connect of u1", ev[0])
	}
}

func TestConnectHookDenialsAndFailures(t *testing.T) {
	t.Parallel()
	b := startBackend(t, cookieSessions)
	for _, tc := range []struct {
		name      string
		cookie    string
		secret    string
		onFailure string
		code      string
		close     int
	}{
		{"deny", "session=none", hookSecret, "deny", "FORBIDDEN", 4403},
		{"timeout", "session=slow", hookSecret, "deny", hooks.CodeBackendUnavailable, hooks.CloseBackendUnavailable},
		{"500", "session=broken", hookSecret, "deny", hooks.CodeBackendUnavailable, hooks.CloseBackendUnavailable},
		{"wrong signature", "session=good", "another-secret-0123456789", "deny", hooks.CodeBackendUnavailable, hooks.CloseBackendUnavailable},
		{"500 with allow policy", "session=broken", hookSecret, "allow", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, func(c *Config) {
				c.EventsBufferBeforePoll = true // the tests read events from the first connection on
				c.HookSecret = tc.secret
				c.HookConnectURL = b.url
				c.HookConnectOnFailure = tc.onFailure
				c.HookTimeout = 500 * time.Millisecond
			})
			if tc.close == 0 {
				c := dial(t, srv, http.Header{"Cookie": {tc.cookie}})
				if d := c.ready["p"].(map[string]any)["details"].(map[string]any); d["user_id"] != nil && d["user_id"] != "" {
					t.Errorf("allowed on failure with user %v, want anonymous", d["user_id"])
				}
				return
			}
			expectRefusal(t, dialRaw(t, srv, http.Header{"Cookie": {tc.cookie}}), tc.code, tc.close)
			if tc.code == hooks.CodeBackendUnavailable {
				waitFor(t, "error metric", func() bool { return metricValue(t, srv, `wse_hook_calls_total{hook="connect"}`) >= 1 })
			}
		})
	}
}

func TestSubscribeHookGrantsRefusesCachesAndFailsClosed(t *testing.T) {
	t.Parallel()
	var broken sync.Map
	b := startBackend(t, func(hook string, body map[string]any, _ *http.Request) (int, any) {
		if _, ok := broken.Load("yes"); ok {
			return 500, map[string]any{}
		}
		var granted []string
		for _, tp := range body["topics"].([]any) {
			if strings.HasPrefix(tp.(string), "ok:") {
				granted = append(granted, tp.(string))
			}
		}
		return 200, map[string]any{"granted": granted}
	})
	srv := startServer(t, func(c *Config) {
		c.EventsBufferBeforePoll = true // the tests read events from the first connection on
		c.HookSecret = hookSecret
		c.HookSubscribeURL = b.url
		c.ClientTopics = []string{"public:*"}
	})
	c := dial(t, srv, nil)
	subscribe := func(topics ...string) map[string]any {
		c.send(map[string]any{"t": "subscription_update", "p": map[string]any{"action": "subscribe", "topics": topics}})
		return c.readUntil(func(m map[string]any) bool { return m["t"] == "subscription_update" })["p"].(map[string]any)
	}
	p := subscribe("public:a", "ok:1", "no:1")
	if fmt.Sprint(p["success_topics"]) != "[public:a ok:1]" || fmt.Sprint(p["failed_codes"]) != "map[no:1:FORBIDDEN]" {
		t.Fatalf("reply = %v", p)
	}
	if got := b.last("subscribe")["topics"]; fmt.Sprint(got) != "[ok:1 no:1]" {
		t.Errorf("hook asked for %v, want only the topics the ACL refused", got)
	}
	// Cached: the same topics are answered without the backend, even when
	// it is down.
	broken.Store("yes", true)
	p = subscribe("ok:1", "no:1")
	if fmt.Sprint(p["success_topics"]) != "[ok:1]" || b.count("subscribe") != 1 {
		t.Errorf("cached reply = %v after %d calls", p, b.count("subscribe"))
	}
	// A new topic needs the backend, which fails: refused (deny policy).
	p = subscribe("ok:2")
	if fmt.Sprint(p["success_topics"]) != "[]" || fmt.Sprint(p["failed_codes"]) != "map[ok:2:FORBIDDEN]" {
		t.Errorf("reply with the backend down = %v", p)
	}
	waitFor(t, "error metric", func() bool {
		return metricValue(t, srv, `wse_hook_errors_total{hook="subscribe",reason="backend"}`) == 1
	})
}

func TestPublishAndRPCHooks(t *testing.T) {
	t.Parallel()
	b := startBackend(t, func(hook string, body map[string]any, r *http.Request) (int, any) {
		msg := body["message"].(map[string]any)
		p, _ := msg["p"].(map[string]any)
		switch {
		case hook == "publish" && p["text"] == "bad":
			return 200, map[string]any{"error": map[string]any{"code": "MODERATED", "message": "not allowed"}}
		case hook == "publish":
			return 200, map[string]any{"topic": "room", "data": map[string]any{"t": "chat", "p": map[string]any{"text": strings.ToUpper(p["text"].(string)), "from": body["user_id"]}}}
		case p["op"] == "hang":
			<-r.Context().Done()
			return 500, nil
		}
		return 200, map[string]any{"reply": map[string]any{"p": map[string]any{"id": p["id"], "sum": p["a"].(float64) + p["b"].(float64)}}}
	})
	srv := startServer(t, func(c *Config) {
		c.EventsBufferBeforePoll = true // the tests read events from the first connection on
		c.HookSecret = hookSecret
		c.HookPublishURL = b.url
		c.HookPublishTypes = []string{"chat_send"}
		c.HookRPCURL = b.url
		c.HookRPCTypes = []string{"add"}
		c.HookTimeout = 500 * time.Millisecond
	})
	sender, listener := dial(t, srv, nil), dial(t, srv, nil)
	if status, body := call(t, srv, "POST", "/api/subscribe", map[string]any{"conn_id": listener.connID(), "topics": []string{"room"}}, ""); status != 200 {
		t.Fatalf("subscribe = %d %v", status, body)
	}
	sender.send(map[string]any{"t": "chat_send", "p": map[string]any{"text": "hello"}})
	got := listener.readUntil(func(m map[string]any) bool { return m["t"] == "chat" })
	if p := got["p"].(map[string]any); p["text"] != "HELLO" {
		t.Errorf("published %v", got)
	}
	sender.send(map[string]any{"t": "chat_send", "p": map[string]any{"text": "bad"}})
	e := sender.readUntil(func(m map[string]any) bool { return m["t"] == "error" })
	if e["p"].(map[string]any)["code"] != "MODERATED" {
		t.Errorf("refusal = %v", e)
	}
	sender.send(map[string]any{"t": "add", "p": map[string]any{"id": "r1", "a": 2, "b": 3}})
	r := sender.readUntil(func(m map[string]any) bool { return m["t"] == "add_result" })
	if p := r["p"].(map[string]any); p["id"] != "r1" || p["sum"] != 5.0 {
		t.Errorf("rpc reply = %v", r)
	}
	sender.send(map[string]any{"t": "add", "p": map[string]any{"op": "hang"}})
	e = sender.readUntil(func(m map[string]any) bool { return m["t"] == "error" })
	if e["p"].(map[string]any)["code"] != hooks.CodeBackendUnavailable {
		t.Errorf("rpc timeout = %v", e)
	}
	// Hooked types never reach /api/events; other messages still do.
	sender.send(map[string]any{"t": "other"})
	evs := pollEvents(t, srv, "", sender.connID(), 2)
	if evs[1]["type"] != "msg" || evs[1]["data"].(map[string]any)["t"] != "other" {
		t.Errorf("events = %v", evs)
	}
}

func TestDisconnectAndPresenceLeaveWebhooksWaitForTheGracePeriod(t *testing.T) {
	t.Parallel()
	b := startBackend(t, func(hook string, body map[string]any, _ *http.Request) (int, any) {
		if hook == "connect" {
			return 200, map[string]any{"allow": true, "user_id": "ann", "topics": []string{"room"}, "presence": map[string]any{"name": "Ann"}}
		}
		return 204, nil
	})
	srv := startServer(t, func(c *Config) {
		c.EventsBufferBeforePoll = true // the tests read events from the first connection on
		c.HookSecret = hookSecret
		c.HookConnectURL = b.url
		c.HookDisconnectURL = b.url
		c.HookPresenceLeaveURL = b.url
		c.HookGrace = 4 * time.Second
		c.Presence = true
	})
	// A page reload: the connection closes and the user is back within the
	// grace period. Neither webhook is sent; both are cancelled.
	first := dial(t, srv, nil)
	_ = first.conn.Close()
	waitFor(t, "first connection gone", func() bool { return srv.Engine().ConnectionCount() == 0 })
	second := dial(t, srv, nil)
	waitFor(t, "both webhooks cancelled", func() bool {
		return metricValue(t, srv, `wse_hook_webhooks_total{hook="disconnect",outcome="cancelled"}`) == 1 &&
			metricValue(t, srv, `wse_hook_webhooks_total{hook="presence_leave",outcome="cancelled"}`) == 1
	})
	// A real leave: one webhook of each after the grace period.
	_ = second.conn.Close()
	waitFor(t, "both webhooks sent", func() bool { return b.count("disconnect") == 1 && b.count("presence_leave") == 1 })
	d := b.last("disconnect")
	if d["user_id"] != "ann" || d["conn_id"] != second.connID() || d["event"] != "disconnect" {
		t.Errorf("disconnect webhook = %v", d)
	}
	p := b.last("presence_leave")
	if p["user_id"] != "ann" || p["topic"] != "room" || p["data"].(map[string]any)["name"] != "Ann" {
		t.Errorf("presence_leave webhook = %v", p)
	}
	if b.count("disconnect") != 1 || b.count("presence_leave") != 1 {
		t.Errorf("webhooks sent: %d disconnect, %d presence_leave; want one each", b.count("disconnect"), b.count("presence_leave"))
	}
}

func TestWebhookRetriesUntilTheBackendAnswers(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	attempts := 0
	b := startBackend(t, func(hook string, body map[string]any, _ *http.Request) (int, any) {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if attempts < 3 {
			return 503, map[string]any{}
		}
		return 200, map[string]any{}
	})
	srv := startServer(t, func(c *Config) {
		c.EventsBufferBeforePoll = true // the tests read events from the first connection on
		c.HookSecret = hookSecret
		c.HookDisconnectURL = b.url
		c.HookGrace = 0
	})
	c := dial(t, srv, nil)
	id := c.connID()
	_ = c.conn.Close()
	waitFor(t, "webhook sent", func() bool {
		return metricValue(t, srv, `wse_hook_webhooks_total{hook="disconnect",outcome="sent"}`) == 1
	})
	if b.count("disconnect") != 3 || b.last("disconnect")["conn_id"] != id {
		t.Errorf("%d attempts, last %v; want 3 for %s", b.count("disconnect"), b.last("disconnect"), id)
	}
}

func TestDeadBackendDoesNotStopOtherTraffic(t *testing.T) {
	t.Parallel()
	const clients = 1000
	// The backend accepts every call and never answers.
	b := startBackend(t, func(hook string, body map[string]any, r *http.Request) (int, any) {
		<-r.Context().Done()
		return 500, nil
	})
	srv := startServer(t, func(c *Config) {
		c.EventsBufferBeforePoll = true // the tests read events from the first connection on
		c.HookSecret = hookSecret
		c.HookSubscribeURL = b.url
		c.HookRPCURL = b.url
		c.HookRPCTypes = []string{"slow_rpc"}
		c.HookTimeout = time.Minute
		c.SubscribeOnConnect = []string{"all"}
	})
	conns := make([]*wsClient, clients)
	for i := range conns {
		conns[i] = dial(t, srv, nil)
		// Both hooks hang for this connection ...
		conns[i].send(map[string]any{"t": "slow_rpc", "p": map[string]any{}})
		conns[i].send(map[string]any{"t": "subscription_update", "p": map[string]any{"action": "subscribe", "topics": []string{fmt.Sprintf("private:%d", i)}}})
	}
	waitFor(t, "backend saturated", func() bool {
		return b.count("rpc") >= hooks.DefaultConcurrency && b.count("subscribe") >= hooks.DefaultConcurrency
	})
	waitFor(t, "every client subscribed", func() bool { return srv.Engine().TopicSubscriberCount("all") == clients })
	// ... while everything else flows: publications, pings, and messages
	// to the application.
	if status, body := call(t, srv, "POST", "/api/publish", map[string]any{"topic": "all", "data": map[string]any{"t": "tick"}}, ""); status != 200 || body["delivered"] != float64(clients) {
		t.Fatalf("publish = %d %v", status, body)
	}
	for i, c := range conns {
		c.readUntil(func(m map[string]any) bool { return m["t"] == "tick" })
		c.send(map[string]any{"t": "ping", "p": map[string]any{"timestamp": i}})
		c.send(map[string]any{"t": "note"})
	}
	for _, c := range conns {
		c.readUntil(func(m map[string]any) bool { return m["t"] == "PONG" })
	}
	notes := 0
	deadline := time.Now().Add(waitTimeout)
	for notes < clients && time.Now().Before(deadline) {
		_, body := call(t, srv, "GET", "/api/events?max=10000&timeout_ms=200", nil, "")
		for _, e := range body["events"].([]any) {
			ev := e.(map[string]any)
			if m, ok := ev["data"].(map[string]any); ok && ev["type"] == "msg" && m["t"] == "note" {
				notes++
			}
		}
	}
	if notes != clients {
		t.Errorf("%d note messages reached the application, want %d", notes, clients)
	}
}

func TestConnectHookOnlyDecidesUpgradesWithoutAToken(t *testing.T) {
	t.Parallel()
	b := startBackend(t, cookieSessions)
	srv := startServer(t, func(c *Config) {
		c.EventsBufferBeforePoll = true // the tests read events from the first connection on
		c.HookSecret = hookSecret
		c.HookConnectURL = b.url
		c.JWTSecret = testSecret
	})
	// A JWT is verified as usual and the backend is not asked.
	if c := dial(t, srv, bearer(mint(t, srv, "jwt-user"))); userOf(c) != "jwt-user" || b.count("connect") != 0 {
		t.Errorf("token upgrade: user %v after %d hook calls", userOf(c), b.count("connect"))
	}
	// A bad token is refused as a bad token, not handed to the hook.
	expectRefusal(t, dialRaw(t, srv, bearer("not.a.token")), "AUTH_FAILED", 4401)
	// No token: the cookie session decides.
	if c := dial(t, srv, http.Header{"Cookie": {"session=good"}}); userOf(c) != "u1" || b.count("connect") != 1 {
		t.Errorf("cookie upgrade: user %v after %d hook calls", userOf(c), b.count("connect"))
	}
}

// TestEveryProxyAppliesItsPolicyOnTimeout500AndWrongSignature runs the
// three failure modes against the subscribe, publish and rpc hooks, under
// the default deny policy and under allow.
func TestEveryProxyAppliesItsPolicyOnTimeout500AndWrongSignature(t *testing.T) {
	t.Parallel()
	b := startBackend(t, func(hook string, body map[string]any, r *http.Request) (int, any) {
		switch r.URL.Query().Get("mode") {
		case "timeout":
			<-r.Context().Done()
		case "500":
			return 500, map[string]any{"detail": "boom"}
		}
		return 200, map[string]any{"granted": body["topics"], "reply": map[string]any{"t": "ok"}}
	})
	for _, mode := range []string{"timeout", "500", "wrong-signature"} {
		for _, policy := range []string{"deny", "allow"} {
			t.Run(mode+"/"+policy, func(t *testing.T) {
				t.Parallel()
				url := b.url + "/?mode=" + mode
				srv := startServer(t, func(c *Config) {
					c.EventsBufferBeforePoll = true // the tests read events from the first connection on
					c.HookSecret = hookSecret
					if mode == "wrong-signature" {
						c.HookSecret = "not-the-backends-secret-0123"
					}
					c.HookTimeout = 300 * time.Millisecond
					c.HookSubscribeURL, c.HookSubscribeOnFailure = url, policy
					c.HookPublishURL, c.HookPublishTypes, c.HookPublishOnFailure = url, []string{"pub"}, policy
					c.HookRPCURL, c.HookRPCTypes, c.HookRPCOnFailure = url, []string{"call"}, policy
				})
				c := dial(t, srv, nil)
				c.send(map[string]any{"t": "subscription_update", "p": map[string]any{"action": "subscribe", "topics": []string{"x"}}})
				p := c.readUntil(func(m map[string]any) bool { return m["t"] == "subscription_update" })["p"].(map[string]any)
				granted := fmt.Sprint(p["success_topics"]) == "[x]"
				if granted != (policy == "allow") {
					t.Errorf("subscribe under %s: %v", policy, p)
				}
				for _, typ := range []string{"pub", "call"} {
					c.send(map[string]any{"t": typ, "p": map[string]any{}})
					if policy == "deny" {
						e := c.readUntil(func(m map[string]any) bool { return m["t"] == "error" })
						if e["p"].(map[string]any)["code"] != hooks.CodeBackendUnavailable {
							t.Errorf("%s under deny: %v", typ, e)
						}
					}
				}
				if policy == "allow" { // both messages passed on to the application
					evs := pollEvents(t, srv, "", c.connID(), 3)
					if evs[1]["type"] != "msg" || evs[2]["type"] != "msg" {
						t.Errorf("events under allow: %v", evs)
					}
				}
				reason := map[string]string{"timeout": "timeout", "500": "backend", "wrong-signature": "backend"}[mode]
				waitFor(t, "errors counted", func() bool {
					return metricValue(t, srv, `wse_hook_errors_total{hook="rpc",reason="`+reason+`"}`) == 1 &&
						metricValue(t, srv, `wse_hook_errors_total{hook="subscribe",reason="`+reason+`"}`) == 1
				})
			})
		}
	}
}

func TestWebhookWithAWrongSignatureIsRetriedThenGivenUp(t *testing.T) {
	t.Parallel()
	b := startBackend(t, func(string, map[string]any, *http.Request) (int, any) { return 200, map[string]any{} })
	srv := startServer(t, func(c *Config) {
		c.EventsBufferBeforePoll = true // the tests read events from the first connection on
		c.HookSecret = "not-the-backends-secret-0123"
		c.HookDisconnectURL = b.url
		c.HookGrace = 0
		c.HookRetries = 2
	})
	c := dial(t, srv, nil)
	_ = c.conn.Close()
	waitFor(t, "webhook given up", func() bool {
		return metricValue(t, srv, `wse_hook_webhooks_total{hook="disconnect",outcome="failed"}`) == 1
	})
	if calls := metricValue(t, srv, `wse_hook_calls_total{hook="disconnect"}`); calls != 3 || b.count("disconnect") != 0 {
		t.Errorf("%v attempts, %d accepted; want 3 refused", calls, b.count("disconnect"))
	}
}
