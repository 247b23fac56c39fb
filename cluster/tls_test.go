package cluster

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/wse-go/wse/internal/testpki"
)

// tlsConfig returns a test config trusting trust and presenting a
// certificate issued by signer.
func tlsConfig(trust, signer *testpki.CA, name string, peers ...string) Config {
	cfg := testConfig(peers...)
	cfg.TLSCA = trust.File()
	cfg.TLSCert, cfg.TLSKey = signer.IssueFiles(name)
	return cfg
}

func TestMutualTLSAcceptsClusterCA(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t, "cluster")
	da, db := newTestDelegate(), newTestDelegate()
	a := startNode(t, tlsConfig(ca, ca, "a"), da)
	b := startNode(t, tlsConfig(ca, ca, "b", a.Addr()), db)
	eventually(t, 5*time.Second, "TLS link", func() bool { return hasPeers(a, b.ID()) && hasPeers(b, a.ID()) })
	subscribe(b, db, "secure", true)
	eventually(t, 5*time.Second, "interest", func() bool { return wantsFrom(a, b.ID(), "secure") })
	a.Publish("secure", []byte("over TLS"))
	eventually(t, 5*time.Second, "delivery", func() bool { return len(db.received("secure")) == 1 })
	tc, ok := a.route.Load().links[0].conn.(*tls.Conn)
	if !ok {
		t.Fatalf("link is not TLS")
	}
	if cs := tc.ConnectionState(); cs.Version != tls.VersionTLS13 || len(cs.PeerCertificates) == 0 {
		t.Fatalf("TLS version %x, %d peer certificates", cs.Version, len(cs.PeerCertificates))
	}
	if s := a.Stats(); s.TLSRefused != 0 {
		t.Fatalf("refused %d", s.TLSRefused)
	}
}

func TestMutualTLSRefusesRogueCertificates(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t, "cluster")
	rogue := testpki.NewCA(t, "rogue")
	cases := []struct {
		name string
		cfg  func(addr string) Config
	}{
		// Trusts nothing of ours and presents a rogue certificate.
		{"rogue CA", func(addr string) Config { return tlsConfig(rogue, rogue, "r1", addr) }},
		// Trusts our CA but presents a certificate it did not sign: the
		// acceptor must check the client certificate.
		{"rogue client certificate", func(addr string) Config { return tlsConfig(ca, rogue, "r2", addr) }},
		// Plain TCP against a TLS port.
		{"plain TCP", func(addr string) Config { return testConfig(addr) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := startNode(t, tlsConfig(ca, ca, "a"), newTestDelegate())
			r := startNode(t, tc.cfg(a.Addr()), newTestDelegate())
			eventually(t, 5*time.Second, "refusals", func() bool { return a.Stats().TLSRefused >= 2 })
			if a.Connected() || r.Connected() {
				t.Fatalf("rogue node linked")
			}
		})
	}
	t.Run("client without certificate", func(t *testing.T) {
		t.Parallel()
		a := startNode(t, tlsConfig(ca, ca, "a"), newTestDelegate())
		c, err := tls.Dial("tcp", a.Addr(), &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}) //nolint:gosec // test client
		if err == nil {
			// TLS 1.3 reports the missing certificate on the first read.
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			_, err = c.Read(make([]byte, 1))
			_ = c.Close()
		}
		if err == nil {
			t.Fatalf("handshake without client certificate accepted")
		}
		eventually(t, 5*time.Second, "refusal", func() bool { return a.Stats().TLSRefused == 1 })
	})
	t.Run("dialing a rogue acceptor", func(t *testing.T) {
		t.Parallel()
		r := startNode(t, tlsConfig(ca, rogue, "r3"), newTestDelegate())
		a := startNode(t, tlsConfig(ca, ca, "a", r.Addr()), newTestDelegate())
		eventually(t, 5*time.Second, "refusals", func() bool { return a.Stats().TLSRefused >= 2 })
		if a.Connected() || r.Connected() {
			t.Fatalf("rogue node linked")
		}
	})
}
