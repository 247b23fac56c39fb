package wse_test

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wse-go/wse"
)

// presenceServer starts a server with auth and presence enabled.
func presenceServer(t *testing.T, p wse.PresenceConfig) *wse.Server {
	t.Helper()
	p.Enabled = true
	return startServer(t, wse.Config{JWT: wse.JWTConfig{Secret: testSecret}, Presence: p})
}

// join connects user and subscribes it to topic with presence data.
func join(t *testing.T, srv *wse.Server, user, topic string, data map[string]any) (*client, string) {
	t.Helper()
	c, m := ready(t, wsURL(srv, ""), bearer(token(t, user, nil)))
	id := connID(m)
	if err := srv.Subscribe(id, []string{topic}, data); err != nil {
		t.Fatalf("Subscribe(%s): %v", user, err)
	}
	return c, id
}

// presenceEvents drains presence events until n arrived.
func presenceEvents(t *testing.T, srv *wse.Server, n int) []wse.Event {
	t.Helper()
	var out []wse.Event
	for len(out) < n {
		out = append(out, nextEvent(t, srv, wse.EventPresenceJoin, wse.EventPresenceLeave))
	}
	return out
}

func TestPresenceTwoTabsOneJoinOneLeave(t *testing.T) {
	t.Parallel()
	srv := presenceServer(t, wse.PresenceConfig{})
	tab1, _ := join(t, srv, "alice", "room", map[string]any{"status": "online"})
	if m := tab1.readType("presence_join"); payload(m)["user_id"] != "alice" || payload(m)["topic"] != "room" {
		t.Fatalf("join message %v", m)
	}
	tab2, _ := join(t, srv, "alice", "room", map[string]any{"status": "away"})
	ev := presenceEvents(t, srv, 1)[0]
	if ev.Type != wse.EventPresenceJoin || ev.Presence.UserID != "alice" || ev.Presence.Topic != "room" {
		t.Fatalf("event %+v", ev)
	}
	members := srv.Presence("room")
	if len(members) != 1 || members["alice"].Connections != 2 || members["alice"].Data["status"] != "away" {
		t.Fatalf("Presence = %+v", members)
	}
	if st := srv.PresenceStats("room"); st.NumUsers != 1 || st.NumConnections != 2 {
		t.Fatalf("PresenceStats = %+v", st)
	}
	_ = tab1.conn.Close()
	eventually(t, "tab1 gone", func() bool { return srv.PresenceStats("room").NumConnections == 1 })
	if srv.PresenceStats("room").NumUsers != 1 {
		t.Fatal("user left while a tab remains")
	}
	_ = tab2.conn.Close()
	if ev := presenceEvents(t, srv, 1)[0]; ev.Type != wse.EventPresenceLeave || ev.Presence.UserID != "alice" {
		t.Fatalf("event %+v, want alice's leave", ev)
	}
	if h := srv.HealthSnapshot(); h.PresenceTopics != 0 || h.PresenceTotalUsers != 0 || !h.PresenceEnabled {
		t.Fatalf("health %+v", h)
	}
}

func TestPresenceThreeUsersSeeEachOther(t *testing.T) {
	t.Parallel()
	srv := presenceServer(t, wse.PresenceConfig{})
	a, _ := join(t, srv, "a", "room", map[string]any{"n": 1})
	_, _ = join(t, srv, "b", "room", map[string]any{"n": 2})
	c, cid := join(t, srv, "c", "room", map[string]any{"n": 3})
	// a sees its own join and the two others.
	for _, want := range []string{"a", "b", "c"} {
		if m := a.readType("presence_join"); payload(m)["user_id"] != want {
			t.Fatalf("a saw join of %v, want %s", payload(m)["user_id"], want)
		}
	}
	if len(srv.Presence("room")) != 3 {
		t.Fatalf("Presence = %v", srv.Presence("room"))
	}
	if err := srv.UpdatePresence(cid, map[string]any{"n": 30}); err != nil {
		t.Fatal(err)
	}
	m := a.readType("presence_update")
	if payload(m)["user_id"] != "c" || payload(m)["data"].(map[string]any)["n"] != float64(30) {
		t.Fatalf("update message %v", m)
	}
	if _, ok := m["tp"]; ok {
		t.Fatal("presence message is stamped")
	}
	if err := srv.Unsubscribe(cid, []string{"room"}); err != nil {
		t.Fatal(err)
	}
	if m := a.readType("presence_leave"); payload(m)["user_id"] != "c" {
		t.Fatalf("leave message %v", m)
	}
	_ = c
	if err := srv.UpdatePresence(cid, map[string]any{"n": 1}); !errors.Is(err, wse.ErrNoPresence) {
		t.Fatalf("UpdatePresence without presence = %v", err)
	}
}

func TestPresenceLimits(t *testing.T) {
	t.Parallel()
	srv := presenceServer(t, wse.PresenceConfig{MaxDataSize: 64, MaxMembers: 2})
	_, m := ready(t, wsURL(srv, ""), bearer(token(t, "big", nil)))
	err := srv.Subscribe(connID(m), []string{"room"}, map[string]any{"blob": strings.Repeat("x", 100)})
	if !errors.Is(err, wse.ErrPresenceDataTooLarge) {
		t.Fatalf("large data: %v", err)
	}
	if srv.PresenceStats("room").NumUsers != 0 {
		t.Fatal("joined with data too large")
	}
	join(t, srv, "u1", "room", map[string]any{})
	join(t, srv, "u2", "room", map[string]any{})
	_, m3 := ready(t, wsURL(srv, ""), bearer(token(t, "u3", nil)))
	if err := srv.Subscribe(connID(m3), []string{"room"}, map[string]any{}); !errors.Is(err, wse.ErrPresenceFull) {
		t.Fatalf("third user: %v", err)
	}
	// An existing user's second tab is not refused.
	join(t, srv, "u1", "room", map[string]any{})
	if st := srv.PresenceStats("room"); st.NumUsers != 2 || st.NumConnections != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPresenceLeaveAfterAbruptDrop(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{
		JWT: wse.JWTConfig{Secret: testSecret}, Presence: wse.PresenceConfig{Enabled: true},
		PingInterval: 100 * time.Millisecond, IdleTimeout: 500 * time.Millisecond,
	})
	c, _ := join(t, srv, "dropper", "room", map[string]any{})
	// Drop the TCP connection without a close frame (RST).
	if tcp, ok := c.raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = c.conn.Close()
	evs := presenceEvents(t, srv, 2)
	if evs[1].Type != wse.EventPresenceLeave || evs[1].Presence.UserID != "dropper" {
		t.Fatalf("events %+v", evs)
	}
}

func TestClientSubscriptionCarriesPresence(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{JWT: wse.JWTConfig{Secret: testSecret}, ClientSubscriptions: wse.PolicyAny,
		Presence: wse.PresenceConfig{Enabled: true}})
	c, _ := ready(t, wsURL(srv, ""), bearer(token(t, "zoe", nil)))
	c.send(`{"t":"subscription_update","p":{"action":"subscribe","topics":["lobby"],"presence":{"mood":"ok"}}}`)
	c.readType("presence_join")
	if got := srv.Presence("lobby")["zoe"].Data["mood"]; got != "ok" {
		t.Fatalf("presence data %v", got)
	}
}
