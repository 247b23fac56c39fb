package nats_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/wse-go/wse"
	natsbroker "github.com/wse-go/wse/broker/nats"
	wseclient "github.com/wse-go/wse/clients/go"
	"github.com/wse-go/wse/internal/natstest"
)

// node starts an engine on a random port whose broker is NATS at url.
func node(t *testing.T, url string) *wse.Server {
	t.Helper()
	b, err := natsbroker.New(natsbroker.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := wse.NewServer(wse.Config{Port: -1, ClientSubscriptions: wse.PolicyAny,
		Recovery: wse.RecoveryConfig{Enabled: true}, Broker: b})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// recorder collects a client's ticks and gap events.
type recorder struct {
	mu     sync.Mutex
	msgs   []wseclient.Message
	missed int
}

func (r *recorder) dial(t *testing.T, srv *wse.Server, topics ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wseclient.Dial(ctx, "ws://"+srv.Addr()+"/wse", wseclient.Options{
		Topics: topics,
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
				r.missed++
				r.mu.Unlock()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

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

// TestPublishOnOneNodeReachesEveryOtherNodeOnce publishes on A; B and C
// get every message once, stamped by their own buffers.
func TestPublishOnOneNodeReachesEveryOtherNodeOnce(t *testing.T) {
	t.Parallel()
	ns := natstest.Start(t)
	a, b, c := node(t, ns.URL()), node(t, ns.URL()), node(t, ns.URL())
	var ra, rb, rc recorder
	ra.dial(t, a, "news")
	rb.dial(t, b, "news")
	rc.dial(t, c, "news")
	const n = 50
	for i := 1; i <= n; i++ {
		if _, err := a.Broadcast("news", tick(i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "50 messages everywhere", func() bool {
		return ra.count() >= n && rb.count() >= n && rc.count() >= n
	})
	time.Sleep(100 * time.Millisecond)
	for name, r := range map[string]*recorder{"A": &ra, "B": &rb, "C": &rc} {
		r.mu.Lock()
		if len(r.msgs) != n {
			t.Errorf("%s got %d messages, want %d", name, len(r.msgs), n)
		}
		for i, m := range r.msgs {
			if m.Offset != uint64(i+1) {
				t.Errorf("%s message %d has offset %d", name, i, m.Offset)
				break
			}
		}
		r.mu.Unlock()
	}
}

// TestNATSRestartIsAGapNeverASilentLoss restarts NATS while A publishes:
// publications fail while it is down, and B's subscriber is told of the gap
// by a new epoch.
func TestNATSRestartIsAGapNeverASilentLoss(t *testing.T) {
	t.Parallel()
	ns := natstest.Start(t)
	a, b := node(t, ns.URL()), node(t, ns.URL())
	var r recorder
	r.dial(t, b, "news")
	for i := 1; i <= 10; i++ {
		if _, err := a.Broadcast("news", tick(i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "10 messages", func() bool { return r.count() >= 10 })
	ns.Stop()
	eventually(t, 10*time.Second, "A to see NATS gone", func() bool {
		st, _ := a.BrokerStatus()
		return !st.Connected
	})
	if _, err := a.Broadcast("news", tick(11)); !errors.Is(err, wse.ErrBroker) {
		t.Fatalf("publish while NATS is down: %v, want ErrBroker", err)
	}
	ns.Restart()
	eventually(t, 15*time.Second, "both nodes reconnected", func() bool {
		sa, _ := a.BrokerStatus()
		sb, _ := b.BrokerStatus()
		return sa.Connected && sb.Connected && sb.Reconnects > 0
	})
	// The reconnect's catch-up runs beside the first publications: publish
	// until B's subscriber has seen the new epoch.
	deadline := time.Now().Add(30 * time.Second)
	for i := 12; ; i++ {
		if _, err := a.Broadcast("news", tick(i)); err != nil {
			t.Fatal(err)
		}
		r.mu.Lock()
		missed := r.missed
		r.mu.Unlock()
		if missed > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no gap reported after the NATS restart (%d publications)", i)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStartFailsWithoutNATS: a server whose NATS is down does not start.
func TestStartFailsWithoutNATS(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	b, err := natsbroker.New(natsbroker.Config{URL: "nats://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := wse.NewServer(wse.Config{Port: -1, Broker: b})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err == nil {
		srv.Stop()
		t.Fatal("started without NATS")
	}
}
