package server

import (
	"strings"
	"testing"
)

func TestLoadWithNoSettingsTurnsOnDevMode(t *testing.T) {
	t.Parallel()
	cfgFile := writeFile(t, "port: 0\n")
	cases := []struct {
		name                   string
		args                   []string
		env                    map[string]string
		dev, auto, pres, recov bool
	}{
		{"nothing", nil, nil, true, true, true, true},
		{"ports and logs only", []string{"--port", "0", "--api-addr", "127.0.0.1:0", "--log-level", "debug"}, map[string]string{"WSE_LOG_FORMAT": "json"}, true, true, true, true},
		{"a secret", []string{"--jwt-secret", strings.Repeat("k", 32)}, nil, false, false, false, false},
		{"client topics from env", nil, map[string]string{"WSE_CLIENT_TOPICS": "news:*"}, false, false, false, false},
		{"a config file", []string{"--config", cfgFile}, nil, false, false, false, false},
		{"--dev=false", []string{"--dev=false"}, nil, false, false, false, false},
		{"--dev with other settings", []string{"--dev", "--jwt-secret", strings.Repeat("k", 32)}, nil, true, false, true, true},
		{"--dev keeps explicit settings", []string{"--dev", "--presence=false", "--recovery=false"}, nil, true, false, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(tc.args, envMap(tc.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.Dev != tc.dev || c.DevAuto != tc.auto || c.Presence != tc.pres || c.Recovery != tc.recov {
				t.Fatalf("Dev %v DevAuto %v Presence %v Recovery %v; want %v %v %v %v",
					c.Dev, c.DevAuto, c.Presence, c.Recovery, tc.dev, tc.auto, tc.pres, tc.recov)
			}
		})
	}
}

func TestPolicySummaryNamesThePolicyAndTheSettingThatChangesIt(t *testing.T) {
	t.Parallel()
	auto, err := Load(nil, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	prod := DefaultConfig()
	topics := DefaultConfig()
	topics.ClientTopics = []string{"news:*"}
	dev := DefaultConfig()
	dev.Dev = true
	anyPolicy := DefaultConfig()
	anyPolicy.ClientSubscriptions = "any"
	cases := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"zero-config", auto, []string{"dev mode", DemoTopics, "--dev=false"}},
		{"production default", prod, []string{"acl", "no --client-topics", "--client-topics", "--dev"}},
		{"client topics", topics, []string{"acl", "news:*", "--client-topics"}},
		{"--dev", dev, []string{"dev mode (--dev)", "acl", DemoTopics, "--client-topics"}},
		{"any", anyPolicy, []string{"policy any", "--client-subscriptions acl"}},
	}
	for _, tc := range cases {
		got := tc.cfg.PolicySummary()
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", tc.name, got, w)
			}
		}
		if strings.Contains(got, "\n") {
			t.Errorf("%s: %q is more than one line", tc.name, got)
		}
	}
}

// subscribeReply sends a subscription request and returns its reply.
func subscribeReply(c *wsClient, topics ...string) map[string]any {
	c.t.Helper()
	c.send(map[string]any{"t": "subscription_update", "p": map[string]any{"action": "subscribe", "topics": topics}})
	m := c.readUntil(func(m map[string]any) bool { return m["t"] == "subscription_update" })
	p, _ := m["p"].(map[string]any)
	return p
}

func TestDevModeGrantsDemoTopicsAndRelaysTheDemoChat(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.Dev = true })
	alice, bob := dial(t, srv, nil), dial(t, srv, nil)
	p := subscribeReply(alice, "demo:lobby", "orders:1")
	if ok, _ := p["success_topics"].([]any); len(ok) != 1 || ok[0] != "demo:lobby" {
		t.Fatalf("success_topics %v, want [demo:lobby]", p["success_topics"])
	}
	if failed, _ := p["failed_topics"].([]any); len(failed) != 1 || failed[0] != "orders:1" {
		t.Fatalf("failed_topics %v, want [orders:1]: dev mode grants only %s", p["failed_topics"], DemoTopics)
	}
	bob.send(map[string]any{"t": "demo_chat", "p": map[string]any{"room": "demo:lobby", "name": " Bob ", "text": "hi alice"}})
	m := alice.readUntil(func(m map[string]any) bool { return m["t"] == "demo_chat" })
	got, _ := m["p"].(map[string]any)
	if got["text"] != "hi alice" || got["name"] != "Bob" || got["from"] != bob.connID() || got["room"] != "demo:lobby" || got["ts"] == "" {
		t.Fatalf("relayed %v", m)
	}
	for _, bad := range []map[string]any{
		{"room": "orders:1", "name": "Bob", "text": "x"},
		{"room": "demo:lobby", "name": "", "text": "x"},
		{"room": "demo:lobby", "name": "Bob", "text": strings.Repeat("x", maxDemoText+1)},
	} {
		bob.send(map[string]any{"t": "demo_chat", "p": bad})
		e := bob.readUntil(func(m map[string]any) bool { return m["t"] == "demo_error" })
		if ep, _ := e["p"].(map[string]any); !strings.Contains(ep["message"].(string), "demo_chat refused") {
			t.Fatalf("demo_error %v", e)
		}
	}
}

func TestProductionDefaultsRefuseDemoTopicsAndRelayNothing(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.EventsBufferBeforePoll = true })
	alice, bob := dial(t, srv, nil), dial(t, srv, nil)
	p := subscribeReply(alice, "demo:lobby")
	if failed, _ := p["failed_topics"].([]any); len(failed) != 1 {
		t.Fatalf("failed_topics %v: the production default must refuse demo topics", p["failed_topics"])
	}
	// The relay is off: bob's demo_chat reaches the application as a msg
	// event and nobody else.
	bob.send(map[string]any{"t": "demo_chat", "p": map[string]any{"room": "demo:lobby", "name": "Bob", "text": "hi"}})
	ev := pollEvents(t, srv, "", bob.connID(), 2)
	if ev[1]["type"] != "msg" {
		t.Fatalf("events %v, want connect then msg", ev)
	}
	if n := srv.Engine().TopicSubscriberCount("demo:lobby"); n != 0 {
		t.Fatalf("demo:lobby has %d subscribers", n)
	}
}

func TestDevModeAnswersWhoAndRenames(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *Config) { c.Dev, c.Presence = true, true })
	ann := dial(t, srv, nil)
	ann.send(map[string]any{"t": "subscription_update", "p": map[string]any{"action": "subscribe", "topics": []string{"demo:lobby"}, "presence": map[string]any{"name": "Ann"}}})
	ann.readUntil(func(m map[string]any) bool { return m["t"] == "subscription_update" })
	ann.send(map[string]any{"t": "demo_who", "p": map[string]any{"room": "demo:lobby"}})
	who := ann.readUntil(func(m map[string]any) bool { return m["t"] == "presence_snapshot" })
	if got := toJSON(t, who["p"]); !strings.Contains(got, `"`+ann.connID()+`":{"connections":1,"data":{"name":"Ann"}}`) {
		t.Fatalf("presence_snapshot %s lacks Ann", got)
	}
	ann.send(map[string]any{"t": "demo_name", "p": map[string]any{"name": "Annie"}})
	upd := ann.readUntil(func(m map[string]any) bool { return m["t"] == "presence_update" })
	if got := toJSON(t, upd["p"]); !strings.Contains(got, `"name":"Annie"`) {
		t.Fatalf("presence_update %s", got)
	}
	for _, bad := range []map[string]any{
		{"t": "demo_name", "p": map[string]any{"name": strings.Repeat("n", maxDemoName+1)}},
		{"t": "demo_who", "p": map[string]any{"room": "orders:1"}},
	} {
		ann.send(bad)
		ann.readUntil(func(m map[string]any) bool { return m["t"] == "demo_error" })
	}
}
