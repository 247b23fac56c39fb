package cluster

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wse-go/wse/internal/testpki"
)

func TestNewRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t, "cfg")
	cert, key := ca.IssueFiles("n")
	bad := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(bad, []byte("not a pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := testConfig()
	cases := []struct {
		name string
		edit func(*Config)
	}{
		{"no listen address", func(c *Config) { c.ListenAddr = "" }},
		{"listen without port", func(c *Config) { c.ListenAddr = "127.0.0.1" }},
		{"bad port", func(c *Config) { c.ListenAddr = "127.0.0.1:http" }},
		{"bad peer", func(c *Config) { c.Peers = []string{"nope"} }},
		{"bad seed", func(c *Config) { c.Seeds = []string{"1.2.3.4:99999"} }},
		{"bad advertise", func(c *Config) { c.AdvertiseAddr = "x" }},
		{"half TLS", func(c *Config) { c.TLSCA = ca.File() }},
		{"TLS without key", func(c *Config) { c.TLSCA, c.TLSCert = ca.File(), cert }},
		{"CA not PEM", func(c *Config) { c.TLSCA, c.TLSCert, c.TLSKey = bad, cert, key }},
		{"CA missing", func(c *Config) { c.TLSCA, c.TLSCert, c.TLSKey = bad+"x", cert, key }},
		{"key mismatch", func(c *Config) { c.TLSCA, c.TLSCert, c.TLSKey = ca.File(), cert, bad }},
		{"heartbeat not below dead", func(c *Config) { c.Heartbeat, c.DeadAfter = time.Second, time.Second }},
		{"negative duration", func(c *Config) { c.DeadAfter = -1 }},
		{"frame cap too small", func(c *Config) { c.MaxFrameSize = 1000 }},
		{"negative queue", func(c *Config) { c.SendQueue = -1 }},
		{"reconnect max below min", func(c *Config) { c.ReconnectMin, c.ReconnectMax = time.Second, time.Millisecond }},
		{"long node id", func(c *Config) { c.NodeID = string(make([]byte, MaxNodeIDLen+1)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := base
			tc.edit(&cfg)
			if _, err := New(cfg, newTestDelegate()); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New = %v, want ErrInvalidConfig", err)
			}
		})
	}
	t.Run("nil delegate", func(t *testing.T) {
		t.Parallel()
		if _, err := New(base, nil); !errors.Is(err, ErrInvalidConfig) {
			t.Fatalf("New = %v", err)
		}
	})
}

func TestNewAppliesDefaults(t *testing.T) {
	t.Parallel()
	n, err := New(Config{ListenAddr: "127.0.0.1:0"}, newTestDelegate())
	if err != nil {
		t.Fatal(err)
	}
	c := n.cfg
	if len(n.ID()) != 16 || c.Heartbeat != DefaultHeartbeat || c.DeadAfter != DefaultDeadAfter ||
		c.MaxFrameSize != DefaultMaxFrameSize || c.SendQueue != DefaultSendQueue || c.DLQSize != DefaultDLQSize ||
		c.HandshakeTimeout != DefaultHandshakeTimeout || c.Logger == nil {
		t.Fatalf("defaults not applied: id %q, %+v", n.ID(), c)
	}
	if n.Addr() != "" || n.Connected() || len(n.Peers()) != 0 {
		t.Fatalf("unstarted node reports state")
	}
	n.log = slog.New(slog.DiscardHandler)
	n.Stop()
	if err := n.Start(); !errors.Is(err, ErrStopped) {
		t.Fatalf("Start after Stop = %v", err)
	}
}

func TestStartTwiceFails(t *testing.T) {
	t.Parallel()
	n := startNode(t, testConfig(), newTestDelegate())
	if err := n.Start(); !errors.Is(err, ErrStopped) {
		t.Fatalf("second Start = %v", err)
	}
	if n.Addr() == "" {
		t.Fatalf("no address")
	}
}

func TestPeersDescribesLinks(t *testing.T) {
	t.Parallel()
	a := startNode(t, testConfig(), newTestDelegate())
	b := startNode(t, testConfig(a.Addr()), newTestDelegate())
	eventually(t, 5*time.Second, "rtt measured", func() bool {
		ps := a.Peers()
		return len(ps) == 1 && ps[0].RTT > 0
	})
	p := a.Peers()[0]
	if p.ID != b.ID() || p.Address != b.Addr() || p.Capabilities != localCaps || !p.Inbound || p.ConnectedAt.IsZero() {
		t.Fatalf("peer info %+v", p)
	}
	if q := b.Peers()[0]; q.Inbound || q.Address != a.Addr() {
		t.Fatalf("peer info %+v", q)
	}
}
