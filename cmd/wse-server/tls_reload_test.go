package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"

	"github.com/wse-go/wse/internal/testpki"
)

// tlsFiles are one node's cluster TLS files, rewritten in place to rotate.
type tlsFiles struct{ ca, cert, key string }

func newTLSFiles(t *testing.T, name string, caPEM []byte, issuer *testpki.CA) tlsFiles {
	t.Helper()
	dir := t.TempDir()
	f := tlsFiles{ca: filepath.Join(dir, "ca.pem"), cert: filepath.Join(dir, name+".pem"), key: filepath.Join(dir, name+"-key.pem")}
	f.write(t, caPEM, issuer, name)
	return f
}

// write replaces the files: the CA bundle, and when issuer is set a new
// certificate and key it signs.
func (f tlsFiles) write(t *testing.T, caPEM []byte, issuer *testpki.CA, name string) {
	t.Helper()
	testpki.WriteFile(t, f.ca, caPEM)
	if issuer != nil {
		cert, key := issuer.Issue(name)
		testpki.WriteFile(t, f.cert, cert)
		testpki.WriteFile(t, f.key, key)
	}
}

func (f tlsFiles) args() []string {
	return []string{"--tls-ca", f.ca, "--tls-cert", f.cert, "--tls-key", f.key}
}

// metric reads one unlabelled series from p's /metrics.
func metric(t *testing.T, p *proc, name string) float64 {
	t.Helper()
	resp, err := http.Get(p.apiURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("/metrics lacks %s", name)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// reloadWith sends SIGHUP to p and waits until its reload counter says it
// has taken the files.
func reloadWith(t *testing.T, p *proc) {
	t.Helper()
	before := metric(t, p, "wse_cluster_tls_reloads_total")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "TLS reloaded", func() bool { return metric(t, p, "wse_cluster_tls_reloads_total") == before+1 })
}

func TestBinarySIGHUPRotatesClusterCertificatesUnderTraffic(t *testing.T) {
	t.Parallel()
	oldCA, newCA := testpki.NewCA(t, "old"), testpki.NewCA(t, "new")
	fa := newTLSFiles(t, "a", oldCA.PEM, oldCA)
	fb := newTLSFiles(t, "b", oldCA.PEM, oldCA)
	portA := freePort(t)
	a := start(t, append(clusterArgs(portA), fa.args()...))
	b := start(t, append(clusterArgs(freePort(t), fmt.Sprintf("127.0.0.1:%d", portA)), fb.args()...))
	for _, p := range []*proc{a, b} {
		waitFor(t, "TLS link", func() bool { return health(t, p)["cluster_peer_count"] == float64(1) })
	}
	sub := subscribeClient(t, b, "ticks")
	for i := 0; ; i++ {
		publishVia(t, a, "ticks", fmt.Sprintf(`{"t":"warmup","p":{"i":%d}}`, i))
		_ = sub.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if data, _, err := wsutil.ReadServerData(sub.rw); err == nil && strings.Contains(string(data), "warmup") {
			break
		}
		if i > 100 {
			t.Fatal("no route from A to B")
		}
	}
	// Publications flow from A to B's subscriber during the whole rotation;
	// each is read back in order before the next step.
	n := 0
	flow := func(count int) {
		t.Helper()
		for range count {
			publishVia(t, a, "ticks", fmt.Sprintf(`{"t":"tick","p":{"n":%d}}`, n))
			sub.readUntil(t, fmt.Sprintf(`"n":%d}`, n))
			n++
		}
	}
	flow(10)
	// Step 1: the bundle of old and new CA everywhere.
	bundle := testpki.Bundle(oldCA, newCA)
	fa.write(t, bundle, nil, "a")
	fb.write(t, bundle, nil, "b")
	reloadWith(t, a)
	flow(10)
	reloadWith(t, b)
	flow(10)
	// Step 2: certificates signed by the new CA.
	fa.write(t, bundle, newCA, "a")
	fb.write(t, bundle, newCA, "b")
	reloadWith(t, a)
	flow(10)
	reloadWith(t, b)
	flow(10)
	// A third process trusting only the new CA links to both: they present
	// the new certificates and accept its own.
	fc := newTLSFiles(t, "c", newCA.PEM, newCA)
	c := start(t, append(clusterArgs(freePort(t), fmt.Sprintf("127.0.0.1:%d", portA)), fc.args()...))
	for _, p := range []*proc{a, b, c} {
		waitFor(t, "mesh of three", func() bool { return health(t, p)["cluster_peer_count"] == float64(2) })
	}
	flow(10)
	for _, p := range []*proc{a, b} {
		if r := health(t, p)["cluster_reconnect_count"]; r != float64(0) {
			t.Fatalf("reconnects during the rotation: %v", r)
		}
	}
	// A SIGHUP with unreadable files keeps the material in force and the
	// process running.
	testpki.WriteFile(t, fa.ca, []byte("not PEM"))
	if err := a.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "failed reload logged", func() bool { return strings.Contains(a.stderrText(), "cluster TLS not reloaded") })
	flow(5)
}
