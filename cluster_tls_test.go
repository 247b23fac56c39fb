package wse_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/cluster"
	"github.com/wse-go/wse/internal/testpki"
)

// tlsNode starts a cluster node with the given TLS files, joining seed
// unless it is "".
func tlsNode(t *testing.T, id, seed, caFile, certFile, keyFile string) *wse.Server {
	t.Helper()
	srv := startServer(t, wse.Config{JWT: wse.JWTConfig{Secret: testSecret}, ClientSubscriptions: wse.PolicyAny})
	cc := wse.ClusterConfig{NodeID: id, Heartbeat: 200 * time.Millisecond, DeadAfter: 5 * time.Second,
		TLSCA: caFile, TLSCert: certFile, TLSKey: keyFile}
	if seed != "" {
		cc.Seeds = []string{seed}
	}
	if err := srv.ConnectCluster(cc); err != nil {
		t.Fatalf("ConnectCluster %s: %v", id, err)
	}
	return srv
}

func TestReloadClusterTLSRotatesTheCAWhileLinksStayUp(t *testing.T) {
	t.Parallel()
	oldCA, newCA := testpki.NewCA(t, "old"), testpki.NewCA(t, "new")
	dir := t.TempDir()
	oldFile, bundleFile, newFile := filepath.Join(dir, "old.pem"), filepath.Join(dir, "bundle.pem"), filepath.Join(dir, "new.pem")
	testpki.WriteFile(t, oldFile, oldCA.PEM)
	testpki.WriteFile(t, bundleFile, testpki.Bundle(oldCA, newCA))
	testpki.WriteFile(t, newFile, newCA.PEM)

	certA, keyA := oldCA.IssueFiles("a")
	certB, keyB := oldCA.IssueFiles("b")
	a := tlsNode(t, "a", "", oldFile, certA, keyA)
	b := tlsNode(t, "b", a.ClusterAddr(), oldFile, certB, keyB)
	eventually(t, "a and b linked", func() bool { return a.ClusterPeersCount() == 1 && b.ClusterPeersCount() == 1 })
	linkedAt := a.ClusterInfo()[0].ConnectedAt

	// A subscriber on B reads publications made on A without pause while
	// the rotation goes on.
	sub, _ := ready(t, wsURL(b, ""), bearer(token(t, "reader", nil)))
	sub.send(subscribeReq("ticks"))
	sub.readType("subscription_update")
	waitRoute(t, a, "ticks", sub)
	var published atomic.Int64
	stop := make(chan struct{})
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if _, err := a.Broadcast("ticks", fmt.Sprintf(`{"t":"tick","p":{"i":%d}}`, i)); err != nil {
				return
			}
			published.Add(1)
		}
	}()
	got := 0
	readTicks := func(until int64) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for int64(got) < until && time.Now().Before(deadline) {
			m := sub.readType("tick")
			if i := payload(m)["i"]; i != float64(got) {
				t.Fatalf("tick %v after %d: a publication was lost or reordered", i, got-1)
			}
			got++
		}
		if int64(got) < until {
			t.Fatalf("read %d ticks of %d", got, until)
		}
	}
	readTicks(20)

	// Step 1: every node trusts the old and the new CA, certificates unchanged.
	if err := a.ReloadClusterTLS(certA, keyA, bundleFile); err != nil {
		t.Fatal(err)
	}
	if err := b.ReloadClusterTLS(certB, keyB, bundleFile); err != nil {
		t.Fatal(err)
	}
	readTicks(published.Load() + 20)

	// Step 2: certificates signed by the new CA.
	newCertA, newKeyA := newCA.IssueFiles("a")
	newCertB, newKeyB := newCA.IssueFiles("b")
	if err := a.ReloadClusterTLS(newCertA, newKeyA, bundleFile); err != nil {
		t.Fatal(err)
	}
	if err := b.ReloadClusterTLS(newCertB, newKeyB, bundleFile); err != nil {
		t.Fatal(err)
	}
	readTicks(published.Load() + 20)

	// A node that knows only the new CA joins: A and B now present
	// new-CA certificates and accept its own.
	certC, keyC := newCA.IssueFiles("c")
	c := tlsNode(t, "c", a.ClusterAddr(), newFile, certC, keyC)
	eventually(t, "c linked to a and b", func() bool { return c.ClusterPeersCount() == 2 })
	// A node still on the old CA alone is refused by C.
	certD, keyD := oldCA.IssueFiles("d")
	d := tlsNode(t, "d", c.ClusterAddr(), oldFile, certD, keyD)
	eventually(t, "c refuses d's old-CA certificate", func() bool { return c.Metrics().ClusterTLSRefused > 0 })
	if n := d.ClusterPeersCount(); n != 0 {
		t.Fatalf("old-CA-only node linked to %d peers", n)
	}

	close(stop)
	<-pubDone
	readTicks(published.Load())
	// The A–B link was never replaced.
	for _, p := range a.ClusterInfo() {
		if p.ID == "b" && !p.ConnectedAt.Equal(linkedAt) {
			t.Fatalf("a's link to b was re-made at %v (first %v)", p.ConnectedAt, linkedAt)
		}
	}
	if n := a.HealthSnapshot().ClusterReconnectCount + b.HealthSnapshot().ClusterReconnectCount; n != 0 {
		t.Fatalf("%d reconnects during the rotation", n)
	}
	// A bad file changes nothing; a node without TLS or cluster says so.
	if err := a.ReloadClusterTLS(newCertA, newKeyA, filepath.Join(dir, "missing.pem")); !errors.Is(err, cluster.ErrInvalidConfig) {
		t.Fatalf("reload with a missing CA file: %v", err)
	}
	if err := startServer(t, wse.Config{}).ReloadClusterTLS(newCertA, newKeyA, newFile); !errors.Is(err, wse.ErrNoCluster) {
		t.Fatalf("reload without a cluster: %v", err)
	}
}
