package wse_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wse-go/wse"
)

// logLines is an io.Writer that keeps JSON log lines, safe for concurrent
// use.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// with returns the decoded lines whose msg is msg.
func (l *logLines) with(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		var m map[string]any
		if line == "" {
			continue
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func TestClusterPeerEventsAreLoggedOnceWithTheAddress(t *testing.T) {
	t.Parallel()
	var logs logLines
	a := startServer(t, wse.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	b := startServer(t, wse.Config{})
	if err := a.ConnectCluster(wse.ClusterConfig{NodeID: "a", Heartbeat: 200 * time.Millisecond, DeadAfter: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := b.ConnectCluster(wse.ClusterConfig{NodeID: "b", Seeds: []string{a.ClusterAddr()}, Heartbeat: 200 * time.Millisecond, DeadAfter: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a sees b", func() bool { return a.ClusterPeersCount() == 1 })
	b.Stop() // SHUTDOWN: a reports the peer down at once
	eventually(t, "a logs b down", func() bool { return len(logs.with(t, "cluster: peer down")) == 1 })

	for _, msg := range []string{"cluster: peer link up", "cluster: peer down"} {
		for _, line := range logs.with(t, msg) {
			if line["peer"] != "b" || line["addr"] == "" || line["addr"] == nil {
				t.Errorf("%q line %v: want peer b and its address", msg, line)
			}
		}
	}
	if up := logs.with(t, "cluster: peer link up"); len(up) == 0 {
		t.Error("no peer link up line")
	}
	// The engine no longer repeats the node's line under its own name.
	for _, msg := range []string{"wse: cluster peer up", "wse: cluster peer down"} {
		if n := len(logs.with(t, msg)); n != 0 {
			t.Errorf("%d %q lines: the event is logged twice", n, msg)
		}
	}
}
