package hooks

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

func TestSignAndVerifyWithReplayWindow(t *testing.T) {
	t.Parallel()
	secret, body := []byte("0123456789abcdef"), []byte(`{"conn_id":"c1"}`)
	now := time.Unix(1_800_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := Sign(secret, now.Unix(), body)
	if err := Verify(secret, ts, sig, body, 0, now); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	for name, tc := range map[string]struct {
		secret []byte
		ts     string
		sig    string
		body   []byte
		now    time.Time
	}{
		"other secret":    {[]byte("another-secret!!"), ts, sig, body, now},
		"tampered body":   {secret, ts, sig, []byte(`{"conn_id":"c2"}`), now},
		"replayed later":  {secret, ts, sig, body, now.Add(DefaultReplayWindow + time.Second)},
		"from the future": {secret, ts, sig, body, now.Add(-DefaultReplayWindow - time.Second)},
		"moved timestamp": {secret, strconv.FormatInt(now.Unix()+1, 10), sig, body, now},
		"no timestamp":    {secret, "", sig, body, now},
		"no signature":    {secret, ts, "", body, now},
	} {
		if err := Verify(tc.secret, tc.ts, tc.sig, tc.body, 0, tc.now); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: %v, want ErrSignature", name, err)
		}
	}
}

func TestVerifyRequestReadsABoundedBody(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef")
	body := []byte(`{"a":1}`)
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	now := time.Now().Unix()
	r.Header.Set(HeaderTimestamp, strconv.FormatInt(now, 10))
	r.Header.Set(HeaderSignature, Sign(secret, now, body))
	if got, err := VerifyRequest(r, secret, 0, 1024); err != nil || string(got) != string(body) {
		t.Fatalf("VerifyRequest = %q, %v", got, err)
	}
	r = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	if _, err := VerifyRequest(r, secret, 0, 3); err == nil {
		t.Error("a body over the limit was accepted")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]Config{
		"bad url":           {Connect: Endpoint{URL: "ftp://x"}},
		"relative url":      {Connect: Endpoint{URL: "/hook"}},
		"bad policy":        {Subscribe: Endpoint{URL: "http://127.0.0.1:1", OnFailure: "maybe"}},
		"publish no types":  {Publish: Endpoint{URL: "http://127.0.0.1:1"}},
		"rpc no types":      {RPC: Endpoint{URL: "http://127.0.0.1:1"}},
		"shared type":       {Publish: Endpoint{URL: "http://127.0.0.1:1"}, PublishTypes: []string{"a"}, RPC: Endpoint{URL: "http://127.0.0.1:1"}, RPCTypes: []string{"a"}},
		"negative timeout":  {Connect: Endpoint{URL: "http://127.0.0.1:1", Timeout: -1}},
		"negative response": {MaxResponseBytes: -1},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
	h, err := New(Config{Connect: Endpoint{URL: "http://127.0.0.1:1/connect"}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	e := h.Engine()
	if e.Connect == nil || e.Subscribe != nil || e.Message != nil {
		t.Errorf("Engine() set the wrong hooks: %+v", e)
	}
}

func TestSubscribeCacheIsBoundedAndExpires(t *testing.T) {
	t.Parallel()
	c := newSubscribeCache(50*time.Millisecond, 3)
	c.store("u", "a", true)
	c.store("u", "b", false)
	if granted, ask := c.lookup("u", []string{"a", "b", "c"}); len(granted) != 1 || granted[0] != "a" || len(ask) != 1 || ask[0] != "c" {
		t.Fatalf("lookup = %v, %v", granted, ask)
	}
	for i := range 10 {
		c.store("v", strconv.Itoa(i), true)
	}
	if n := len(c.entries); n > 3 {
		t.Errorf("%d entries, bound 3", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ask := c.lookup("v", []string{"9"}); len(ask) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("entry never expired")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBusyHookFailsAtOnce(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	h, err := New(Config{RPC: Endpoint{URL: srv.URL}, RPCTypes: []string{"x"}, Concurrency: 1, Queue: 1, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	done := make(chan error, 3)
	for range 3 {
		h.rpc.async(map[string]any{}, nil, func(err error) { done <- err })
	}
	// One call in flight, one waiting: the third is refused at once.
	select {
	case err := <-done:
		if !errors.Is(err, ErrBusy) {
			t.Errorf("first result %v, want ErrBusy", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no call was refused")
	}
}
