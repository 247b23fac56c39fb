package bridge

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wse-go/wse"
)

// defaults are the Python side's defaults (the original's).
func defaults() Options {
	return Options{
		Host: "127.0.0.1", MaxConnections: 1000, MaxInboundQueueSize: 131072,
		RecoveryBufferSize: 128, RecoveryTTL: 300, RecoveryMaxMessages: 500, RecoveryMemoryBudget: 256 << 20,
		PresenceMaxDataSize: 4096, RateLimitCapacity: 100000, RateLimitRefill: 10000,
		MaxMessageSize: 1 << 20, PingInterval: 25, IdleTimeout: 60, MaxOutboundQueueBytes: 16 << 20,
	}
}

func TestOptionsMapToConfig(t *testing.T) {
	o := defaults()
	o.JWTSecret = []byte(strings.Repeat("k", 32))
	o.RecoveryEnabled = true
	cfg, err := o.Config()
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case cfg.Port != -1:
		t.Errorf("port 0 maps to %d, want -1 (free port)", cfg.Port)
	case cfg.PingInterval != 25*time.Second || cfg.IdleTimeout != time.Minute:
		t.Errorf("durations %v %v", cfg.PingInterval, cfg.IdleTimeout)
	case cfg.ClientSubscriptions != wse.PolicyApp:
		t.Errorf("client subscriptions %q, want app", cfg.ClientSubscriptions)
	case string(cfg.JWT.Secret) != string(o.JWTSecret) || cfg.JWT.Algorithm != "HS256":
		t.Errorf("JWT %+v", cfg.JWT)
	case !cfg.Recovery.Enabled || cfg.Recovery.BufferSize != 128 || cfg.Recovery.TTL != 300*time.Second:
		t.Errorf("recovery %+v", cfg.Recovery)
	}
}

func TestBadOptionsNameTheKeyword(t *testing.T) {
	cases := map[string]func(*Options){
		"jwt_secret":           func(o *Options) { o.JWTSecret = []byte("short") },
		"jwt_algorithm":        func(o *Options) { o.JWTAlgorithm = "none" },
		"recovery_buffer_size": func(o *Options) { o.RecoveryBufferSize = 100 },
		"ping_interval":        func(o *Options) { o.PingInterval = 60 },
		"max_connections":      func(o *Options) { o.MaxConnections = 0 },
		"jwt_private_key":      func(o *Options) { o.JWTPrivateKey = []byte("x") },
	}
	for kw, change := range cases {
		o := defaults()
		change(&o)
		_, err := newServer(o)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Keyword != kw || Kind(err) != KindValue {
			t.Errorf("%s: got %v", kw, err)
		}
	}
	// An engine error is mapped back to the keyword of its field.
	o := defaults()
	o.JWTAlgorithm = "RS256"
	o.JWTSecret = []byte("not a PEM public key")
	var ce *ConfigError
	if _, err := newServer(o); !errors.As(err, &ce) || ce.Keyword != "jwt_secret" {
		t.Errorf("RS256 without a PEM key: %v", err)
	}
}

func TestEncodeBatch(t *testing.T) {
	events := []wse.Event{
		{Type: wse.EventAuthConnect, ConnID: "c1", UserID: "alice"},
		{Type: wse.EventMessage, ConnID: "c1", Message: map[string]any{
			"t": "chat", "p": map[string]any{"n": 3.0, "x": 1.5, "s": "a\"b\n\x01é", "l": []any{true, nil}, "big": 1e21},
		}},
		{Type: wse.EventBinary, ConnID: "c1", Data: []byte{0, 1, 2}},
		{Type: wse.EventRaw, ConnID: "c1", Text: "PONG:1"},
		{Type: wse.EventBinary, ConnID: "c1", Data: []byte{9}},
		{Type: wse.EventPresenceJoin, Presence: &wse.PresenceChange{Topic: "room", UserID: "alice", Data: json.RawMessage(`{"s":1}`)}},
		{Type: wse.EventDisconnect, ConnID: "c1"},
		{Type: wse.EventConnect, ConnID: "c2", Cookies: "a=1"},
	}
	b := EncodeBatch(nil, events)
	size := binary.LittleEndian.Uint32(b)
	if n := binary.LittleEndian.Uint32(b[4:]); n != uint32(len(events)) {
		t.Fatalf("count %d", n)
	}
	if n := binary.LittleEndian.Uint32(b[8:]); n != 2 {
		t.Fatalf("bin count %d", n)
	}
	js := b[BatchHeaderSize : BatchHeaderSize+int(size)]
	blobs := b[BatchHeaderSize+int(size):]
	var flat []any
	if err := json.Unmarshal(js, &flat); err != nil {
		t.Fatalf("invalid JSON %s: %v", js, err)
	}
	if len(flat) != 3*len(events) {
		t.Fatalf("%d items", len(flat))
	}
	msg := flat[5].(map[string]any)["p"].(map[string]any)
	if msg["s"] != "a\"b\n\x01é" || msg["n"] != 3.0 || msg["big"] != 1e21 {
		t.Errorf("message %v", msg)
	}
	if !strings.Contains(string(js), `"n":3,`) {
		t.Errorf("integral number not written as an integer: %s", js)
	}
	ref := flat[14].([]any)
	if off, n := int(ref[0].(float64)), int(ref[1].(float64)); string(blobs[off:off+n]) != "\x09" {
		t.Errorf("second blob %v", ref)
	}
	if flat[16] != nil || flat[17].(map[string]any)["user_id"] != "alice" {
		t.Errorf("presence %v %v", flat[16], flat[17])
	}
	if flat[20] != nil || flat[23] != "a=1" {
		t.Errorf("disconnect/connect %v %v", flat[20], flat[23])
	}
}

func TestTransformEventFiltersUnmappedTypes(t *testing.T) {
	m := map[string]string{"A": "a_update"}
	if out := transformEvent(map[string]any{"event_type": "B"}, 1, m); out != nil {
		t.Errorf("unmapped: %v", out)
	}
	if out := transformEvent(map[string]any{"event_type": "A", "x": 1.0}, 2, m); out["t"] != "a_update" {
		t.Errorf("mapped: %v", out)
	}
}

func TestHandlesLifecycle(t *testing.T) {
	o := defaults()
	raw, _ := json.Marshal(o)
	id, err := New(raw)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Get(id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Call("start", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Call("start", nil); err == nil || Kind(err) != KindRuntime {
		t.Errorf("second start: %v", err)
	}
	if err := h.Broadcast("t", `{"t":"x"}`, false); err != nil {
		t.Error(err)
	}
	if err := h.Broadcast("", `{}`, true); Kind(err) != KindValue {
		t.Errorf("empty topic: %v", err)
	}
	if _, err := h.Call("no_such_method", nil); Kind(err) != KindValue {
		t.Errorf("unknown method: %v", err)
	}
	if _, err := h.Call("subscribe_connection", []byte(`{"conn_id":"x","topics":["t"],"typo":1}`)); Kind(err) != KindValue {
		t.Errorf("unknown argument: %v", err)
	}
	Release(id)
	if _, err := Get(id); !errors.Is(err, ErrBadHandle) {
		t.Errorf("released handle: %v", err)
	}
	if h.Server().IsRunning() {
		t.Error("Release did not stop the server")
	}
}

func BenchmarkEncodeBatch256(b *testing.B) {
	evs := make([]wse.Event, 256)
	for i := range evs {
		evs[i] = wse.Event{Type: wse.EventMessage, ConnID: "01a233fa-9403-70c1-9ad8-5b8c6c7abaa3",
			Message: map[string]any{"t": "bench", "p": map[string]any{"b": strings.Repeat("x", 74)}}}
	}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = EncodeBatch(buf, evs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}
