package server

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

func TestAPISendEventBytesAndBroadcastAllBytes(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	c := dial(t, srv, nil)
	id := c.connID()

	status, body := call(t, srv, "POST", "/api/send_event", map[string]any{"conn_id": id, "event": map[string]any{"t": "order_update", "p": map[string]any{"n": 1}}}, "")
	if status != 200 || body["bytes"].(float64) <= 0 {
		t.Fatalf("send_event = %d %v", status, body)
	}
	m := c.readUntil(func(m map[string]any) bool { return m["t"] == "order_update" })
	if m["id"] == nil || m["ts"] == nil || m["seq"] == nil || m["c"] != "U" {
		t.Errorf("event without its envelope: %v", m)
	}

	raw := []byte{0, 1, 2, 255}
	if status, body := call(t, srv, "POST", "/api/send_bytes", map[string]any{"conn_id": id, "data": base64.StdEncoding.EncodeToString(raw)}, ""); status != 200 {
		t.Fatalf("send_bytes = %d %v", status, body)
	}
	readBinary(t, c, raw)
	if status, body := call(t, srv, "POST", "/api/broadcast_all_bytes", map[string]any{"data": base64.StdEncoding.EncodeToString(raw)}, ""); status != 200 || body["delivered"] != 1.0 {
		t.Fatalf("broadcast_all_bytes = %d %v", status, body)
	}
	readBinary(t, c, raw)

	for _, tc := range []struct {
		path string
		body any
		want int
		code string
	}{
		{"/api/send_event", map[string]any{"conn_id": id}, 400, codeMissingField},
		{"/api/send_event", map[string]any{"conn_id": "nope", "event": map[string]any{"t": "x"}}, 404, codeUnknownConn},
		{"/api/send_event", `{"conn_id":"` + id + `","event":[1]}`, 400, codeInvalidField},
		{"/api/send_bytes", map[string]any{"conn_id": id, "data": "not base64!"}, 400, codeInvalidJSON},
		{"/api/send_bytes", map[string]any{"conn_id": id}, 400, codeMissingField},
		{"/api/send_bytes", map[string]any{"conn_id": "nope", "data": "AA=="}, 404, codeUnknownConn},
		{"/api/broadcast_all_bytes", map[string]any{}, 400, codeMissingField},
	} {
		if status, body := call(t, srv, "POST", tc.path, tc.body, ""); status != tc.want || errorCode(body) != tc.code {
			t.Errorf("%s %v = %d %v, want %d %s", tc.path, tc.body, status, body, tc.want, tc.code)
		}
	}
}

// readBinary reads frames until a binary one, which must equal want.
func readBinary(t *testing.T, c *wsClient, want []byte) {
	t.Helper()
	for range 100 {
		data, op, err := c.read()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if op == ws.OpBinary {
			if string(data) != string(want) {
				t.Fatalf("binary frame %v, want %v", data, want)
			}
			return
		}
	}
	t.Fatal("no binary frame")
}

func TestAPISetTopicACLGovernsClientRequests(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	c := dial(t, srv, nil)
	id := c.connID()
	if status, body := call(t, srv, "POST", "/api/set_topic_acl", map[string]any{"conn_id": id, "allow": []string{"room:*"}, "deny": []string{"room:secret"}}, ""); status != 200 {
		t.Fatalf("set_topic_acl = %d %v", status, body)
	}
	c.send(map[string]any{"t": "subscription_update", "p": map[string]any{"action": "subscribe", "topics": []string{"room:1", "room:secret", "other"}}})
	p := c.readUntil(func(m map[string]any) bool { return m["t"] == "subscription_update" })["p"].(map[string]any)
	if fmt.Sprint(p["success_topics"]) != "[room:1]" {
		t.Errorf("reply = %v", p)
	}
	for _, tc := range []struct {
		body any
		want int
		code string
	}{
		{map[string]any{"conn_id": id}, 400, codeMissingField},
		{map[string]any{"allow": []string{"a"}}, 400, codeMissingField},
		{map[string]any{"conn_id": id, "allow": []string{""}}, 400, codeInvalidField},
		{map[string]any{"conn_id": "nope", "allow": []string{"a"}}, 404, codeUnknownConn},
	} {
		if status, body := call(t, srv, "POST", "/api/set_topic_acl", tc.body, ""); status != tc.want || errorCode(body) != tc.code {
			t.Errorf("%v = %d %v, want %d %s", tc.body, status, body, tc.want, tc.code)
		}
	}
}

func TestAPIBatchPublishesEachAndReportsFailures(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.SubscribeOnConnect = []string{"a", "b"} })
	c := dial(t, srv, nil)
	waitFor(t, "subscriptions", func() bool { return srv.Engine().TopicSubscriberCount("b") == 1 })
	status, body := call(t, srv, "POST", "/api/batch", map[string]any{"publishes": []any{
		map[string]any{"topic": "a", "data": map[string]any{"t": "one"}},
		map[string]any{"topic": "", "data": map[string]any{"t": "bad"}},
		map[string]any{"topic": "b", "data": 42},
		map[string]any{"topic": "b", "data": map[string]any{"t": "two"}, "local": true},
		map[string]any{"topic": "nobody", "data": "text"},
	}}, "")
	if status != 200 || body["delivered"] != 2.0 || body["failed"] != 2.0 {
		t.Fatalf("batch = %d %v", status, body)
	}
	results := body["results"].([]any)
	if len(results) != 5 || results[1].(map[string]any)["error"] == nil || results[2].(map[string]any)["error"] == nil || results[4].(map[string]any)["delivered"] != 0.0 {
		t.Errorf("results = %v", results)
	}
	c.readUntil(func(m map[string]any) bool { return m["t"] == "one" })
	c.readUntil(func(m map[string]any) bool { return m["t"] == "two" })
	if status, body := call(t, srv, "POST", "/api/batch", map[string]any{"publishes": []any{}}, ""); status != 400 || errorCode(body) != codeMissingField {
		t.Errorf("empty batch = %d %v", status, body)
	}
	big := make([]any, maxBatch+1)
	for i := range big {
		big[i] = map[string]any{"topic": "a", "data": "x"}
	}
	if status, body := call(t, srv, "POST", "/api/batch", map[string]any{"publishes": big}, ""); status != 400 || errorCode(body) != codeInvalidField {
		t.Errorf("oversized batch = %d %v", status, body)
	}
}

func TestAPITopicsRecoveryPositionAndCluster(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.Recovery = true; c.SubscribeOnConnect = []string{"feed"} })
	dial(t, srv, nil)
	waitFor(t, "subscription", func() bool { return srv.Engine().TopicSubscriberCount("feed") == 1 })
	if status, body := call(t, srv, "GET", "/api/topics", nil, ""); status != 200 || fmt.Sprint(body["topics"]) != "[feed]" || body["count"] != 1.0 {
		t.Errorf("topics = %d %v", status, body)
	}
	for range 3 {
		call(t, srv, "POST", "/api/publish", map[string]any{"topic": "feed", "data": map[string]any{"t": "x"}}, "")
	}
	status, body := call(t, srv, "GET", "/api/recovery/feed", nil, "")
	if status != 200 || body["offset"] != 3.0 || body["buffered"] != true || body["epoch"] == "" {
		t.Errorf("recovery position = %d %v", status, body)
	}
	if status, body := call(t, srv, "GET", "/api/recovery/never", nil, ""); status != 200 || body["buffered"] != false {
		t.Errorf("unbuffered position = %d %v", status, body)
	}
	plain := startServer(t, nil)
	if status, body := call(t, plain, "GET", "/api/recovery/feed", nil, ""); status != 409 || errorCode(body) != codeRecoveryDisabled {
		t.Errorf("position without recovery = %d %v", status, body)
	}
	if status, body := call(t, plain, "GET", "/api/cluster", nil, ""); status != 200 || body["enabled"] != false || body["peer_count"] != 0.0 {
		t.Errorf("cluster = %d %v", status, body)
	}
	if status, body := call(t, plain, "POST", "/api/cluster/dead_letters", nil, ""); status != 409 || errorCode(body) != codeNoCluster {
		t.Errorf("dead letters without a cluster = %d %v", status, body)
	}
}

func TestAPIClusterInfoAndDeadLettersOnAClusterNode(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.ClusterPort = freePort(t) })
	status, body := call(t, srv, "GET", "/api/cluster", nil, "")
	if status != 200 || body["enabled"] != true || body["addr"] == "" {
		t.Errorf("cluster = %d %v", status, body)
	}
	if status, body := call(t, srv, "POST", "/api/cluster/dead_letters", nil, ""); status != 200 || body["count"] != 0.0 {
		t.Errorf("dead letters = %d %v", status, body)
	}
}

func TestAPIDrainClosesClientsAndRefusesNewOnes(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	c := dial(t, srv, nil)
	for _, body := range []any{
		map[string]any{"code": 999}, map[string]any{"code": 1005}, map[string]any{"timeout_ms": -1},
		map[string]any{"timeout_ms": 600000}, map[string]any{"reason": strings.Repeat("x", 200)},
	} {
		if status, resp := call(t, srv, "POST", "/api/drain", body, ""); status != 400 || errorCode(resp) != codeInvalidField {
			t.Errorf("drain %v = %d %v", body, status, resp)
		}
	}
	status, body := call(t, srv, "POST", "/api/drain", map[string]any{"timeout_ms": 5000}, "")
	if status != 200 || body["connections_left"] != 0.0 {
		t.Fatalf("drain = %d %v", status, body)
	}
	if got := c.closeCode(); got != DrainCode {
		t.Errorf("close code %d, want %d", got, DrainCode)
	}
	resp, err := http.Get("http://" + srv.Addr() + srv.Config().Path)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("upgrade after drain = %d, want 503", resp.StatusCode)
		}
	}
}

// routeLiteral finds route registrations in the server's and the monitor's
// source: post("…"), get("…") and HandleFunc("…").
var routeLiteral = regexp.MustCompile(`(?:post|get|HandleFunc)\("(/[^"]*)"`)

func TestOpenAPIDocumentMatchesTheRoutes(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	// Every route in the source is in the document ...
	var routes []string
	for _, f := range []string{"api.go", "api_engine.go", filepath.Join("..", "monitor", "monitor.go")} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range routeLiteral.FindAllStringSubmatch(string(src), -1) {
			if p := m[1]; p != "/" && !strings.HasPrefix(p, "/debug/pprof/") {
				routes = append(routes, p)
			}
		}
	}
	resp, err := httpClient.Get("http://" + srv.APIAddr() + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi.json: %v %q", err, doc.OpenAPI)
	}
	for _, r := range routes {
		if doc.Paths[r] == nil {
			t.Errorf("route %s is not in the OpenAPI document", r)
		}
	}
	// ... and every operation of the document is served with its method.
	for path, ops := range doc.Paths {
		if !slices.Contains(routes, path) {
			t.Errorf("document path %s has no route", path)
		}
		for method := range ops {
			url := "http://" + srv.APIAddr() + strings.ReplaceAll(path, "{topic}", "t")
			req, _ := http.NewRequest(strings.ToUpper(method), url, nil)
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
				t.Errorf("%s %s = %d", method, path, resp.StatusCode)
			}
		}
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
