package wse_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/wse-go/wse"
)

// clusterNodes starts n servers with presence and recovery, the first one
// listening for peers and the others joining it as a seed.
func clusterNodes(t *testing.T, n int) []*wse.Server {
	t.Helper()
	nodes := make([]*wse.Server, n)
	for i := range nodes {
		nodes[i] = startServer(t, wse.Config{
			JWT:                 wse.JWTConfig{Secret: testSecret},
			ClientSubscriptions: wse.PolicyAny,
			Presence:            wse.PresenceConfig{Enabled: true},
			Recovery:            wse.RecoveryConfig{Enabled: true},
		})
		// No test here waits for failure detection (a stopped node sends
		// SHUTDOWN), so a long DeadAfter keeps a loaded machine's late
		// heartbeat from dropping a link, and its messages, mid-test.
		cc := wse.ClusterConfig{NodeID: fmt.Sprintf("node-%d", i), Heartbeat: 200 * time.Millisecond, DeadAfter: 5 * time.Second}
		if i > 0 {
			cc.Seeds = []string{nodes[0].ClusterAddr()}
		}
		if err := nodes[i].ConnectCluster(cc); err != nil {
			t.Fatalf("ConnectCluster %d: %v", i, err)
		}
	}
	for i, s := range nodes {
		eventually(t, fmt.Sprintf("node %d sees %d peers", i, n-1), func() bool { return s.ClusterPeersCount() == n-1 })
	}
	return nodes
}

// waitRoute publishes markers on from until c (subscribed to topic on
// another node) receives one: the peer's interest has arrived.
func waitRoute(t *testing.T, from *wse.Server, topic string, c *client) {
	t.Helper()
	for range 100 {
		if _, err := from.Broadcast(topic, `{"t":"marker"}`); err != nil {
			t.Fatal(err)
		}
		if data, _, err := c.tryRead(50 * time.Millisecond); err == nil {
			var m map[string]any
			_ = json.Unmarshal(data, &m)
			if m["t"] == "marker" {
				// Drain markers still in flight.
				for {
					if _, _, err := c.tryRead(100 * time.Millisecond); err != nil {
						return
					}
				}
			}
		}
	}
	t.Fatal("publication never routed to the subscribed peer")
}

func TestClusterPublishReachesEveryNodeOnce(t *testing.T) {
	t.Parallel()
	nodes := clusterNodes(t, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	cb, _ := ready(t, wsURL(b, ""), bearer(token(t, "bob", nil)))
	cc, _ := ready(t, wsURL(c, ""), bearer(token(t, "cy", nil)))
	for _, cl := range []*client{cb, cc} {
		cl.send(subscribeReq("news"))
		cl.readType("subscription_update")
	}
	waitRoute(t, a, "news", cb)
	waitRoute(t, a, "news", cc)
	before := a.HealthSnapshot().ClusterMessagesSent
	for i := range 20 {
		if _, err := a.Broadcast("news", fmt.Sprintf(`{"t":"n","p":{"i":%d}}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, cl := range []*client{cb, cc} {
		var lastO float64
		for i := range 20 {
			m := cl.readType("n")
			if payload(m)["i"] != float64(i) {
				t.Fatalf("got %v, want i=%d", m, i)
			}
			// Each node stamps with its own consecutive offsets.
			if o := m["o"].(float64); lastO != 0 && o != lastO+1 {
				t.Fatalf("offset %v after %v", o, lastO)
			}
			lastO = m["o"].(float64)
		}
		if data, _, err := cl.tryRead(200 * time.Millisecond); err == nil {
			t.Fatalf("duplicate or extra delivery: %s", data)
		}
	}
	if sent := a.HealthSnapshot().ClusterMessagesSent - before; sent != 40 {
		t.Fatalf("A sent %d cluster messages for 20 publications to 2 interested peers", sent)
	}
	// Interest routing: a topic nobody subscribes to elsewhere is not forwarded.
	before = a.HealthSnapshot().ClusterMessagesSent
	if _, err := a.Broadcast("nobody-listens", `{"t":"x"}`); err != nil {
		t.Fatal(err)
	}
	if sent := a.HealthSnapshot().ClusterMessagesSent - before; sent != 0 {
		t.Fatalf("forwarded %d messages without remote interest", sent)
	}
}

func TestClusterPresenceIsSharedAndRemovedWhenANodeStops(t *testing.T) {
	t.Parallel()
	nodes := clusterNodes(t, 2)
	a, b := nodes[0], nodes[1]
	watcher, wm := ready(t, wsURL(b, ""), bearer(token(t, "watcher", nil)))
	if err := b.Subscribe(connID(wm), []string{"room"}, nil); err != nil {
		t.Fatal(err)
	}
	// Interest must reach A before presence messages matter; presence
	// itself travels regardless of interest.
	_, am := ready(t, wsURL(a, ""), bearer(token(t, "alice", nil)))
	if err := a.Subscribe(connID(am), []string{"room"}, map[string]any{"status": "here"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "alice visible on B", func() bool { return b.Presence("room")["alice"].Connections == 1 })
	if got := b.Presence("room")["alice"].Data["status"]; got != "here" {
		t.Fatalf("data on B = %v", got)
	}
	if m := watcher.readType("presence_join"); payload(m)["user_id"] != "alice" {
		t.Fatalf("watcher on B saw %v", m)
	}
	if err := a.UpdatePresence(connID(am), map[string]any{"status": "away"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "update visible on B", func() bool { return b.Presence("room")["alice"].Data["status"] == "away" })
	a.Stop()
	eventually(t, "alice removed from B", func() bool { return len(b.Presence("room")) == 0 })
	if m := watcher.readType("presence_leave"); payload(m)["user_id"] != "alice" {
		t.Fatalf("watcher saw %v", m)
	}
}
