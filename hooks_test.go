package wse_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/wse-go/wse"
)

// TestHooksSeamDecidesWithoutBlockingThePoller drives the engine's Hooks
// directly: Connect names the user, Subscribe answers later from another
// goroutine while the connection's pings are still answered, and Message
// replies or passes.
func TestHooksSeamDecidesWithoutBlockingThePoller(t *testing.T) {
	t.Parallel()
	pending := make(chan func([]string), 1)
	srv := startServer(t, wse.Config{Hooks: wse.Hooks{
		Connect: func(_ context.Context, r wse.ConnectRequest) wse.ConnectDecision {
			user := r.Request.Header.Get("X-User")
			if user == "" {
				return wse.ConnectDecision{CloseCode: 4403, Reason: "who are you"}
			}
			return wse.ConnectDecision{Allow: true, UserID: user, Topics: []string{"inbox:" + user}, AllowTopics: []string{"room:*"}}
		},
		Subscribe:    func(_ wse.SubscribeRequest, done func([]string)) { pending <- done },
		MessageTypes: []string{"ask", "pass"},
		Message: func(r wse.MessageRequest, done func(wse.MessageResult)) {
			go func() {
				if r.Type == "pass" {
					done(wse.MessageResult{Pass: true})
					return
				}
				done(wse.MessageResult{Reply: map[string]any{"t": "answer", "p": map[string]any{"to": r.UserID}}})
			}()
		},
	}})
	c, ready := ready(t, wsURL(srv, ""), http.Header{"X-User": {"kim"}})
	if ready["p"].(map[string]any)["details"].(map[string]any)["user_id"] != "kim" {
		t.Fatalf("server_ready = %v", ready)
	}
	if ev := nextEvent(t, srv, wse.EventAuthConnect); ev.UserID != "kim" {
		t.Errorf("connect event = %+v", ev)
	}
	if srv.TopicSubscriberCount("inbox:kim") != 1 {
		t.Error("the connect decision's topic was not subscribed")
	}
	// room:1 is granted by the ACL at once; vip waits for the hook, and
	// meanwhile the poller keeps answering this very connection.
	c.send(subscribeReq("room:1", "vip", "secret"))
	done := <-pending
	c.send(`{"t":"ping","p":{"timestamp":1}}`)
	c.readType("PONG")
	done([]string{"vip"})
	p := payload(c.readType("subscription_update"))
	if got := p["success_topics"].([]any); len(got) != 2 || got[0] != "room:1" || got[1] != "vip" {
		t.Errorf("reply = %v", p)
	}
	c.send(`{"t":"ask","p":{}}`)
	if a := c.readType("answer"); payload(a)["to"] != "kim" || a["id"] == nil {
		t.Errorf("reply = %v", a)
	}
	c.send(`{"t":"pass","p":{"n":1}}`)
	if ev := nextEvent(t, srv, wse.EventMessage); ev.Message["t"] != "pass" {
		t.Errorf("passed message = %+v", ev)
	}
	// Without the header the decision refuses: FORBIDDEN, then 4403.
	refused := dial(t, wsURL(srv, ""), nil)
	if e := refused.readType("error"); payload(e)["code"] != "FORBIDDEN" || payload(e)["message"] != "who are you" {
		t.Errorf("error frame = %v", e)
	}
	if code := refused.closeCode(); code != 4403 {
		t.Errorf("close code %d, want 4403", code)
	}
}

// TestHooksSeamRefusesWithTheDecisionsCode checks a Connect refusal.
func TestHooksSeamRefusesWithTheDecisionsCode(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{Hooks: wse.Hooks{
		Connect: func(context.Context, wse.ConnectRequest) wse.ConnectDecision {
			return wse.ConnectDecision{CloseCode: 4401, ErrorCode: "AUTH_FAILED", Reason: "session expired"}
		},
	}})
	c := dial(t, wsURL(srv, ""), nil)
	e := c.readType("error")
	if payload(e)["code"] != "AUTH_FAILED" || payload(e)["message"] != "session expired" {
		t.Errorf("error frame = %v", e)
	}
	if code := c.closeCode(); code != 4401 {
		t.Errorf("close code %d, want 4401", code)
	}
}
