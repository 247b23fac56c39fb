package redis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wse-go/wse"
	redisbroker "github.com/wse-go/wse/broker/redis"
	wseclient "github.com/wse-go/wse/clients/go"
	"github.com/wse-go/wse/internal/redistest"
)

const secret = "0123456789abcdef0123456789abcdef-test"

// node starts an engine on a random port whose broker is Redis at url.
func node(t *testing.T, url string, presenceTTL time.Duration) *wse.Server {
	t.Helper()
	b, err := redisbroker.New(redisbroker.Config{URL: url, PresenceTTL: presenceTTL})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := wse.NewServer(wse.Config{
		Port:                -1,
		JWT:                 wse.JWTConfig{Secret: []byte(secret)},
		ClientSubscriptions: wse.PolicyAny,
		Recovery:            wse.RecoveryConfig{Enabled: true},
		Presence:            wse.PresenceConfig{Enabled: true, SyncInterval: 500 * time.Millisecond},
		Broker:              b,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// token returns a JWT for user.
func token(t *testing.T, user string) string {
	t.Helper()
	tok, err := wse.EncodeJWT(map[string]any{"sub": user, "exp": time.Now().Add(time.Hour).Unix()}, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// switchDialer dials whichever address is current, so a client can be
// moved from one node to another, and can cut the open connection.
type switchDialer struct {
	mu   sync.Mutex
	addr string
	conn net.Conn
}

func (d *switchDialer) dial(ctx context.Context, network, _ string) (net.Conn, error) {
	d.mu.Lock()
	addr := d.addr
	d.mu.Unlock()
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil {
		d.mu.Lock()
		d.conn = c
		d.mu.Unlock()
	}
	return c, err
}

// moveTo makes the next dial go to addr and cuts the current connection.
func (d *switchDialer) moveTo(addr string) {
	d.mu.Lock()
	d.addr = addr
	c := d.conn
	d.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
}

// recorder collects a client's stamped messages and gap events.
type recorder struct {
	mu     sync.Mutex
	msgs   []wseclient.Message
	missed []wseclient.Event
}

func (r *recorder) options(t *testing.T, user string, topics ...string) wseclient.Options {
	return wseclient.Options{
		Token:     token(t, user),
		Topics:    topics,
		Reconnect: wseclient.Reconnect{Base: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		OnMessage: func(m wseclient.Message) {
			if m.Type == "tick" {
				r.mu.Lock()
				r.msgs = append(r.msgs, m)
				r.mu.Unlock()
			}
		},
		OnEvent: func(ev wseclient.Event) {
			if ev.Kind == wseclient.EventMissedData {
				r.mu.Lock()
				r.missed = append(r.missed, ev)
				r.mu.Unlock()
			}
		},
	}
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// numbers returns the "n" of every tick received, in order.
func (r *recorder) numbers() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]int, len(r.msgs))
	for i, m := range r.msgs {
		var p struct{ N int }
		_ = json.Unmarshal(m.Payload, &p)
		out[i] = p.N
	}
	return out
}

// dial connects a client to srv.
func dial(t *testing.T, srv *wse.Server, opts wseclient.Options) *wseclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wseclient.Dial(ctx, "ws://"+srv.Addr()+"/wse", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func tick(n int) string { return fmt.Sprintf(`{"t":"tick","p":{"n":%d}}`, n) }

// TestPublishOnOneNodeReachesEveryOtherNodeOnceWithTheSameStamp publishes
// on A; subscribers on B and C get every message exactly once, with the
// same epoch and consecutive offsets.
func TestPublishOnOneNodeReachesEveryOtherNodeOnceWithTheSameStamp(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	a, b, c := node(t, rs.URL(), 0), node(t, rs.URL(), 0), node(t, rs.URL(), 0)
	var rb, rc recorder
	dial(t, b, rb.options(t, "ub", "news"))
	dial(t, c, rc.options(t, "uc", "news"))
	const n = 50
	for i := 1; i <= n; i++ {
		if _, err := a.Broadcast("news", tick(i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "50 messages on B and C", func() bool { return rb.count() >= n && rc.count() >= n })
	time.Sleep(100 * time.Millisecond) // a duplicate would arrive right behind
	for name, r := range map[string]*recorder{"B": &rb, "C": &rc} {
		r.mu.Lock()
		if len(r.msgs) != n {
			t.Errorf("%s got %d messages, want %d", name, len(r.msgs), n)
		}
		for i, m := range r.msgs {
			if m.Offset != uint64(i+1) || m.Epoch != rb.msgs[0].Epoch || m.Topic != "news" {
				t.Errorf("%s message %d stamped %s/%s/%d", name, i, m.Topic, m.Epoch, m.Offset)
			}
		}
		r.mu.Unlock()
	}
	if st, _ := a.BrokerStatus(); !st.Connected || st.Published != n {
		t.Errorf("A broker status %+v", st)
	}
}

// TestClientRecoversOnAnotherNode moves a client from B to C while A
// publishes: it recovers exactly the messages it missed, in order, without
// duplicates or a reported gap.
func TestClientRecoversOnAnotherNode(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	a, b, c := node(t, rs.URL(), 0), node(t, rs.URL(), 0), node(t, rs.URL(), 0)
	var r recorder
	d := &switchDialer{addr: b.Addr()}
	opts := r.options(t, "mover", "news")
	opts.NetDial = d.dial
	dial(t, b, opts)
	for i := 1; i <= 10; i++ {
		if _, err := a.Broadcast("news", tick(i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "10 messages on B", func() bool { return r.count() >= 10 })
	d.moveTo(c.Addr())
	for i := 11; i <= 40; i++ {
		if _, err := a.Broadcast("news", tick(i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 15*time.Second, "40 messages after the move", func() bool { return r.count() >= 40 })
	eventually(t, 10*time.Second, "the client on C", func() bool { return c.ConnectionCount() == 1 })
	for i := 41; i <= 45; i++ {
		if _, err := a.Broadcast("news", tick(i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "45 messages", func() bool { return r.count() >= 45 })
	time.Sleep(100 * time.Millisecond)
	got := r.numbers()
	if len(got) != 45 {
		t.Fatalf("got %d messages %v, want 1..45", len(got), got)
	}
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("message %d is %d: %v", i, v, got)
		}
	}
	if len(r.missed) > 0 {
		t.Fatalf("gap reported: %+v", r.missed)
	}
	if m := c.Metrics(); m.Recovered == 0 {
		t.Fatalf("C recovered nothing: %+v", m.Recoveries)
	}
}

// TestPresenceSpansNodes joins one user from A and B: a subscriber on C
// sees one member with two connections, and one leaving keeps the member.
func TestPresenceSpansNodes(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	a, b, c := node(t, rs.URL(), 3*time.Second), node(t, rs.URL(), 3*time.Second), node(t, rs.URL(), 3*time.Second)
	var watch recorder
	dial(t, c, watch.options(t, "watcher", "room"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var tabs []*wseclient.Client
	for _, srv := range []*wse.Server{a, b} {
		var r recorder
		cl := dial(t, srv, r.options(t, "alice"))
		if _, err := cl.Subscribe(ctx, []string{"room"}, wseclient.SubscribeOptions{Presence: map[string]any{"tab": srv.Addr()}}); err != nil {
			t.Fatal(err)
		}
		tabs = append(tabs, cl)
	}
	eventually(t, 10*time.Second, "alice with 2 connections on C", func() bool {
		return c.Presence("room")["alice"].Connections == 2
	})
	// A node without a subscriber of the topic asks Redis.
	d := node(t, rs.URL(), 3*time.Second)
	if m := d.Presence("room")["alice"]; m.Connections != 2 {
		t.Fatalf("D sees alice with %d connections, want 2", m.Connections)
	}
	if st := d.PresenceStats("room"); st.NumUsers != 1 || st.NumConnections != 2 {
		t.Fatalf("D's stats %+v, want 1 user with 2 connections", st)
	}
	_ = tabs[0].Close()
	eventually(t, 10*time.Second, "alice with 1 connection on C", func() bool {
		return c.Presence("room")["alice"].Connections == 1
	})
	_ = tabs[1].Close()
	eventually(t, 10*time.Second, "alice gone on C", func() bool {
		_, ok := c.Presence("room")["alice"]
		return !ok
	})
}

// TestRedisRestartMidPublishIsAGapNeverASilentLoss restarts Redis while A
// publishes: failed publications are errors to the publisher, and a
// subscriber on B either receives every accepted message or is told of
// the gap.
func TestRedisRestartMidPublishIsAGapNeverASilentLoss(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	a, b := node(t, rs.URL(), 0), node(t, rs.URL(), 0)
	var r, local recorder
	dial(t, b, r.options(t, "ub", "news"))
	localOpts := local.options(t, "ua", "news")
	localOpts.DisableRecovery = true // count what A delivers, not what recovery brings
	dial(t, a, localOpts)
	var accepted []int
	var failed atomic.Int64
	publish := func(i int) {
		if _, err := a.Broadcast("news", tick(i)); err != nil {
			if !errors.Is(err, wse.ErrBroker) {
				t.Fatalf("publish error %v does not wrap ErrBroker", err)
			}
			failed.Add(1)
			return
		}
		accepted = append(accepted, i)
	}
	for i := 1; i <= 20; i++ {
		publish(i)
	}
	eventually(t, 10*time.Second, "20 messages before the restart", func() bool { return r.count() >= 20 })
	rs.Stop()
	for i := 21; i <= 25; i++ {
		publish(i)
	}
	// Local delivery goes on while the broker is down.
	eventually(t, 10*time.Second, "A's own subscriber to get 21..25", func() bool {
		got := local.numbers()
		return len(got) >= 25 && got[len(got)-1] == 25
	})
	if st, _ := a.BrokerStatus(); st.PublishErrors < 5 {
		t.Errorf("A counts %d publish errors, want ≥ 5", st.PublishErrors)
	}
	rs.Restart()
	eventually(t, 15*time.Second, "both nodes' pub/sub back", func() bool {
		sa, _ := a.BrokerStatus()
		sb, _ := b.BrokerStatus()
		return sa.Connected && sb.Connected
	})
	for i := 26; i <= 60; i++ {
		publish(i)
	}
	// The new epoch reaches B's subscriber as a gap it asks recovery for;
	// until the reply, later messages are held (and, being inside the gap,
	// reported with it). Publish until one arrives after that.
	for i := 61; ; i++ {
		publish(i)
		got := r.numbers()
		if len(got) > 0 && got[len(got)-1] == i-1 || i > 2000 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	last := accepted[len(accepted)-1]
	eventually(t, 15*time.Second, "the last accepted message", func() bool {
		got := r.numbers()
		return len(got) > 0 && got[len(got)-1] == last
	})
	if failed.Load() == 0 {
		t.Fatal("no publication failed while Redis was down")
	}
	received := map[int]bool{}
	for _, n := range r.numbers() {
		if received[n] {
			t.Fatalf("duplicate %d", n)
		}
		received[n] = true
	}
	var lost []int
	for _, n := range accepted {
		if !received[n] {
			lost = append(lost, n)
		}
	}
	r.mu.Lock()
	missed := len(r.missed)
	r.mu.Unlock()
	if len(lost) > 0 && missed == 0 {
		t.Fatalf("accepted messages %v never arrived and no gap was reported", lost)
	}
	t.Logf("accepted %d, failed %d, lost %v, gaps reported %d", len(accepted), failed.Load(), lost, missed)
}

// TestStartFailsWithoutRedis checks the documented choice: a server whose
// Redis is down does not start, and says why.
func TestStartFailsWithoutRedis(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	b, err := redisbroker.New(redisbroker.Config{URL: "redis://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := wse.NewServer(wse.Config{Port: -1, Broker: b})
	if err != nil {
		t.Fatal(err)
	}
	err = srv.Start()
	if err == nil {
		srv.Stop()
		t.Fatal("started without Redis")
	}
	t.Logf("start error: %v", err)
}

// TestErrorsNeverShowThePassword checks that a bad or unreachable URL's
// error hides its password.
func TestErrorsNeverShowThePassword(t *testing.T) {
	t.Parallel()
	for _, url := range []string{"redis://user:s3cret@127.0.0.1:1", "redis://user:s3cret@[::1:bad"} {
		b, err := redisbroker.New(redisbroker.Config{URL: url})
		if err == nil {
			err = b.Start("n", nil)
		}
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error %v", url, err)
		}
	}
}

// TestPubSubDropIsCaughtUpFromTheStream kills the nodes' pub/sub
// connections (Redis keeps running) while A publishes: B resubscribes by
// itself and delivers what it missed from the stream, so its subscriber
// gets everything, in order, without a gap.
func TestPubSubDropIsCaughtUpFromTheStream(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	a, b := node(t, rs.URL(), 0), node(t, rs.URL(), 0)
	var r recorder
	dial(t, b, r.options(t, "ub", "news"))
	for i := 1; i <= 10; i++ {
		if _, err := a.Broadcast("news", tick(i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "10 messages", func() bool { return r.count() >= 10 })
	if reply, err := rs.Do("CLIENT", "KILL", "TYPE", "pubsub"); err != nil {
		t.Fatalf("CLIENT KILL: %q %v", reply, err)
	}
	for i := 11; i <= 20; i++ {
		if _, err := a.Broadcast("news", tick(i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 15*time.Second, "B back on pub/sub", func() bool {
		st, _ := b.BrokerStatus()
		return st.Connected && st.Reconnects > 0
	})
	for i := 21; i <= 25; i++ {
		if _, err := a.Broadcast("news", tick(i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 15*time.Second, "25 messages", func() bool { return r.count() >= 25 })
	time.Sleep(100 * time.Millisecond)
	got := r.numbers()
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("message %d is %d: %v", i, v, got)
		}
	}
	if len(got) != 25 {
		t.Fatalf("got %v, want 1..25", got)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.missed) > 0 {
		t.Fatalf("gap reported: %+v", r.missed)
	}
}
