package wse_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wse-go/wse"
)

// recoveryServer starts a server with recovery on and client subscriptions
// granted by policy any.
func recoveryServer(t *testing.T, r wse.RecoveryConfig) *wse.Server {
	t.Helper()
	r.Enabled = true
	return startServer(t, wse.Config{Recovery: r, ClientSubscriptions: wse.PolicyAny})
}

// publishN publishes n numbered messages to topic starting at from.
func publishN(t *testing.T, srv *wse.Server, topic string, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if _, err := srv.Broadcast(topic, fmt.Sprintf(`{"t":"tick","p":{"n":%d}}`, i)); err != nil {
			t.Fatal(err)
		}
	}
}

// recoverReq is a client subscription request that recovers topic from pos.
func recoverReq(topic, epoch string, offset uint64) string {
	b, _ := json.Marshal(map[string]any{
		"c": "WSE", "t": "subscription_update",
		"p": map[string]any{"action": "subscribe", "topics": []string{topic}, "recover": true,
			"recovery": map[string]any{topic: map[string]any{"epoch": epoch, "offset": offset}}},
	})
	return string(b)
}

// stamp returns the (e, o) stamp and n of a tick message.
func stamp(t *testing.T, m map[string]any) (string, uint64, int) {
	t.Helper()
	e, _ := m["e"].(string)
	o, _ := m["o"].(float64)
	n, _ := payload(m)["n"].(float64)
	return e, uint64(o), int(n)
}

func TestRecoveryStampsPublicationsFromOffsetOne(t *testing.T) {
	t.Parallel()
	srv := recoveryServer(t, wse.RecoveryConfig{})
	c, _ := ready(t, wsURL(srv, ""), nil)
	c.send(subscribeReq("feed"))
	c.readType("subscription_update")
	publishN(t, srv, "feed", 0, 3)
	var epoch string
	for i := range 3 {
		data, _ := c.read()
		if !hasPrefix(data, `{"tp":"feed","e":"`) {
			t.Fatalf("unstamped publication %s", data)
		}
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		e, o, _ := stamp(t, m)
		if len(e) != 8 || o != uint64(i+1) || m["c"] != "U" {
			t.Fatalf("stamp %s/%d on %s", e, o, data)
		}
		if epoch != "" && e != epoch {
			t.Fatal("epoch changed within a buffer")
		}
		epoch = e
	}
	srv.BroadcastAll(`{"t":"all"}`)
	if data, _ := c.read(); hasPrefix(data, `{"tp"`) {
		t.Fatalf("broadcast_all stamped: %s", data)
	}
	if h := srv.HealthSnapshot(); !h.RecoveryEnabled || h.RecoveryTopicCount != 1 || h.RecoveryTotalBytes == 0 {
		t.Fatalf("health %+v", h)
	}
}

func TestRecoveryReplaysExactlyTheMissedMessages(t *testing.T) {
	t.Parallel()
	srv := recoveryServer(t, wse.RecoveryConfig{})
	c, _ := ready(t, wsURL(srv, ""), nil)
	c.send(subscribeReq("feed"))
	c.readType("subscription_update")
	publishN(t, srv, "feed", 0, 5)
	var epoch string
	var last uint64
	for range 5 {
		epoch, last, _ = stamp(t, c.readType("tick"))
	}
	_ = c.conn.Close()
	publishN(t, srv, "feed", 5, 7) // missed while away

	c2, _ := ready(t, wsURL(srv, ""), nil)
	c2.send(recoverReq("feed", epoch, last))
	for i := range 7 {
		_, o, n := stamp(t, c2.readType("tick"))
		if o != last+uint64(i)+1 || n != 5+i {
			t.Fatalf("replay %d: offset %d n %d", i, o, n)
		}
	}
	reply := payload(c2.readType("subscription_update"))
	rec := reply["recovery"].(map[string]any)["feed"].(map[string]any)
	if rec["recovered"] != true || rec["count"] != float64(7) || rec["offset"] != float64(12) || rec["epoch"] != epoch {
		t.Fatalf("recovery result %v", rec)
	}
	publishN(t, srv, "feed", 12, 1)
	if _, o, _ := stamp(t, c2.readType("tick")); o != 13 {
		t.Fatalf("live after replay has offset %d", o)
	}
	// Asking again while connected replays again (gap repair).
	c2.send(recoverReq("feed", epoch, 11))
	if _, o, _ := stamp(t, c2.readType("tick")); o != 12 {
		t.Fatalf("second replay offset %d", o)
	}
}

func TestRecoveryNotRecoveredCases(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		cfg    wse.RecoveryConfig
		missed int
		epoch  func(real string) string
	}{
		{"epoch changed", wse.RecoveryConfig{}, 3, func(string) string { return "deadbeef" }},
		{"evicted by buffer size", wse.RecoveryConfig{BufferSize: 16}, 40, nil},
		{"over max messages", wse.RecoveryConfig{MaxMessages: 5}, 6, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := recoveryServer(t, tc.cfg)
			publishN(t, srv, "feed", 0, 2)
			c, m := ready(t, wsURL(srv, ""), nil)
			res, err := srv.SubscribeWithRecovery(connID(m), []string{"feed"}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			base := res["feed"]
			if base.Offset != 2 || base.Recovered {
				t.Fatalf("baseline %+v", base)
			}
			_ = c.conn.Close()
			publishN(t, srv, "feed", 2, tc.missed)
			_, m2 := ready(t, wsURL(srv, ""), nil)
			epoch := base.Epoch
			if tc.epoch != nil {
				epoch = tc.epoch(epoch)
			}
			res, err = srv.SubscribeWithRecovery(connID(m2), []string{"feed"}, map[string]wse.Position{"feed": {Epoch: epoch, Offset: base.Offset}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := res["feed"]
			if got.Recovered || got.Count != 0 || got.Offset != uint64(2+tc.missed) || got.Epoch != base.Epoch {
				t.Fatalf("result %+v, want not recovered at offset %d", got, 2+tc.missed)
			}
		})
	}
}

func TestRecoveryEpochChangesAcrossServers(t *testing.T) {
	t.Parallel()
	a := recoveryServer(t, wse.RecoveryConfig{})
	publishN(t, a, "feed", 0, 3)
	_, m := ready(t, wsURL(a, ""), nil)
	res, _ := a.SubscribeWithRecovery(connID(m), []string{"feed"}, nil, nil)
	b := recoveryServer(t, wse.RecoveryConfig{}) // "restarted" server
	publishN(t, b, "feed", 0, 3)
	_, m2 := ready(t, wsURL(b, ""), nil)
	got, _ := b.SubscribeWithRecovery(connID(m2), []string{"feed"}, map[string]wse.Position{"feed": {Epoch: res["feed"].Epoch, Offset: 3}}, nil)
	if got["feed"].Recovered || got["feed"].Epoch == res["feed"].Epoch {
		t.Fatalf("recovered across epochs: %+v", got)
	}
}

func TestRecoveryTTLAndBudgetEviction(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{Recovery: wse.RecoveryConfig{Enabled: true, TTL: 200 * time.Millisecond, MemoryBudget: 4096},
		PingInterval: 100 * time.Millisecond, IdleTimeout: 10 * time.Second})
	publishN(t, srv, "old", 0, 1)
	eventually(t, "TTL eviction", func() bool { return srv.HealthSnapshot().RecoveryTopicCount == 0 })
	// Budget: two topics of ~3 KB each cannot both stay under 4 KB.
	big := strings.Repeat("x", 3000)
	for _, topic := range []string{"a", "b"} {
		if _, err := srv.Broadcast(topic, `{"t":"big","p":"`+big+`"}`); err != nil {
			t.Fatal(err)
		}
	}
	if h := srv.HealthSnapshot(); h.RecoveryTotalBytes > 4096 || h.RecoveryTopicCount != 1 {
		t.Fatalf("budget not enforced: %+v", h)
	}
	// The sweep adds its count after the buffers are gone: poll for it.
	eventually(t, "two evictions counted", func() bool { return srv.Metrics().RecoveryEvictions >= 2 })
}

func TestRecoveryRespectsACL(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{JWT: wse.JWTConfig{Secret: testSecret}, Recovery: wse.RecoveryConfig{Enabled: true},
		ClientTopics: []string{"public.*"}})
	publishN(t, srv, "secret", 0, 3)
	c, m := ready(t, wsURL(srv, ""), bearer(token(t, "eve", nil)))
	c.send(recoverReq("secret", "", 0))
	reply := payload(c.readType("subscription_update"))
	if rec, _ := reply["recovery"].(map[string]any); rec["secret"] != nil {
		t.Fatalf("denied topic revealed history: %v", reply)
	}
	if failed := reply["failed_topics"].([]any); len(failed) != 1 {
		t.Fatalf("reply %v", reply)
	}
	// Server side, an explicit ACL denies the replay too.
	if err := srv.SetTopicACL(connID(m), []string{"public.*"}, nil); err != nil {
		t.Fatal(err)
	}
	res, err := srv.SubscribeWithRecovery(connID(m), []string{"secret"}, map[string]wse.Position{"secret": {}}, nil)
	if !errors.Is(err, wse.ErrForbidden) || len(res) != 0 {
		t.Fatalf("SubscribeWithRecovery = %v, %v", res, err)
	}
	c.send(`{"t":"ping"}`)
	if m := c.readJSON(); m["t"] != "PONG" {
		t.Fatalf("history leaked: %v", m)
	}
}

func TestRecoveryUnderConcurrentPublishersHasNoGapOrDuplicate(t *testing.T) {
	t.Parallel()
	srv := recoveryServer(t, wse.RecoveryConfig{BufferSize: 4096, MaxMessages: 4096})
	const publishers, each = 4, 300
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			publishN(t, srv, "feed", p*each, each)
		}()
	}
	// Join mid-stream, recovering from the start of the epoch.
	eventually(t, "publishing started", func() bool { return srv.HealthSnapshot().RecoveryTopicCount == 1 })
	c, _ := ready(t, wsURL(srv, ""), nil)
	c.send(recoverReq("feed", "", 0))
	wg.Wait()
	seen := map[uint64]bool{}
	var next uint64 = 1
	for next <= publishers*each {
		data, _ := c.read()
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		if m["t"] != "tick" {
			continue
		}
		_, o, _ := stamp(t, m)
		if seen[o] || o != next {
			t.Fatalf("offset %d after %d (duplicate %v)", o, next-1, seen[o])
		}
		seen[o] = true
		next++
	}
}
