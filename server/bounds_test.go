package server

import (
	"context"
	"strings"
	"testing"
)

// bigMessage is a client message of about n bytes.
func bigMessage(i, n int) map[string]any {
	return map[string]any{"t": "bulk", "p": map[string]any{"i": i, "pad": strings.Repeat("x", n)}}
}

func TestEventsBufferIsBoundedInBytes(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	srv := startServer(t, func(c *Config) {
		c.EventsBufferBytes = limit
		c.EventsBufferBeforePoll = true
	})
	c := dial(t, srv, nil)
	const sent = 200 // 200 × 32 KiB = 6.25 MiB, six times the bound
	for i := range sent {
		c.send(bigMessage(i, 32<<10))
	}
	// connect + sent messages, each kept or discarded.
	waitFor(t, "every event kept or discarded", func() bool {
		return srv.events.discarded.Load()+uint64(srv.events.len()) == sent+1
	})
	if got := srv.events.size(); got > limit {
		t.Fatalf("buffer holds %d bytes, over its %d bound", got, limit)
	}
	if n := srv.events.len(); n < 10 || n > 40 {
		t.Fatalf("buffer holds %d events of 32 KiB under a 1 MiB bound, want about 30", n)
	}
	if d := srv.Engine().InboundDropped(); d != 0 {
		t.Fatalf("engine inbound_dropped = %d, want 0", d)
	}
	status, body := call(t, srv, "GET", "/api/events?max=10000", nil, "")
	list, _ := body["events"].([]any)
	if status != 200 || len(list) == 0 {
		t.Fatalf("GET /api/events = %d with %d events", status, len(list))
	}
	last, _ := list[len(list)-1].(map[string]any)
	data, _ := last["data"].(map[string]any)
	p, _ := data["p"].(map[string]any)
	if p["i"] != float64(sent-1) {
		t.Fatalf("newest event i = %v, want %d (oldest are discarded)", p["i"], sent-1)
	}
	metrics := scrape(t, srv)
	for _, want := range []string{"wse_api_events_discarded_total ", "wse_api_events_buffered_bytes "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestEventsAreNotBufferedBeforeTheFirstPoll(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil) // the default: nothing before the first poll
	c := dial(t, srv, nil)
	for i := range 50 {
		c.send(bigMessage(i, 32<<10))
	}
	waitFor(t, "events skipped", func() bool { return srv.events.skipped.Load() == 51 })
	if n, b := srv.events.len(), srv.events.size(); n != 0 || b != 0 {
		t.Fatalf("unpolled buffer holds %d events, %d bytes; want none", n, b)
	}
	if got := srv.events.wait(context.Background(), 10, 0); len(got) != 0 {
		t.Fatalf("first poll returned %v, want nothing", got)
	}
	// From the first poll on, events are kept.
	c.send(bigMessage(50, 10))
	got := pollEvents(t, srv, "", c.connID(), 1)
	if got[0]["type"] != "msg" {
		t.Fatalf("event after the first poll = %v, want the message", got[0])
	}
	if s := srv.events.skipped.Load(); s != 51 {
		t.Fatalf("skipped = %d after the first poll, want still 51", s)
	}
}
