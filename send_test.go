package wse_test

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wse-go/wse"
)

// subscribed dials n clients and subscribes each to topic server-side.
func subscribed(t *testing.T, srv *wse.Server, topic string, n int) []*client {
	t.Helper()
	clients := make([]*client, n)
	for i := range clients {
		c, m := ready(t, wsURL(srv, ""), nil)
		if err := srv.Subscribe(connID(m), []string{topic}, nil); err != nil {
			t.Fatal(err)
		}
		clients[i] = c
	}
	return clients
}

func TestBroadcastReachesSubscribersWithCategory(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	subs := subscribed(t, srv, "news", 3)
	other, _ := ready(t, wsURL(srv, ""), nil)
	n, err := srv.Broadcast("news", `{"t": "user_snapshot", "p": {"a": 1}}`)
	if err != nil || n != 3 {
		t.Fatalf("Broadcast = %d, %v", n, err)
	}
	for _, c := range subs {
		data, op := c.read()
		if op != ws.OpText || string(data) != `{"tp":"news","c":"S","t": "user_snapshot", "p": {"a": 1}}` {
			t.Fatalf("got %s (op %v)", data, op)
		}
	}
	if srv.TopicSubscriberCount("news") != 3 {
		t.Fatalf("TopicSubscriberCount = %d", srv.TopicSubscriberCount("news"))
	}
	// A non-subscriber receives nothing but what goes to all.
	srv.BroadcastAll(`{"t":"notice","p":{}}`)
	if data, _ := other.read(); string(data) != `{"c":"U","t":"notice","p":{}}` {
		t.Fatalf("broadcast_all frame %s", data)
	}
	if _, err := srv.Broadcast("bad\ntopic", "{}"); !errors.Is(err, wse.ErrInvalidTopic) {
		t.Fatalf("invalid topic: %v", err)
	}
}

func TestSendVariantsUseTheirFrames(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	c, m := ready(t, wsURL(srv, ""), nil)
	id := connID(m)
	if err := srv.Send(id, "plain text"); err != nil {
		t.Fatal(err)
	}
	if data, op := c.read(); op != ws.OpText || string(data) != "plain text" {
		t.Fatalf("Send: %q %v", data, op)
	}
	if err := srv.SendBytes(id, []byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	if data, op := c.read(); op != ws.OpBinary || !bytes.Equal(data, []byte{0, 1, 2}) {
		t.Fatalf("SendBytes: %v %v", data, op)
	}
	n, err := srv.SendEvent(id, map[string]any{"t": "order_update", "p": map[string]any{"id": 7}})
	if err != nil {
		t.Fatal(err)
	}
	data, op := c.read()
	if op != ws.OpBinary || len(data) != n {
		t.Fatalf("SendEvent frame op %v len %d, want binary %d", op, len(data), n)
	}
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil || ev["c"] != "U" || ev["id"] == nil || ev["ts"] == nil || ev["v"] != float64(1) {
		t.Fatalf("SendEvent envelope %s (%v)", data, err)
	}
	// Over the compression threshold: C: + zlib.
	big := strings.Repeat("y", 2000)
	if _, err := srv.SendEvent(id, map[string]any{"t": "blob", "p": map[string]any{"s": big}}); err != nil {
		t.Fatal(err)
	}
	data, _ = c.read()
	if !hasPrefix(data, "C:") {
		t.Fatalf("large SendEvent not compressed: %.20q", data)
	}
	zr, err := zlib.NewReader(bytes.NewReader(data[2:]))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !strings.Contains(string(plain), big) {
		t.Fatal("inflated event lacks the payload")
	}
}

func TestSendEventThresholdPerCall(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	c, m := ready(t, wsURL(srv, ""), nil)
	id := connID(m)
	ev := map[string]any{"t": "blob", "p": map[string]any{"s": strings.Repeat("y", 300)}}
	// Below the configured 1024 but over this call's 100: compressed.
	if _, err := srv.SendEventThreshold(id, ev, 100); err != nil {
		t.Fatal(err)
	}
	if data, _ := c.read(); !hasPrefix(data, "C:") {
		t.Fatalf("threshold 100: not compressed: %.20q", data)
	}
	// Threshold 0 never compresses, however large.
	big := map[string]any{"t": "blob", "p": map[string]any{"s": strings.Repeat("y", 5000)}}
	if _, err := srv.SendEventThreshold(id, big, 0); err != nil {
		t.Fatal(err)
	}
	if data, _ := c.read(); !hasPrefix(data, "{") {
		t.Fatalf("threshold 0: %.20q, want plain JSON", data)
	}
	if _, err := srv.SendEventThreshold("nope", ev, 0); !errors.Is(err, wse.ErrUnknownConnection) {
		t.Fatalf("unknown connection: %v", err)
	}
}

func TestSlowConsumerDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	const limit = 128 << 10
	srv := startServer(t, wse.Config{MaxOutboundQueueBytes: limit, SocketSendBuffer: 16 << 10,
		PingInterval: 200 * time.Millisecond, IdleTimeout: 30 * time.Second})
	fast := subscribed(t, srv, "feed", 100)
	// The slow client never reads, and a 4 KiB receive buffer keeps the
	// kernel from absorbing what the server sends it.
	slow, m := readyWith(t, wsURL(srv, ""), smallRcvBuf)
	_ = slow
	if err := srv.Subscribe(connID(m), []string{"feed"}, nil); err != nil {
		t.Fatal(err)
	}

	const batches, perBatch = 10, 50
	msg := `{"t":"tick","p":{"s":"` + strings.Repeat("z", 1000) + `"}}`
	counts := make([]atomic.Int64, len(fast))
	errs := make(chan error, len(fast))
	for i, c := range fast {
		go func() {
			for counts[i].Load() < batches*perBatch {
				data, _, err := c.tryRead(10 * time.Second)
				if err != nil {
					errs <- err
					return
				}
				if strings.Contains(string(data), `"tick"`) {
					counts[i].Add(1)
				}
			}
		}()
	}
	for b := 1; b <= batches; b++ {
		for range perBatch {
			if _, err := srv.Broadcast("feed", msg); err != nil {
				t.Fatal(err)
			}
		}
		// Every fast subscriber gets the whole batch, whatever the slow one does.
		deadline := time.Now().Add(10 * time.Second)
		for i := range counts {
			for counts[i].Load() < int64(b*perBatch) {
				select {
				case err := <-errs:
					t.Fatalf("fast subscriber: %v", err)
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("batch %d: fast subscriber %d has %d messages", b, i, counts[i].Load())
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	eventually(t, "slow consumer closed", func() bool { return srv.Metrics().SlowConsumerCloses == 1 })
	if srv.Metrics().SlowConsumerDrops == 0 {
		t.Fatal("no slow-consumer drops counted")
	}
	eventually(t, "slow consumer removed", func() bool { return srv.ConnectionCount() == 100 })
}

func TestBroadcastManyMessagesNoLoss(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	subs := subscribed(t, srv, "seq", 20)
	const msgs = 2000
	var wg sync.WaitGroup
	for _, c := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for want := range msgs {
				data, _, err := c.tryRead(10 * time.Second)
				if err != nil {
					t.Errorf("read: %v", err)
					return
				}
				if exp := fmt.Sprintf(`{"tp":"seq","c":"U","t":"n","p":%d}`, want); string(data) != exp {
					t.Errorf("got %s, want %s", data, exp)
					return
				}
			}
		}()
	}
	for i := range msgs {
		if _, err := srv.Broadcast("seq", fmt.Sprintf(`{"t":"n","p":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if m := srv.Metrics(); m.Writes >= m.MessagesSent {
		t.Logf("no coalescing observed: %d writes for %d frames", m.Writes, m.MessagesSent)
	}
}

func TestSubscribeHonorsExplicitACL(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{JWT: wse.JWTConfig{Secret: testSecret}})
	tok := token(t, "u1", map[string]any{"wse_topics": map[string]any{"allow": []string{"user:u1:*", "public.*"}, "deny": []string{"public.secret"}}})
	_, m := ready(t, wsURL(srv, ""), bearer(tok))
	id := connID(m)
	err := srv.Subscribe(id, []string{"user:u1:inbox", "public.secret", "user:u2:inbox"}, nil)
	if !errors.Is(err, wse.ErrForbidden) || !strings.Contains(err.Error(), "user:u2:inbox") {
		t.Fatalf("Subscribe = %v, want ErrForbidden naming the denied topics", err)
	}
	if srv.TopicSubscriberCount("user:u1:inbox") != 1 || srv.TopicSubscriberCount("public.secret") != 0 {
		t.Fatal("ACL not applied")
	}
	// Without an explicit ACL the application may subscribe anything.
	_, m2 := ready(t, wsURL(srv, ""), bearer(token(t, "u2", nil)))
	if err := srv.Subscribe(connID(m2), []string{"anything"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := srv.Subscribe(connID(m2), []string{""}, nil); !errors.Is(err, wse.ErrInvalidTopic) {
		t.Fatalf("empty topic: %v", err)
	}
}

func TestUnsubscribeAndDisconnectCleanUp(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	c, m := ready(t, wsURL(srv, ""), nil)
	id := connID(m)
	if err := srv.Subscribe(id, []string{"a", "b", "c"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := srv.Unsubscribe(id, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if srv.TopicSubscriberCount("a") != 0 || srv.TopicSubscriberCount("b") != 1 {
		t.Fatal("Unsubscribe(a) wrong")
	}
	if err := srv.Unsubscribe(id, nil); err != nil {
		t.Fatal(err)
	}
	if srv.TopicSubscriberCount("b") != 0 {
		t.Fatal("Unsubscribe(nil) left b")
	}
	// Still usable after unsubscribing from all.
	if err := srv.Subscribe(id, []string{"d"}, nil); err != nil {
		t.Fatal(err)
	}
	_ = c.conn.Close()
	eventually(t, "cleanup on disconnect", func() bool { return srv.TopicSubscriberCount("d") == 0 && srv.ConnectionCount() == 0 })
	if len(srv.Topics()) != 0 {
		t.Fatalf("topics left: %v", srv.Topics())
	}
}

func TestClientSubscriptionPolicies(t *testing.T) {
	t.Parallel()
	t.Run("acl fails closed without rules", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, wse.Config{})
		c, _ := ready(t, wsURL(srv, ""), nil)
		c.send(subscribeReq("news"))
		p := payload(c.readType("subscription_update"))
		failed := p["failed_topics"].([]any)
		if p["success"] != true || len(p["success_topics"].([]any)) != 0 || len(failed) != 1 ||
			failed[0] != "news" || p["failed_codes"].(map[string]any)["news"] != "FORBIDDEN" {
			t.Fatalf("reply %v", p)
		}
	})
	t.Run("acl with client topics and user template", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, wse.Config{JWT: wse.JWTConfig{Secret: testSecret}, ClientTopics: []string{"user:{user_id}", "prices.*"}})
		c, _ := ready(t, wsURL(srv, ""), bearer(token(t, "alice", nil)))
		c.send(subscribeReq("user:alice", "user:bob", "prices.btc", "bad\u0001topic"))
		p := payload(c.readType("subscription_update"))
		got, _ := json.Marshal(p)
		want := `{"action":"subscribe","failed_codes":{"bad\u0001topic":"INVALID_TOPIC","user:bob":"FORBIDDEN"},"failed_topics":["user:bob","bad\u0001topic"],"success":true,"success_topics":["user:alice","prices.btc"]}`
		if string(got) != want {
			t.Fatalf("reply %s\nwant  %s", got, want)
		}
		if srv.TopicSubscriberCount("prices.btc") != 1 {
			t.Fatal("not subscribed")
		}
		// Idempotent, and an empty list gets an empty successful reply.
		c.send(subscribeReq("prices.btc"))
		c.readType("subscription_update")
		c.send(subscribeReq())
		p = payload(c.readType("subscription_update"))
		if p["success"] != true || len(p["success_topics"].([]any)) != 0 {
			t.Fatalf("empty request reply %v", p)
		}
		if srv.TopicSubscriberCount("prices.btc") != 1 {
			t.Fatal("double subscription")
		}
		c.send(`{"c":"WSE","t":"subscription","p":{"action":"unsubscribe","topics":["prices.btc"]}}`)
		p = payload(c.readType("subscription_update"))
		// success_topics stays empty: the TypeScript client would confirm
		// (and later resubscribe) whatever it lists.
		left, _ := json.Marshal(p["unsubscribed_topics"])
		if p["action"] != "unsubscribe" || len(p["success_topics"].([]any)) != 0 || string(left) != `["prices.btc"]` ||
			srv.TopicSubscriberCount("prices.btc") != 0 {
			t.Fatalf("unsubscribe reply %v", p)
		}
	})
	t.Run("any", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyAny})
		c, _ := ready(t, wsURL(srv, "topics=a,b"), nil)
		p := payload(c.readType("subscription_update"))
		if len(p["success_topics"].([]any)) != 2 {
			t.Fatalf("query topics reply %v", p)
		}
		if _, err := srv.Broadcast("b", `{"t":"x"}`); err != nil {
			t.Fatal(err)
		}
		if m := c.readType("x"); m["c"] != "U" {
			t.Fatalf("frame %v", m)
		}
	})
	t.Run("app forwards requests", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyApp})
		c, _ := ready(t, wsURL(srv, ""), nil)
		c.send(subscribeReq("news"))
		ev := nextEvent(t, srv, wse.EventMessage)
		if ev.Message["t"] != "subscription_update" || srv.TopicSubscriberCount("news") != 0 {
			t.Fatalf("event %+v", ev)
		}
	})
}

func TestSubscriptionLimit(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyAny, MaxSubscriptionsPerConnection: 2})
	c, m := ready(t, wsURL(srv, ""), http.Header{})
	c.send(subscribeReq("a", "b", "c"))
	p := payload(c.readType("subscription_update"))
	if len(p["success_topics"].([]any)) != 2 || p["failed_topics"].([]any)[0] != "c" || p["failed_codes"].(map[string]any)["c"] != "LIMIT" {
		t.Fatalf("reply %v", p)
	}
	if err := srv.Subscribe(connID(m), []string{"d"}, nil); !errors.Is(err, wse.ErrSubscriptionLimit) {
		t.Fatalf("Subscribe over limit = %v", err)
	}
}

func TestBroadcastAllBytesAndEventsChannel(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	a, _ := ready(t, wsURL(srv, ""), nil)
	b, _ := ready(t, wsURL(srv, ""), nil)
	if n := srv.BroadcastAllBytes([]byte{9, 8, 7}); n != 2 {
		t.Fatalf("BroadcastAllBytes reached %d connections", n)
	}
	for _, c := range []*client{a, b} {
		if data, op := c.read(); op != ws.OpBinary || !bytes.Equal(data, []byte{9, 8, 7}) {
			t.Fatalf("frame %v op %v", data, op)
		}
	}
	a.send(`{"t":"via_channel"}`)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-srv.Events():
			if ev.Type == wse.EventMessage && ev.Message["t"] == "via_channel" {
				return
			}
		case <-deadline:
			t.Fatal("no event on Events()")
		}
	}
}

func TestSetTopicACLGrantsClientRequests(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	c, m := ready(t, wsURL(srv, ""), nil)
	if err := srv.SetTopicACL(connID(m), []string{"room.*"}, []string{"room.private"}); err != nil {
		t.Fatal(err)
	}
	c.send(subscribeReq("room.1", "room.private", "other"))
	p := payload(c.readType("subscription_update"))
	got, _ := json.Marshal(p["success_topics"])
	if string(got) != `["room.1"]` || len(p["failed_topics"].([]any)) != 2 {
		t.Fatalf("reply %v", p)
	}
}

func TestQueryTopicsUnderAppPolicyGoToTheApplication(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyApp})
	ready(t, wsURL(srv, "topics=a,b"), nil)
	ev := nextEvent(t, srv, wse.EventMessage)
	if ev.Message["t"] != "subscription_update" || srv.TopicSubscriberCount("a") != 0 {
		t.Fatalf("event %+v", ev)
	}
}
