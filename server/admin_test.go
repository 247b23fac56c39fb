package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// get fetches a URL and returns its status, content type and body.
func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

func TestWebAssetsAreServedWithTheirTypes(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.APIKey = "k" })
	ws, api := "http://"+srv.Addr(), "http://"+srv.APIAddr()
	cases := []struct {
		url, ctype string
		status     int
	}{
		{ws + "/assets/chat.js", "text/javascript", 200},
		{ws + "/assets/chat.css", "text/css", 200},
		{ws + "/assets/common.css", "text/css", 200},
		{ws + "/assets/index.html", "", 404},
		{ws + "/assets/../demo.go", "", 404},
		{ws + "/admin", "", 404}, // the dashboard is on the control API port only
		{api + "/admin", "text/html", 200},
		{api + "/admin/", "text/html", 200},
		{api + "/admin/assets/admin.js", "text/javascript", 200},
		{api + "/admin/assets/admin.css", "text/css", 200},
		{api + "/admin/assets/nope.js", "", 404},
	}
	for _, tc := range cases {
		status, ctype, _ := get(t, tc.url)
		if status != tc.status || !strings.HasPrefix(ctype, tc.ctype) {
			t.Errorf("GET %s = %d %q, want %d %q", tc.url, status, ctype, tc.status, tc.ctype)
		}
	}
}

func TestAdminSnapshotIsBehindTheKeyAndShowsConnectionsTopicsAndRates(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) {
		c.APIKey = "secret-key"
		c.Dev, c.Presence, c.Recovery = true, true, true
	})
	if status, _ := call(t, srv, "GET", "/api/admin/snapshot", nil, ""); status != http.StatusUnauthorized {
		t.Fatalf("snapshot without the key = %d, want 401", status)
	}
	c := dial(t, srv, nil)
	c.send(map[string]any{"t": "subscription_update", "p": map[string]any{"action": "subscribe", "topics": []string{"demo:lobby"}, "presence": map[string]any{"name": "Ann"}}})
	c.readUntil(func(m map[string]any) bool { return m["t"] == "subscription_update" })
	if status, body := call(t, srv, "POST", "/api/publish", map[string]any{"topic": "demo:lobby", "data": map[string]any{"t": "x"}}, "secret-key"); status != 200 {
		t.Fatalf("publish = %d %v", status, body)
	}
	var snap map[string]any
	waitFor(t, "a rate sample counting the publication", func() bool {
		_, snap = call(t, srv, "GET", "/api/admin/snapshot", nil, "secret-key")
		hist, _ := snap["history"].([]any)
		for _, h := range hist {
			if s, _ := h.(map[string]any); s["out"].(float64) > 0 {
				return true
			}
		}
		time.Sleep(100 * time.Millisecond)
		return false
	})
	conns, _ := snap["connections"].([]any)
	if len(conns) != 1 || conns[0].(map[string]any)["id"] != c.connID() {
		t.Fatalf("connections %v, want %s", conns, c.connID())
	}
	if topics := conns[0].(map[string]any)["topics"].([]any); len(topics) != 1 || topics[0] != "demo:lobby" {
		t.Fatalf("connection topics %v", topics)
	}
	topics, _ := snap["topics"].([]any)
	if len(topics) != 1 {
		t.Fatalf("topics %v", topics)
	}
	if row := topics[0].(map[string]any); row["topic"] != "demo:lobby" || row["subscribers"].(float64) != 1 || row["presence_users"].(float64) != 1 {
		t.Fatalf("topic row %v", row)
	}
	pres, _ := snap["presence"].([]any)
	if len(pres) != 1 || !strings.Contains(toJSON(t, pres), `"name":"Ann"`) {
		t.Fatalf("presence %v", pres)
	}
	server, _ := snap["server"].(map[string]any)
	if server["dev"] != true || !strings.Contains(server["policy"].(string), DemoTopics) {
		t.Fatalf("server %v", server)
	}
	if peers, _ := snap["peers"].([]any); peers == nil || len(peers) != 0 {
		t.Fatalf("peers %v, want []", snap["peers"])
	}
}

func TestRateHistoryKeepsTheNewestSamples(t *testing.T) {
	t.Parallel()
	var h rateHistory
	start := time.Unix(1000, 0)
	for i := range adminSamples + 10 {
		var m = h.last
		m.MessagesSent += 10
		h.add(start.Add(time.Duration(i)*time.Second), m)
	}
	got := h.samples()
	if len(got) != adminSamples {
		t.Fatalf("%d samples, want %d", len(got), adminSamples)
	}
	if last := got[len(got)-1]; last.Out != 10 || last.T != start.Add(time.Duration(adminSamples+9)*time.Second).UnixMilli() {
		t.Fatalf("last sample %+v", last)
	}
	if got[0].T >= got[1].T {
		t.Fatalf("samples out of order: %+v %+v", got[0], got[1])
	}
}

// toJSON encodes v for substring checks.
func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// freeLoopbackPort returns a loopback port that was free a moment ago.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestAdminSnapshotShowsClusterPeersWithLinkHealth(t *testing.T) {
	t.Parallel()
	portA, portB := freeLoopbackPort(t), freeLoopbackPort(t)
	a := startServer(t, func(c *Config) { c.ClusterPort = portA })
	b := startServer(t, func(c *Config) {
		c.ClusterPort = portB
		c.Peers = []string{fmt.Sprintf("127.0.0.1:%d", portA)}
	})
	for _, srv := range []*Server{a, b} {
		var peers []any
		waitFor(t, "a cluster peer with a measured link", func() bool {
			_, snap := call(t, srv, "GET", "/api/admin/snapshot", nil, "")
			peers, _ = snap["peers"].([]any)
			if len(peers) != 1 {
				return false
			}
			p := peers[0].(map[string]any)
			return p["rtt_ms"].(float64) > 0 && p["address"] != ""
		})
		p := peers[0].(map[string]any)
		if inbound := p["inbound"].(bool); inbound != (srv == a) {
			t.Fatalf("peer %v: inbound %v on the %s node", p, inbound, map[bool]string{true: "dialed", false: "dialing"}[srv == a])
		}
	}
}
