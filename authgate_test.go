package wse_test

import (
	"errors"
	"testing"
	"time"

	"github.com/wse-go/wse"
)

// firstMessageServer starts a server with JWT auth and first-message auth.
func firstMessageServer(t *testing.T, cfg wse.Config) *wse.Server {
	t.Helper()
	cfg.JWT.Secret = testSecret
	cfg.JWT.AuthFirstMessage = true
	srv := startServer(t, cfg)
	srv.EnableDrainMode()
	return srv
}

func TestFirstMessageAuthRegistersTheConnection(t *testing.T) {
	t.Parallel()
	srv := firstMessageServer(t, wse.Config{ClientSubscriptions: wse.PolicyAny})
	c := dial(t, wsURL(srv, "topics=news"), nil)
	// Nothing arrives before the auth message.
	if data, _, err := c.tryRead(100 * time.Millisecond); err == nil {
		t.Fatalf("frame %q before auth", data)
	}
	if n := srv.ConnectionCount(); n != 0 {
		t.Fatalf("ConnectionCount = %d before auth", n)
	}
	c.send(`{"t":"ping","p":{"timestamp":1}}`) // tolerated while waiting
	c.send(`{"t":"auth","p":{"token":"` + token(t, "alice", nil) + `"}}`)
	c.send(`{"t":"chat","p":{"text":"first"}}`)
	m := c.readJSON()
	details := payload(m)["details"].(map[string]any)
	if m["t"] != "server_ready" || details["user_id"] != "alice" {
		t.Fatalf("first frame %v, want server_ready for alice", m)
	}
	if r := c.readType("subscription_update"); payload(r)["success_topics"].([]any)[0] != "news" {
		t.Fatalf("?topics reply %v", r)
	}
	ev := nextEvent(t, srv, wse.EventAuthConnect, wse.EventMessage)
	if ev.Type != wse.EventAuthConnect || ev.UserID != "alice" || ev.ConnID != details["connection_id"] {
		t.Fatalf("first event %+v, want auth_connect for alice", ev)
	}
	if ev := nextEvent(t, srv, wse.EventMessage); payload(ev.Message)["text"] != "first" {
		t.Fatalf("message event %+v", ev)
	}
	if _, err := srv.Broadcast("news", `{"t":"headline","p":{}}`); err != nil {
		t.Fatal(err)
	}
	c.readType("headline")
}

func TestFirstMessageAuthFailures(t *testing.T) {
	t.Parallel()
	srv := firstMessageServer(t, wse.Config{JWT: wse.JWTConfig{AuthFirstMessageTimeout: 300 * time.Millisecond}})
	expired, _ := wse.EncodeJWT(map[string]any{"sub": "u", "exp": time.Now().Add(-time.Hour).Unix()}, testSecret)
	cases := []struct {
		name  string
		first string // "" = send nothing
		code  string
	}{
		{"bad token", `{"t":"auth","p":{"token":"` + expired + `"}}`, "AUTH_FAILED"},
		{"other message", `{"t":"chat","p":{}}`, "AUTH_REQUIRED"},
		{"empty token", `{"t":"auth","p":{"token":""}}`, "AUTH_REQUIRED"},
		{"not JSON", `hello`, "AUTH_REQUIRED"},
		{"silence", "", "AUTH_REQUIRED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, wsURL(srv, ""), nil)
			if tc.first != "" {
				c.send(tc.first)
			}
			m := c.readJSON()
			if m["t"] != "error" || payload(m)["code"] != tc.code {
				t.Fatalf("frame %v, want error %s", m, tc.code)
			}
			if code := c.closeCode(); code != 4401 {
				t.Fatalf("close code %d, want 4401", code)
			}
		})
	}
	eventually(t, "failures counted", func() bool { return srv.Metrics().AuthFailures == uint64(len(cases)) })
	if n := srv.ConnectionCount(); n != 0 {
		t.Fatalf("ConnectionCount = %d", n)
	}
	// A token in the handshake still works as before.
	_, m := ready(t, wsURL(srv, ""), bearer(token(t, "bob", nil)))
	if payload(m)["details"].(map[string]any)["user_id"] != "bob" {
		t.Fatalf("server_ready %v", m)
	}
}

func TestFirstMessageAuthWaitersCountAsConnections(t *testing.T) {
	t.Parallel()
	srv := firstMessageServer(t, wse.Config{MaxConnections: 1})
	waiting := dial(t, wsURL(srv, ""), nil)
	if _, err := tryDial(t, wsURL(srv, ""), nil); err == nil {
		t.Fatal("second upgrade accepted while the first waits for auth; want 503")
	}
	waiting.send(`{"t":"auth","p":{"token":"` + token(t, "carol", nil) + `"}}`)
	waiting.readType("server_ready")
}

func TestFirstMessageAuthNeedsAVerifier(t *testing.T) {
	t.Parallel()
	_, err := wse.NewServer(wse.Config{JWT: wse.JWTConfig{AuthFirstMessage: true}})
	if !errors.Is(err, wse.ErrInvalidConfig) {
		t.Fatalf("NewServer = %v, want ErrInvalidConfig", err)
	}
}

func TestFirstMessageAuthDuringDrainIsRefused(t *testing.T) {
	t.Parallel()
	srv := firstMessageServer(t, wse.Config{})
	c := dial(t, wsURL(srv, ""), nil)
	if left := srv.Drain(0, "", time.Second); left != 0 {
		t.Fatalf("Drain left %d", left)
	}
	c.send(`{"t":"auth","p":{"token":"` + token(t, "dave", nil) + `"}}`)
	if code := c.closeCode(); code != 4300 {
		t.Fatalf("close code %d, want 4300", code)
	}
	if n := srv.ConnectionCount(); n != 0 {
		t.Fatalf("ConnectionCount = %d after drain", n)
	}
}
