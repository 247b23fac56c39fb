package nats_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	wseclient "github.com/wse-go/wse/clients/go"
	"github.com/wse-go/wse/internal/natstest"
	"github.com/wse-go/wse/internal/wseproc"
)

// wseServer is the wse-server binary built for the process tests.
var wseServer string

func TestMain(m *testing.M) {
	dir, err := wseproc.TempDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if wseServer, err = wseproc.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// TestThreeServersOnOneNATS runs three wse-server processes on one NATS: a
// publication on A reaches B's and C's subscribers exactly once, in order,
// and /health reports the broker.
func TestThreeServersOnOneNATS(t *testing.T) {
	t.Parallel()
	ns := natstest.Start(t)
	var procs []*wseproc.Proc
	for range 3 {
		procs = append(procs, wseproc.Start(t, wseServer, "--broker", "nats", "--nats-url", ns.URL(),
			"--recovery", "--client-subscriptions", "any"))
	}
	a := procs[0]
	recs := make([]*recorder, 2)
	for i, p := range procs[1:] {
		recs[i] = &recorder{}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		r := recs[i]
		c, err := wseclient.Dial(ctx, p.URL(), wseclient.Options{Topics: []string{"news"},
			OnMessage: func(m wseclient.Message) {
				if m.Type == "tick" {
					r.mu.Lock()
					r.msgs = append(r.msgs, m)
					r.mu.Unlock()
				}
			}})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
	}
	for i := 1; i <= 30; i++ {
		if status, err := a.Publish("news", map[string]any{"t": "tick", "p": map[string]any{"n": i}}); err != nil || status != 200 {
			t.Fatalf("publish %d: %d %v", i, status, err)
		}
	}
	eventually(t, 15*time.Second, "30 messages on B and C", func() bool { return recs[0].count() >= 30 && recs[1].count() >= 30 })
	time.Sleep(200 * time.Millisecond)
	for i, r := range recs {
		if n := r.count(); n != 30 {
			t.Errorf("node %d subscriber got %d messages, want 30", i+1, n)
		}
	}
	h, err := procs[1].Health()
	if err != nil {
		t.Fatal(err)
	}
	if !brokerUp(h, "nats") {
		t.Fatalf("health %v", h)
	}
}

// brokerUp reports whether a /health body shows the broker kind connected.
func brokerUp(h map[string]any, kind string) bool {
	b, _ := h["broker"].(map[string]any)
	return b["name"] == kind && b["connected"] == true
}
