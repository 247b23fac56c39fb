package cluster

import (
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestKilledNodeIsNoticedAndRejoins(t *testing.T) {
	t.Parallel()
	for _, sameID := range []bool{true, false} {
		name := "new id"
		if sameID {
			name = "same id"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testKilledNodeRejoins(t, sameID)
		})
	}
}

// testKilledNodeRejoins kills the third node of a mesh without SHUTDOWN,
// checks that the others notice within DeadAfter and keep delivering, and
// restarts it on the same address (with its old or a new node id).
func testKilledNodeRejoins(t *testing.T, sameID bool) {
	// DeadAfter leaves room for scheduling delays of a loaded test machine.
	cfg := func(peers ...string) Config {
		c := testConfig(peers...)
		c.Heartbeat, c.DeadAfter = 100*time.Millisecond, time.Second
		return c
	}
	da, db, dc := newTestDelegate(), newTestDelegate(), newTestDelegate()
	a := startNode(t, cfg(), da)
	b := startNode(t, cfg(a.Addr()), db)
	cc := cfg(a.Addr(), b.Addr())
	cc.NodeID = "node-c"
	cc.ListenAddr = reserveAddr(t)
	c := startNode(t, cc, dc)
	eventually(t, 5*time.Second, "full mesh", func() bool {
		return hasPeers(a, b.ID(), c.ID()) && hasPeers(b, a.ID(), c.ID())
	})
	subscribe(b, db, "t", true)
	eventually(t, 5*time.Second, "interest", func() bool { return wantsFrom(a, b.ID(), "t") })

	killed := time.Now()
	c.shutdown(false) // like kill -9: no SHUTDOWN frame, sockets just close
	dead := a.cfg.DeadAfter
	eventually(t, 3*dead, "peer down on a and b", func() bool {
		return da.countDowns(c.ID()) == 1 && db.countDowns(c.ID()) == 1
	})
	// The peer is down DeadAfter after its last frame, which preceded the
	// kill; allow half a DeadAfter of scheduling delay.
	if took := time.Since(killed); took > dead+dead/2 {
		t.Fatalf("OnPeerDown after %v, DeadAfter %v", took, dead)
	}
	if !hasPeers(a, b.ID()) {
		t.Fatalf("a peers %v", peerIDs(a))
	}
	if got := a.Publish("t", []byte("still")); got != 1 {
		t.Fatalf("Publish queued for %d peers, want 1", got)
	}
	eventually(t, 5*time.Second, "delivery", func() bool { return len(db.received("t")) == 1 })

	// The node comes back on the same address: a and b dial it again.
	if !sameID {
		cc.NodeID = ""
	}
	c2 := startNode(t, cc, newTestDelegate())
	eventually(t, 5*time.Second, "rejoin", func() bool {
		return hasPeers(a, b.ID(), c2.ID()) && hasPeers(b, a.ID(), c2.ID()) && hasPeers(c2, a.ID(), b.ID())
	})
	checkOneLinkPerPair(t, a, b, c2)
	if sameID {
		if da.countUps(c.ID()) != 2 {
			t.Fatalf("a saw %d OnPeerUp for c, want 2", da.countUps(c.ID()))
		}
		eventually(t, 5*time.Second, "reconnect counted", func() bool { return a.Stats().Reconnects > 0 })
	} else if da.countUps(c2.ID()) != 1 || da.countDowns(c.ID()) != 1 {
		t.Fatalf("a saw ups %v downs %v", da.ups, da.downs)
	}
}

func TestGracefulStopReportsPeerDownAtOnce(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.DeadAfter = 5 * time.Second
	cfg.Heartbeat = time.Second
	da, db := newTestDelegate(), newTestDelegate()
	a := startNode(t, cfg, da)
	cb := cfg
	cb.Peers = []string{a.Addr()}
	b := startNode(t, cb, db)
	// Both ends must have reported the peer up before b stops, or b has no
	// up to pair its down with.
	eventually(t, 5*time.Second, "link", func() bool {
		return hasPeers(a, b.ID()) && da.countUps(b.ID()) == 1 && db.countUps(a.ID()) == 1
	})
	start := time.Now()
	b.Stop()
	b.Stop() // idempotent
	eventually(t, 2*time.Second, "peer down", func() bool { return da.countDowns(b.ID()) == 1 })
	if took := time.Since(start); took >= cfg.DeadAfter {
		t.Fatalf("peer down took %v: SHUTDOWN not honored", took)
	}
	if db.countDowns(a.ID()) != 1 {
		t.Fatalf("stopping node reported %d downs for a, want 1", db.countDowns(a.ID()))
	}
	if a.Connected() {
		t.Fatalf("a still connected")
	}
}

func TestShortLinkLossWithinDeadAfterKeepsPeerUp(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.DeadAfter = 2 * time.Second
	cfg.Heartbeat = 100 * time.Millisecond
	da, db := newTestDelegate(), newTestDelegate()
	a := startNode(t, cfg, da)
	cb := cfg
	cb.Peers = []string{a.Addr()}
	b := startNode(t, cb, db)
	eventually(t, 5*time.Second, "link", func() bool { return hasPeers(a, b.ID()) })
	old := a.route.Load().links[0]
	old.close(errors.New("test: cut"))
	eventually(t, 5*time.Second, "new link", func() bool {
		ls := a.route.Load().links
		return len(ls) == 1 && ls[0] != old && ls[0].ready.Load()
	})
	if da.countDowns(b.ID()) != 0 || da.countUps(b.ID()) != 1 {
		t.Fatalf("blip reported: ups %d downs %d", da.countUps(b.ID()), da.countDowns(b.ID()))
	}
	eventually(t, 5*time.Second, "reconnect counted", func() bool { return a.Stats().Reconnects > 0 })
	if r := a.Stats().Reconnects; r != 1 {
		t.Fatalf("reconnects %d, want 1", r)
	}
}

func TestGarbageOnClusterPortIsRefused(t *testing.T) {
	t.Parallel()
	da, db := newTestDelegate(), newTestDelegate()
	a := startNode(t, testConfig(), da)
	b := startNode(t, testConfig(a.Addr()), db)
	eventually(t, 5*time.Second, "link", func() bool { return hasPeers(a, b.ID()) })

	huge := binary.BigEndian.AppendUint32(nil, 0xFFFFFFF0)
	wrongType := encodeFrame(frameMsg, 0, "t", []byte("x"))
	badMagic := encodeFrame(frameHello, 0, "", []byte("XXXX0000000000"))
	cases := []struct {
		name string
		data []byte
	}{
		{"text", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
		{"oversized header", huge},
		{"hello-sized but too big", binary.BigEndian.AppendUint32(nil, maxHelloFrame+1)},
		{"first frame not hello", wrongType},
		{"bad magic", badMagic},
		{"zero length", []byte{0, 0, 0, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := dialFake(t, a.Addr())
			before := a.Stats().HandshakeFailures
			_ = f.write(tc.data)
			if !f.closed() {
				t.Fatalf("connection not closed")
			}
			eventually(t, 2*time.Second, "failure counted", func() bool { return a.Stats().HandshakeFailures > before })
		})
	}
	subscribe(b, db, "t", true)
	eventually(t, 5*time.Second, "interest", func() bool { return wantsFrom(a, b.ID(), "t") })
	a.Publish("t", []byte("unharmed"))
	eventually(t, 5*time.Second, "delivery", func() bool { return len(db.received("t")) == 1 })
}

func TestSilentConnectionTimesOutInHandshake(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.HandshakeTimeout = 200 * time.Millisecond
	a := startNode(t, cfg, newTestDelegate())
	f := dialFake(t, a.Addr())
	if !f.closed() {
		t.Fatalf("silent connection not closed")
	}
}

func TestEstablishedLinkRefusesOversizedFrame(t *testing.T) {
	t.Parallel()
	da := newTestDelegate()
	a := startNode(t, testConfig(), da)
	f := dialFake(t, a.Addr())
	f.handshake("fake")
	if err := f.write(encodeFrame(frameResync, 0, "", nil)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "fake up", func() bool { return hasPeers(a, "fake") })
	// An unknown frame type is counted and skipped; the link stays.
	if err := f.write(encodeFrame(200, 0, "", []byte("future"))); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "unknown counted", func() bool { return a.Stats().UnknownFrames == 1 })
	if !hasPeers(a, "fake") {
		t.Fatalf("link dropped on unknown frame type")
	}
	if err := f.write(binary.BigEndian.AppendUint32(nil, uint32(a.cfg.MaxFrameSize))); err != nil {
		t.Fatal(err)
	}
	if !f.closed() {
		t.Fatalf("link not closed after oversized header")
	}
	eventually(t, 2*time.Second, "bad frame counted", func() bool { return a.Stats().BadFrames == 1 })
	eventually(t, 2*time.Second, "peer gone", func() bool { return !a.Connected() })
}

func TestSelfInPeerListIsIgnored(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.ListenAddr = reserveAddr(t)
	host := strings.Replace(cfg.ListenAddr, "127.0.0.1", "localhost", 1)
	cfg.Peers = []string{cfg.ListenAddr, host}
	a := startNode(t, cfg, newTestDelegate())
	eventually(t, 5*time.Second, "self detected", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return len(a.targets) == 0
	})
	if a.Connected() {
		t.Fatalf("node linked to itself")
	}
}

// TestStopLeavesNoGoroutines is not parallel: it compares goroutine counts.
func TestStopLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	a, err := New(testConfig(), newTestDelegate())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	b, err := New(testConfig(a.Addr()), newTestDelegate())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	c, err := New(testConfig(a.Addr(), "127.0.0.1:1"), newTestDelegate())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "mesh", func() bool { return len(a.Peers()) == 2 })
	c.shutdown(false)
	b.Stop()
	a.Stop()
	eventually(t, 5*time.Second, "goroutines gone", func() bool { return runtime.NumGoroutine() <= before })
}

// TestPublishToAPeerWithoutLinkIsDeadLettered kills a peer: until it is
// declared down, what it would have received is counted and dead-lettered
// with ErrLinkDown instead of skipped silently; after that nothing is.
func TestPublishToAPeerWithoutLinkIsDeadLettered(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.DeadAfter = 2 * time.Second
	da, db := newTestDelegate(), newTestDelegate()
	a := startNode(t, cfg, da)
	b := startNode(t, testConfig(a.Addr()), db)
	subscribe(b, db, "t", true)
	eventually(t, 5*time.Second, "interest", func() bool { return wantsFrom(a, b.ID(), "t") })

	b.shutdown(false) // like kill -9: no SHUTDOWN frame
	eventually(t, 5*time.Second, "a loses the link", func() bool { return installedLinks(a) == 0 })
	if da.countDowns(b.ID()) != 0 {
		t.Skip("the machine was too slow: b was declared down before the check")
	}
	before := a.Stats().MessagesDropped
	if got := a.Publish("t", []byte("missed")); got != 0 {
		t.Fatalf("Publish queued for %d peers without a link", got)
	}
	a.Publish("other", []byte("nobody wanted this"))
	if got := a.Stats().MessagesDropped - before; got != 1 {
		t.Fatalf("%d messages counted as dropped, want 1", got)
	}
	dlq := a.DLQ()
	if last := dlq[len(dlq)-1]; last.Peer != b.ID() || last.Topic != "t" || !errors.Is(last.Err, ErrLinkDown) {
		t.Fatalf("dead letter %+v", last)
	}
	eventually(t, 10*time.Second, "b declared down", func() bool { return da.countDowns(b.ID()) == 1 })
	before = a.Stats().MessagesDropped
	a.Publish("t", []byte("nobody left"))
	if got := a.Stats().MessagesDropped - before; got != 0 {
		t.Fatalf("%d messages dropped for a peer that is down", got)
	}
}
