package wseclient_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wse-go/wse"
	wseclient "github.com/wse-go/wse/clients/go"
)

// nextServerEvent returns the next server event of type typ within 5 s.
func nextServerEvent(t *testing.T, srv *wse.Server, typ wse.EventType) wse.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, ev := range srv.DrainInbound(1, 100*time.Millisecond) {
			if ev.Type == typ {
				return ev
			}
		}
	}
	t.Fatalf("no %s event within 5s", typ)
	return wse.Event{}
}

func TestClientSubscribesSendsAndReceivesWithTheEngine(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{
		JWT:          wse.JWTConfig{Secret: testSecret},
		ClientTopics: []string{"public.*", "user.{user_id}"},
	})
	var r recorder
	c := dial(t, wsURL(srv), r.options(wseclient.Options{Token: token(t, "alice", time.Hour), Topics: []string{"public.news"}}))
	if c.UserID() != "alice" || c.ConnID() == "" || c.Features().Recovery || !c.Features().MsgPack {
		t.Fatalf("user %q conn %q features %+v", c.UserID(), c.ConnID(), c.Features())
	}
	if got := srv.Connections(); len(got) != 1 || got[0] != c.ConnID() {
		t.Fatalf("server connections %v, client %q", got, c.ConnID())
	}
	if n := srv.TopicSubscriberCount("public.news"); n != 1 {
		t.Fatalf("public.news has %d subscribers after Dial", n)
	}

	res, err := c.Subscribe(ctxT(t, 5*time.Second), []string{"user.alice", "secret", "user.alice"}, wseclient.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Granted) != "[user.alice]" || fmt.Sprint(res.Failed) != "[{secret FORBIDDEN}]" || res.Recovery != nil {
		t.Fatalf("Subscribe result %+v", res)
	}
	if got := fmt.Sprint(c.Topics()); got != "[public.news user.alice]" {
		t.Fatalf("Topics() = %s", got)
	}

	if _, err := srv.Broadcast("user.alice", `{"t":"tick","p":{"n":1}}`); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "tick", func() bool { return len(r.messages("tick")) == 1 })
	if m := r.messages("tick")[0]; m.Category != "U" || payloadN(t, m) != 1 || m.Topic != "user.alice" || m.Epoch != "" {
		t.Fatalf("tick %+v", m)
	}

	res, err = c.Unsubscribe(ctxT(t, 5*time.Second), []string{"public.news"})
	if err != nil || fmt.Sprint(res.Granted) != "[public.news]" {
		t.Fatalf("Unsubscribe %+v, %v", res, err)
	}
	if n := srv.TopicSubscriberCount("public.news"); n != 0 {
		t.Fatalf("public.news has %d subscribers after Unsubscribe", n)
	}

	nextServerEvent(t, srv, wse.EventAuthConnect)
	if err := c.Send("chat", map[string]any{"text": "hi"}); err != nil {
		t.Fatal(err)
	}
	ev := nextServerEvent(t, srv, wse.EventMessage)
	if ev.ConnID != c.ConnID() || ev.Message["t"] != "chat" || fmt.Sprint(ev.Message["p"]) != "map[text:hi]" {
		t.Fatalf("server got %+v", ev)
	}
}

func TestSendEventFramesDecodeIntoMessages(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	cases := []struct {
		name    string
		msgpack bool
		size    int
	}{
		{"plain json", false, 10},
		{"zlib", false, 5000},
		{"msgpack", true, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var r recorder
			c := dial(t, wsURL(srv), r.options(wseclient.Options{MsgPack: tc.msgpack}))
			text := strings.Repeat("x", tc.size)
			n, err := srv.SendEvent(c.ConnID(), map[string]any{"t": "order_update", "p": map[string]any{"n": 7, "text": text}})
			if err != nil || n == 0 {
				t.Fatalf("SendEvent: %d, %v", n, err)
			}
			eventually(t, 5*time.Second, "order_update", func() bool { return len(r.messages("order_update")) == 1 })
			m := r.messages("order_update")[0]
			if m.Category != "U" || m.ID == "" || m.TS.IsZero() || m.Seq == 0 || payloadN(t, m) != 7 || !strings.Contains(string(m.Payload), text) {
				t.Fatalf("message %+v", m)
			}
		})
	}
}

func TestCloseCodesStopOrReconnect(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code      int
		reconnect bool
	}{
		{1000, false},
		{1001, false},
		{4403, false},
		{1009, true},
		{4300, true},
		{4408, true},
		{4429, true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, wse.Config{})
			var r recorder
			c := dial(t, wsURL(srv), r.options(wseclient.Options{Reconnect: fastReconnect}))
			first := c.ConnID()
			if err := srv.DisconnectWithCode(first, tc.code, "test"); err != nil {
				t.Fatal(err)
			}
			if tc.reconnect {
				eventually(t, 5*time.Second, "a new connection", func() bool {
					return c.ConnID() != first && len(r.eventsOf(wseclient.EventConnected)) == 2
				})
				if len(r.eventsOf(wseclient.EventReconnecting)) == 0 || c.Err() != nil {
					t.Fatalf("events %+v, Err %v", r.eventsOf(wseclient.EventReconnecting), c.Err())
				}
				return
			}
			select {
			case <-c.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("client still running")
			}
			var ce *wseclient.CloseError
			if err := c.Err(); !errors.As(err, &ce) || int(ce.Code) != tc.code || ce.Reason != "test" {
				t.Fatalf("Err() = %v", err)
			}
			if closed := r.eventsOf(wseclient.EventClosed); len(closed) != 1 || len(r.eventsOf(wseclient.EventReconnecting)) != 0 {
				t.Fatalf("closed events %+v, reconnecting %+v", closed, r.eventsOf(wseclient.EventReconnecting))
			}
			if err := c.Send("x", nil); !errors.Is(err, wseclient.ErrClosed) {
				t.Fatalf("Send after stop: %v", err)
			}
		})
	}
}

func TestTokenRefreshOn4401(t *testing.T) {
	t.Parallel()
	t.Run("expired token at dial", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, wse.Config{JWT: wse.JWTConfig{Secret: testSecret}})
		var calls atomic.Int32
		c := dial(t, wsURL(srv), wseclient.Options{
			Token: token(t, "carol", -time.Hour),
			RefreshToken: func(context.Context) (string, error) {
				calls.Add(1)
				return token(t, "carol", time.Hour), nil
			},
		})
		if c.UserID() != "carol" || calls.Load() != 1 {
			t.Fatalf("user %q after %d refreshes", c.UserID(), calls.Load())
		}
	})
	t.Run("4401 while connected", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, wse.Config{JWT: wse.JWTConfig{Secret: testSecret}})
		var calls atomic.Int32
		var r recorder
		c := dial(t, wsURL(srv), r.options(wseclient.Options{
			Token: token(t, "dave", time.Hour),
			RefreshToken: func(context.Context) (string, error) {
				calls.Add(1)
				return token(t, "dave", time.Hour), nil
			},
		}))
		first := c.ConnID()
		if err := srv.DisconnectWithCode(first, 4401, "token expired"); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, "reconnect with the new token", func() bool {
			return c.ConnID() != first && len(r.eventsOf(wseclient.EventConnected)) == 2
		})
		if calls.Load() != 1 || c.UserID() != "dave" {
			t.Fatalf("%d refreshes, user %q", calls.Load(), c.UserID())
		}
		if rec := r.eventsOf(wseclient.EventReconnecting); len(rec) != 1 || rec[0].Delay != 0 {
			t.Fatalf("reconnecting events %+v, want one without delay", rec)
		}
	})
	t.Run("no callback", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, wse.Config{JWT: wse.JWTConfig{Secret: testSecret}})
		_, err := wseclient.Dial(ctxT(t, 5*time.Second), wsURL(srv), wseclient.Options{Token: token(t, "erin", -time.Hour)})
		var ce *wseclient.CloseError
		if !errors.As(err, &ce) || ce.Code != wseclient.CloseAuthFailed || !errors.Is(err, wseclient.ErrAuthFailed) {
			t.Fatalf("Dial error %v, want ErrAuthFailed and close 4401", err)
		}
	})
	t.Run("refresh fails", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, wse.Config{JWT: wse.JWTConfig{Secret: testSecret}})
		_, err := wseclient.Dial(ctxT(t, 5*time.Second), wsURL(srv), wseclient.Options{
			RefreshToken: func(context.Context) (string, error) { return "", errors.New("idp down") },
		})
		if !errors.Is(err, wseclient.ErrAuthFailed) || !strings.Contains(err.Error(), "idp down") {
			t.Fatalf("Dial error %v, want ErrAuthFailed", err)
		}
	})
	t.Run("refreshed token refused too", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, wse.Config{JWT: wse.JWTConfig{Secret: testSecret}})
		_, err := wseclient.Dial(ctxT(t, 5*time.Second), wsURL(srv), wseclient.Options{
			RefreshToken: func(context.Context) (string, error) { return "not-a-jwt", nil },
		})
		var ce *wseclient.CloseError
		if !errors.As(err, &ce) || ce.Code != wseclient.CloseAuthFailed {
			t.Fatalf("Dial error %v, want close 4401", err)
		}
	})
}

func TestClientReconnectsAfterServerRestart(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	cfg := wse.Config{Recovery: wse.RecoveryConfig{Enabled: true}, ClientSubscriptions: wse.PolicyAny}
	srv1 := startOnPort(t, port, cfg)
	var r recorder
	c := dial(t, wsURL(srv1), r.options(wseclient.Options{Topics: []string{"feed"}, Reconnect: fastReconnect}))
	first := c.ConnID()
	for n := 1; n <= 3; n++ {
		if _, err := srv1.Broadcast("feed", fmt.Sprintf(`{"t":"tick","p":{"n":%d}}`, n)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, "3 ticks", func() bool { return len(r.messages("tick")) == 3 })
	oldEpoch := r.messages("tick")[0].Epoch

	srv1.Drain(0, "", time.Second) // rolling restart: 4300, then stop
	srv1.Stop()
	srv2 := startOnPort(t, port, cfg)
	eventually(t, 10*time.Second, "reconnect to the new server", func() bool { return c.Connected() && c.ConnID() != first })
	if got := srv2.Connections(); len(got) != 1 || got[0] != c.ConnID() {
		t.Fatalf("new server connections %v, client %q", got, c.ConnID())
	}
	eventually(t, 5*time.Second, "resubscription", func() bool { return srv2.TopicSubscriberCount("feed") == 1 })
	if _, err := srv2.Broadcast("feed", `{"t":"tick","p":{"n":4}}`); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "tick after restart", func() bool { return len(r.messages("tick")) == 4 })
	ticks := r.messages("tick")
	if last := ticks[3]; payloadN(t, last) != 4 || last.Epoch == oldEpoch || last.Offset != 1 {
		t.Fatalf("tick after restart %+v", last)
	}
	missed := r.eventsOf(wseclient.EventMissedData)
	if len(missed) != 1 || missed[0].From != (wseclient.Position{Epoch: oldEpoch, Offset: 3}) || missed[0].To != (wseclient.Position{}) {
		t.Fatalf("missed-data events %+v, want one from the old epoch", missed)
	}
	var ce *wseclient.CloseError
	if disc := r.eventsOf(wseclient.EventDisconnected); len(disc) != 1 || !errors.As(disc[0].Err, &ce) || ce.Code != wseclient.CloseDrain {
		t.Fatalf("disconnected events %+v", disc)
	}
}

func TestQueueGroupMembersSharePublicationsAndRejoinAfterReconnect(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyAny})
	var mu sync.Mutex
	seen := map[string]int{}
	per := [2]int{}
	var socks sockets
	var clients [2]*wseclient.Client
	for i := range clients {
		opts := wseclient.Options{Reconnect: fastReconnect, Handlers: map[string]wseclient.Handler{"job": func(m wseclient.Message) {
			mu.Lock()
			defer mu.Unlock()
			seen[string(m.Payload)]++
			per[i]++
		}}}
		if i == 0 {
			opts.NetDial = socks.dial
		}
		clients[i] = dial(t, wsURL(srv), opts)
		res, err := clients[i].SubscribeQueue(ctxT(t, 5*time.Second), []string{"jobs"}, "workers")
		if err != nil || fmt.Sprint(res.Granted) != "[jobs]" {
			t.Fatalf("SubscribeQueue = %+v, %v", res, err)
		}
	}
	publish := func(from, to int) {
		for n := from; n < to; n++ {
			if _, err := srv.Broadcast("jobs", fmt.Sprintf(`{"t":"job","p":%d}`, n)); err != nil {
				t.Fatal(err)
			}
		}
		eventually(t, 5*time.Second, "every job", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) == to
		})
	}
	publish(0, 100)
	// The membership is joined again on the new connection.
	conn := clients[0].ConnID()
	socks.kill()
	eventually(t, 10*time.Second, "rejoined", func() bool {
		info := srv.QueueGroupInfo("jobs")
		return clients[0].Connected() && clients[0].ConnID() != conn && len(info) == 1 && info[0].Members == 2
	})
	publish(100, 200)
	if _, err := clients[1].UnsubscribeQueue(ctxT(t, 5*time.Second), []string{"jobs"}, "workers"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	before := per
	mu.Unlock()
	publish(200, 210)
	mu.Lock()
	defer mu.Unlock()
	for job, n := range seen {
		if n != 1 {
			t.Fatalf("job %s delivered %d times", job, n)
		}
	}
	if per[0] < 50 || per[1] < 50 || per[1] != before[1] {
		t.Fatalf("per member %v (before leaving %v)", per, before)
	}
	if _, err := clients[0].SubscribeQueue(ctxT(t, time.Second), []string{"jobs"}, ""); !errors.Is(err, wseclient.ErrEmptyQueueGroup) {
		t.Fatalf("empty group: %v", err)
	}
}
