package server

import (
	"fmt"
	"testing"
)

func TestAPIQueueGroupJoinPublishLeave(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	a, b := dial(t, srv, nil), dial(t, srv, nil)
	for _, c := range []*wsClient{a, b} {
		status, body := call(t, srv, "POST", "/api/subscribe", map[string]any{"conn_id": c.connID(), "topics": []string{"jobs"}, "queue_group": "workers"}, "")
		if status != 200 || body["ok"] != true {
			t.Fatalf("join = %d %v", status, body)
		}
	}
	status, body := call(t, srv, "GET", "/api/topics/jobs", nil, "")
	if groups := fmt.Sprint(body["queue_groups"]); status != 200 || groups != "[map[delivered:0 dropped:0 members:2 name:workers]]" {
		t.Fatalf("GET /api/topics/jobs = %d %v", status, body)
	}
	for i := range 4 {
		status, body := call(t, srv, "POST", "/api/publish", map[string]any{"topic": "jobs", "data": map[string]any{"t": "job", "p": map[string]any{"n": i}}}, "")
		if status != 200 || body["delivered"] != 1.0 {
			t.Fatalf("publish = %d %v: one member of the group gets each", status, body)
		}
	}
	for _, c := range []*wsClient{a, b} {
		for range 2 {
			c.readUntil(func(m map[string]any) bool { return m["t"] == "job" && m["tp"] == "jobs" })
		}
	}
	if status, body := call(t, srv, "POST", "/api/unsubscribe", map[string]any{"conn_id": a.connID(), "topics": []string{"jobs"}, "queue_group": "workers"}, ""); status != 200 {
		t.Fatalf("leave = %d %v", status, body)
	}
	for _, bad := range []map[string]any{
		{"conn_id": a.connID(), "topics": []string{"jobs.*"}, "queue_group": "workers"},
		{"conn_id": a.connID(), "topics": []string{"jobs"}, "queue_group": "workers", "recover": true},
	} {
		if status, body := call(t, srv, "POST", "/api/subscribe", bad, ""); status != 400 {
			t.Fatalf("subscribe %v = %d %v, want 400", bad, status, body)
		}
	}
	if status, body := call(t, srv, "POST", "/api/unsubscribe", map[string]any{"conn_id": a.connID(), "queue_group": "workers"}, ""); status != 400 {
		t.Fatalf("leave without topics = %d %v, want 400", status, body)
	}
}
