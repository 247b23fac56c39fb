package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestJSONLogsWriteDurationsAsText(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	cfg := DefaultConfig()
	cfg.LogFormat = "json"
	cfg.Logger(&b).Info("draining", "timeout", 1500*time.Millisecond)
	var line map[string]any
	if err := json.Unmarshal(b.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["timeout"] != "1.5s" {
		t.Fatalf("timeout logged as %#v, want \"1.5s\"", line["timeout"])
	}
}

func TestAPIAuthFailuresAreLoggedAndCountedWithoutTheKey(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	cfg := DefaultConfig()
	cfg.Port, cfg.APIAddr, cfg.APIKey, cfg.LogFormat = 0, "127.0.0.1:0", "right-key-"+strings.Repeat("r", 20), "json"
	srv, err := New(cfg, cfg.Logger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	const wrong = "wrong-key-do-not-log"
	if code, _ := call(t, srv, http.MethodGet, "/api/connections", nil, wrong); code != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d", code)
	}
	if code, _ := call(t, srv, http.MethodGet, "/api/connections", nil, ""); code != http.StatusUnauthorized {
		t.Fatalf("no key: %d", code)
	}
	waitFor(t, "two refusals logged", func() bool { return strings.Count(logs.String(), "control API: request refused") == 2 })
	out := logs.String()
	if strings.Contains(out, wrong) || strings.Contains(out, cfg.APIKey) {
		t.Fatalf("a key reached the log:\n%s", out)
	}
	for _, want := range []string{`"reason":"wrong API key"`, `"reason":"no API key"`, `"path":"/api/connections"`, `"remote":"127.0.0.1:`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if n := srv.apiAuthFailures.Load(); n != 2 {
		t.Errorf("apiAuthFailures = %d, want 2", n)
	}
}
