package cluster

import (
	"fmt"
	"testing"
	"time"
)

func TestPresenceFullSyncOnLinkUpAndChanges(t *testing.T) {
	t.Parallel()
	da, db := newTestDelegate(), newTestDelegate()
	// Enough state for several PRESENCE_SYNC chunks.
	const entries = 3000
	for i := range entries {
		da.presence = append(da.presence, Presence{
			Kind: PresenceJoin, Topic: fmt.Sprintf("room-%d", i%10), UserID: fmt.Sprintf("u%d", i),
			Data: []byte(fmt.Sprintf(`{"name":"user %d","pad":"%0200d"}`, i, i)), Conns: 1 + i%3, TS: int64(i),
		})
	}
	a := startNode(t, testConfig(), da)
	b := startNode(t, testConfig(a.Addr()), db)
	eventually(t, 5*time.Second, "sync", func() bool {
		db.mu.Lock()
		defer db.mu.Unlock()
		_, ok := db.syncs[a.ID()]
		return ok
	})
	db.mu.Lock()
	got := db.syncs[a.ID()]
	db.mu.Unlock()
	if len(got) != entries {
		t.Fatalf("sync has %d entries, want %d", len(got), entries)
	}
	for i, p := range got {
		w := da.presence[i]
		if p.Kind != w.Kind || p.Topic != w.Topic || p.UserID != w.UserID || string(p.Data) != string(w.Data) || p.Conns != w.Conns || p.TS != w.TS {
			t.Fatalf("entry %d = %+v, want %+v", i, p, w)
		}
	}
	// b's (empty) state reaches a too, after OnPeerUp.
	eventually(t, 5*time.Second, "reverse sync", func() bool {
		da.mu.Lock()
		defer da.mu.Unlock()
		s, ok := da.syncs[b.ID()]
		return ok && len(s) == 0 && len(da.ups) == 1
	})

	changes := []Presence{
		{Kind: PresenceJoin, Topic: "lobby", UserID: "alice", Data: []byte(`{"s":1}`), Conns: 1, TS: 10},
		{Kind: PresenceUpdate, Topic: "lobby", UserID: "alice", Data: []byte(`{"s":2}`), Conns: 2, TS: 11},
		{Kind: PresenceLeave, Topic: "lobby", UserID: "alice", TS: 12},
	}
	for _, p := range changes {
		a.SendPresence(p)
	}
	eventually(t, 5*time.Second, "changes", func() bool {
		db.mu.Lock()
		defer db.mu.Unlock()
		return len(db.events) == len(changes)
	})
	db.mu.Lock()
	defer db.mu.Unlock()
	for i, p := range db.events {
		w := changes[i]
		if p.Kind != w.Kind || p.Topic != w.Topic || p.UserID != w.UserID || string(p.Data) != string(w.Data) || p.Conns != w.Conns || p.TS != w.TS {
			t.Fatalf("change %d = %+v, want %+v", i, p, w)
		}
	}
}

func TestDrainStopsForwardingButKeepsLink(t *testing.T) {
	t.Parallel()
	da, db := newTestDelegate(), newTestDelegate()
	a := startNode(t, testConfig(), da)
	b := startNode(t, testConfig(a.Addr()), db)
	eventually(t, 5*time.Second, "link", func() bool { return hasPeers(a, b.ID()) })
	subscribe(b, db, "t", true)
	eventually(t, 5*time.Second, "interest", func() bool { return wantsFrom(a, b.ID(), "t") })
	b.Drain()
	eventually(t, 5*time.Second, "drained", func() bool { return !wantsFrom(a, b.ID(), "t") })
	if got := a.Publish("t", []byte("x")); got != 0 {
		t.Fatalf("Publish to a draining peer queued for %d", got)
	}
	if !hasPeers(a, b.ID()) {
		t.Fatalf("link dropped on DRAIN")
	}
	a.SendPresence(Presence{Kind: PresenceJoin, Topic: "t", UserID: "u", TS: 1})
	eventually(t, 5*time.Second, "presence still flows", func() bool {
		db.mu.Lock()
		defer db.mu.Unlock()
		return len(db.events) == 1
	})
}

func TestInterestRoutingFollowsSubscriptions(t *testing.T) {
	t.Parallel()
	da, db := newTestDelegate(), newTestDelegate()
	db.topics["before-start"] = struct{}{} // in LocalTopics before the link: arrives by RESYNC
	a := startNode(t, testConfig(), da)
	b := startNode(t, testConfig(a.Addr()), db)
	eventually(t, 5*time.Second, "link", func() bool { return hasPeers(a, b.ID()) })
	subscribe(b, db, "news.*", true)
	subscribe(b, db, "exact", true)
	eventually(t, 5*time.Second, "interest", func() bool { return wantsFrom(a, b.ID(), "exact") })

	steps := []struct {
		topic string
		want  int
	}{
		{"before-start", 1},
		{"news.sport", 1},
		{"news", 0},
		{"exact", 1},
		{"other", 0},
	}
	for _, s := range steps {
		if got := a.Publish(s.topic, []byte(s.topic)); got != s.want {
			t.Errorf("Publish(%q) queued for %d, want %d", s.topic, got, s.want)
		}
	}
	subscribe(b, db, "exact", false)
	subscribe(b, db, "news.*", false)
	eventually(t, 5*time.Second, "unsub", func() bool { return !wantsFrom(a, b.ID(), "news.x") })
	if got := a.Publish("exact", nil); got != 0 {
		t.Fatalf("Publish after UNSUB queued for %d", got)
	}
	eventually(t, 5*time.Second, "deliveries", func() bool { return b.Stats().MessagesDelivered == 3 })
	if s := a.Stats(); s.MessagesSent != 3 || s.MessagesDropped != 0 {
		t.Fatalf("stats %+v", s)
	}
}
