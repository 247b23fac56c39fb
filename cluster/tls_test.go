package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testCA is a throwaway certificate authority written to a temp dir.
type testCA struct {
	t    testing.TB
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // CA certificate PEM path
}

// newTestCA creates a CA named name under t.TempDir().
func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := &testCA{t: t, dir: dir, cert: cert, key: key, file: filepath.Join(dir, name+"-ca.pem")}
	writePEM(t, ca.file, "CERTIFICATE", der)
	return ca
}

// issue writes a node certificate and key signed by the CA and returns
// their paths.
func (ca *testCA) issue(name string) (certFile, keyFile string) {
	t := ca.t
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// Parallel subtests issue the same name from one CA: the serial keeps
	// their files apart.
	base := filepath.Join(ca.dir, fmt.Sprintf("%s-%x", name, serial))
	certFile, keyFile = base+".pem", base+"-key.pem"
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", kder)
	return certFile, keyFile
}

// tlsConfig returns a test config trusting trust and presenting a
// certificate issued by signer.
func tlsConfig(trust, signer *testCA, name string, peers ...string) Config {
	cfg := testConfig(peers...)
	cfg.TLSCA = trust.file
	cfg.TLSCert, cfg.TLSKey = signer.issue(name)
	return cfg
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestMutualTLSAcceptsClusterCA(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "cluster")
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
	ca := newTestCA(t, "cluster")
	rogue := newTestCA(t, "rogue")
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
