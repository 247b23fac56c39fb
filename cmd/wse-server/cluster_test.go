package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"
)

// clusterArgs are the flags of a cluster node on free ports with fast
// failure detection.
func clusterArgs(clusterPort int, seeds ...string) []string {
	args := append([]string{"--client-subscriptions", "any", "--presence", "--cluster-port", fmt.Sprint(clusterPort)}, freePorts...)
	if len(seeds) > 0 {
		args = append(args, "--seeds", strings.Join(seeds, ","))
	}
	return args
}

// health fetches GET /health of p.
func health(t *testing.T, p *proc) map[string]any {
	t.Helper()
	resp, err := http.Get(p.apiURL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// waitFor polls cond until it holds or waitTimeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publishVia posts a publication to p's control API.
func publishVia(t *testing.T, p *proc, topic, data string) {
	t.Helper()
	body := fmt.Sprintf(`{"topic":%q,"data":%s}`, topic, data)
	resp, err := http.Post(p.apiURL+"/api/publish", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
}

// subscribeClient connects to p and subscribes to topic.
func subscribeClient(t *testing.T, p *proc, topic string) *client {
	t.Helper()
	c := connect(t, p)
	req := fmt.Sprintf(`{"t":"subscription_update","p":{"action":"subscribe","topics":[%q]}}`, topic)
	if err := wsutil.WriteClientText(c.rw, []byte(req)); err != nil {
		t.Fatal(err)
	}
	c.readUntil(t, `"subscription_update"`)
	return c
}

// readUntil reads frames until one contains want, returning it.
func (c *client) readUntil(t *testing.T, want string) string {
	t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(waitTimeout))
	for range 10000 {
		data, _, err := wsutil.ReadServerData(c.rw)
		if err != nil {
			t.Fatalf("read waiting for %s: %v", want, err)
		}
		if strings.Contains(string(data), want) {
			return string(data)
		}
	}
	t.Fatalf("no frame with %s", want)
	return ""
}

// TestBinaryClusterOfThreeProcesses runs three wse-server processes: C and
// B know only the seed A. A publication on A reaches subscribers on B and C;
// after A is killed with SIGKILL, B and C notice, keep delivering to each
// other, and link to A again when it comes back on the same port.
func TestBinaryClusterOfThreeProcesses(t *testing.T) {
	t.Parallel()
	portA := freePort(t)
	seed := fmt.Sprintf("127.0.0.1:%d", portA)
	a := start(t, clusterArgs(portA))
	b := start(t, clusterArgs(freePort(t), seed))
	c := start(t, clusterArgs(freePort(t), seed))
	for _, p := range []*proc{a, b, c} {
		waitFor(t, "full mesh", func() bool { return health(t, p)["cluster_peer_count"] == float64(2) })
	}
	cb := subscribeClient(t, b, "news")
	cc := subscribeClient(t, c, "news")
	// A user present in "room" on A is visible on B.
	ca := connect(t, a)
	if err := wsutil.WriteClientText(ca.rw, []byte(`{"t":"subscription_update","p":{"action":"subscribe","topics":["room"],"presence":{"name":"ann"}}}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "A's user in B's presence", func() bool { return presenceUsers(t, b, "room") == 1 })

	// Interest travels asynchronously: publish until both have one.
	for i := 0; ; i++ {
		publishVia(t, a, "news", fmt.Sprintf(`{"t":"warmup","p":{"i":%d}}`, i))
		_ = cb.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		data, _, err := wsutil.ReadServerData(cb.rw)
		if err == nil && strings.Contains(string(data), "warmup") {
			break
		}
		if i > 100 {
			t.Fatal("no route from A to B")
		}
	}
	publishVia(t, a, "news", `{"t":"headline","p":{"n":1}}`)
	for _, cl := range []*client{cb, cc} {
		cl.readUntil(t, `"headline"`)
	}

	// kill -9 A: B and C notice within the failure timeout and keep working.
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*proc{b, c} {
		waitFor(t, "A declared dead", func() bool { return health(t, p)["cluster_peer_count"] == float64(1) })
		waitFor(t, "A's user gone", func() bool { return presenceUsers(t, p, "room") == 0 })
	}
	publishVia(t, b, "news", `{"t":"after_kill","p":{}}`)
	cc.readUntil(t, `"after_kill"`)

	// A comes back on the same cluster port; both relink to it.
	a2 := start(t, clusterArgs(portA))
	for _, p := range []*proc{a2, b, c} {
		waitFor(t, "mesh after restart", func() bool { return health(t, p)["cluster_peer_count"] == float64(2) })
	}
	// The restarted process is a new node (new id): routes are rebuilt.
	cb2 := subscribeClient(t, a2, "news")
	for i := 0; ; i++ {
		publishVia(t, b, "news", fmt.Sprintf(`{"t":"relinked","p":{"i":%d}}`, i))
		_ = cb2.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		data, _, err := wsutil.ReadServerData(cb2.rw)
		if err == nil && strings.Contains(string(data), "relinked") {
			break
		}
		if i > 100 {
			t.Fatal("no route from B to the restarted A")
		}
	}
}

// presenceUsers returns num_users of GET /api/presence/{topic}/stats on p.
func presenceUsers(t *testing.T, p *proc, topic string) int {
	t.Helper()
	resp, err := http.Get(p.apiURL + "/api/presence/" + topic + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		NumUsers int `json:"num_users"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.NumUsers
}
