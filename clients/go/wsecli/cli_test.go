package wsecli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wse-go/wse/server"
)

// startServer runs a real wse-server (no auth, any topic) on free ports.
func startServer(t *testing.T) *server.Server {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Port, cfg.APIAddr, cfg.ClientSubscriptions = 0, "127.0.0.1:0", "any"
	cfg.EventsBufferBeforePoll = true // a test reads the events of a connection it made first
	srv, err := server.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// cli runs the client with args against srv and returns its exit code,
// stdout and stderr.
func cli(t *testing.T, srv *server.Server, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	all := append([]string{"--url", srv.WebSocketURL(), "--api", "http://" + srv.APIAddr()}, args...)
	code := run(ctx, "wse-cli", all, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestConnectPrintsTheConnection(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	code, out, stderr := cli(t, srv, "connect")
	if code != 0 || !strings.Contains(out, "connection ") || !strings.Contains(out, "user       (anonymous)") {
		t.Fatalf("connect: exit %d, %q, %q", code, out, stderr)
	}
}

func TestSendReachesTheServerAsAClientMessage(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	code, out, stderr := cli(t, srv, "send", "chat", `{"text":"hi"}`)
	if code != 0 || !strings.HasPrefix(out, "sent chat as connection ") {
		t.Fatalf("send: exit %d, %q, %q", code, out, stderr)
	}
	connID := strings.TrimSpace(strings.TrimPrefix(out, "sent chat as connection "))
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + srv.APIAddr() + "/api/events?timeout_ms=2000")
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Events []map[string]any `json:"events"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range body.Events {
			raw, _ := json.Marshal(ev)
			if ev["conn_id"] == connID && strings.Contains(string(raw), `"hi"`) {
				return
			}
		}
	}
	t.Fatal("the server never reported the message")
}

func TestTailPrintsPublishedMessagesAsJSON(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	done := make(chan struct{})
	var code int
	var out, stderr string
	go func() {
		defer close(done)
		code, out, stderr = cli(t, srv, "--json", "tail", "--count", "2", "prices")
	}()
	deadline := time.Now().Add(20 * time.Second)
	for srv.Engine().TopicSubscriberCount("prices") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("tail never subscribed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, data := range []string{`{"t":"tick","p":{"px":1}}`, "plain"} {
		if c, o, e := cli(t, srv, "publish", "prices", data); c != 0 {
			t.Fatalf("publish: %d %q %q", c, o, e)
		}
	}
	<-done
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.Contains(lines[1], `"t":"tick"`) || lines[2] != "plain" {
		t.Fatalf("tail: exit %d, %q, %q", code, out, stderr)
	}
}

func TestBadArgumentsExitTwo(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	for _, args := range [][]string{{}, {"nope"}, {"publish", "t"}, {"subscribe"}, {"tail", "--count", "-1", "t"}, {"--bogus", "connect"}} {
		if code, _, stderr := cli(t, srv, args...); code != 2 || stderr == "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a message", args, code, stderr)
		}
	}
	if code, out, _ := cli(t, srv, "--help"); code != 0 || !strings.Contains(out, "tail") {
		t.Errorf("--help: exit %d, %q", code, out)
	}
	if code, out, _ := cli(t, srv, "--version"); code != 0 || !strings.HasPrefix(out, "wse-cli ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

func TestPublishReportsTheServersError(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	code, _, stderr := cli(t, srv, "publish", "bad topic\x01", "x")
	if code != 1 || !strings.Contains(stderr, "INVALID_TOPIC") {
		t.Fatalf("exit %d, %q", code, stderr)
	}
}

func TestDefaultURLsFollowTheServersVariables(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	if got := serverURL(env(nil)); got != "ws://127.0.0.1:5007/wse" {
		t.Errorf("serverURL() = %q", got)
	}
	if got := serverURL(env(map[string]string{"WSE_HOST": "0.0.0.0", "WSE_PORT": "6000", "WSE_PATH": "/ws"})); got != "ws://127.0.0.1:6000/ws" {
		t.Errorf("serverURL(0.0.0.0:6000/ws) = %q", got)
	}
	if got := serverURL(env(map[string]string{"WSE_HOST": "::1"})); got != "ws://[::1]:5007/wse" {
		t.Errorf("serverURL(::1) = %q", got)
	}
	if got := apiURL(env(nil)); got != defaultAPI {
		t.Errorf("apiURL() = %q", got)
	}
	if got := apiURL(env(map[string]string{"WSE_API_ADDR": ":7000"})); got != "http://127.0.0.1:7000" {
		t.Errorf("apiURL(:7000) = %q", got)
	}
}
