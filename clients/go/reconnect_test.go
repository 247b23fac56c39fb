package wseclient_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wse-go/wse"
	wseclient "github.com/wse-go/wse/clients/go"
	"github.com/wse-go/wse/internal/backoff"
)

// sequence checks what the application saw of one topic: every offset once,
// in order, except across missed-data events that name the skipped range.
type sequence struct {
	mu      sync.Mutex
	last    wseclient.Position
	count   int      // messages delivered
	missed  int      // missed-data events
	skipped uint64   // offsets covered by missed-data events in the same epoch
	errs    []string // violations
}

// options returns opts recording topic's ticks and missed-data events.
func (s *sequence) options(topic string, opts wseclient.Options) wseclient.Options {
	opts.Handlers = map[string]wseclient.Handler{"tick": func(m wseclient.Message) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if m.Topic != topic {
			return
		}
		next := s.last.Offset + 1
		if (s.last.Epoch != "" && m.Epoch != s.last.Epoch) || m.Offset != next {
			s.errs = append(s.errs, fmt.Sprintf("got %s:%d after %s:%d", m.Epoch, m.Offset, s.last.Epoch, s.last.Offset))
		}
		s.last = wseclient.Position{Epoch: m.Epoch, Offset: m.Offset}
		s.count++
	}}
	opts.OnEvent = func(ev wseclient.Event) {
		if ev.Kind != wseclient.EventMissedData || ev.Topic != topic {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if ev.From != s.last {
			s.errs = append(s.errs, fmt.Sprintf("missed data from %+v, last delivered %+v", ev.From, s.last))
		}
		if ev.From.Epoch == ev.To.Epoch {
			s.skipped += ev.To.Offset - ev.From.Offset
		}
		s.missed++
		s.last = ev.To
	}
	return opts
}

// state returns the last position and the counts.
func (s *sequence) state() (wseclient.Position, int, int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, s.count, s.missed, append([]string(nil), s.errs...)
}

func TestRecoveryUnderARunningPublisherHasNoGapOrDuplicate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		encryption bool
	}{{"plaintext", false}, {"encrypted", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testRecoveryUnderARunningPublisher(t, tc.encryption)
		})
	}
}

// testRecoveryUnderARunningPublisher cuts a client's connection three times
// while a publisher runs and checks that it delivered every offset once, in
// order; with encryption, that every connection negotiated its own key.
func testRecoveryUnderARunningPublisher(t *testing.T, encryption bool) {
	const total = 3000
	srv := startServer(t, wse.Config{
		Recovery:            wse.RecoveryConfig{Enabled: true, BufferSize: 4096, MaxMessages: 4096},
		ClientSubscriptions: wse.PolicyAny,
	})
	var seq sequence
	var socks sockets
	c := dial(t, wsURL(srv), seq.options("feed", wseclient.Options{
		Topics: []string{"feed"}, Reconnect: fastReconnect, NetDial: socks.dial, Encryption: encryption,
	}))

	published := atomic.Int64{}
	stop := make(chan struct{})
	pubDone := make(chan error, 1)
	go func() {
		var err error
		defer func() { pubDone <- err }()
		deadline := time.Now().Add(20 * time.Second)
		for n := 1; n <= total && time.Now().Before(deadline); n++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err = srv.Broadcast("feed", fmt.Sprintf(`{"t":"tick","p":{"n":%d}}`, n)); err != nil {
				return
			}
			published.Store(int64(n))
			if n%10 == 0 {
				time.Sleep(time.Millisecond) // pace: about 10 messages per millisecond
			}
		}
	}()
	defer close(stop)

	// Cut the connection three times while the publisher runs: twice by
	// closing the socket, once by the server (4429, as for a slow consumer).
	for i, at := range []int{total / 5, 2 * total / 5, 3 * total / 5} {
		eventually(t, 10*time.Second, fmt.Sprintf("delivery past %d", at), func() bool {
			_, n, _, _ := seq.state()
			return n >= at
		})
		conn := c.ConnID()
		if i == 1 {
			if err := srv.DisconnectWithCode(conn, 4429, "slow consumer"); err != nil {
				t.Fatal(err)
			}
		} else {
			socks.kill()
		}
		eventually(t, 10*time.Second, "reconnect", func() bool { return c.Connected() && c.ConnID() != conn })
	}
	if err := <-pubDone; err != nil {
		t.Fatalf("publisher: %v", err)
	}
	if published.Load() != total {
		t.Fatalf("published %d of %d", published.Load(), total)
	}
	eventually(t, 10*time.Second, "the last offset", func() bool {
		last, _, _, _ := seq.state()
		return last.Offset == total
	})
	last, count, missed, errs := seq.state()
	if len(errs) > 0 {
		t.Fatalf("sequence violations: %v", errs)
	}
	if missed != 0 || count != total {
		t.Fatalf("delivered %d of %d with %d missed-data events (last %+v)", count, total, missed, last)
	}
	dialled := socks.dialled.Load()
	if dialled < 4 {
		t.Fatalf("only %d connections", dialled)
	}
	if !encryption {
		return
	}
	if m := srv.Metrics(); !c.Encrypted() || m.EncryptedConnections != uint64(dialled) || m.DecryptFailures != 0 || c.DecryptFailures() != 0 {
		t.Fatalf("%d connections, %d encrypted; decrypt failures: server %d, client %d; Encrypted %v",
			dialled, m.EncryptedConnections, m.DecryptFailures, c.DecryptFailures(), c.Encrypted())
	}
}

func TestMissedDataIsReportedWhenTheServerCannotReplay(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{
		Recovery:            wse.RecoveryConfig{Enabled: true, BufferSize: 16},
		ClientSubscriptions: wse.PolicyAny,
	})
	var seq sequence
	var socks sockets
	var r recorder
	opts := seq.options("feed", wseclient.Options{Topics: []string{"feed"}, Reconnect: fastReconnect, NetDial: socks.dial})
	onEvent := opts.OnEvent
	opts.OnEvent = func(ev wseclient.Event) {
		onEvent(ev)
		r.mu.Lock()
		r.events = append(r.events, ev)
		r.mu.Unlock()
	}
	c := dial(t, wsURL(srv), opts)
	publish := func(from, to int) {
		for n := from; n <= to; n++ {
			if _, err := srv.Broadcast("feed", fmt.Sprintf(`{"t":"tick","p":{"n":%d}}`, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(1, 5)
	eventually(t, 5*time.Second, "5 ticks", func() bool { _, n, _, _ := seq.state(); return n == 5 })

	socks.refuse.Store(true)
	first := c.ConnID()
	socks.kill()
	eventually(t, 5*time.Second, "the disconnect", func() bool { return srv.ConnectionCount() == 0 })
	publish(6, 100) // more than the 16 messages the buffer keeps
	refused := socks.dialled.Load()
	eventually(t, 5*time.Second, "two refused attempts", func() bool { return socks.dialled.Load() >= refused+2 })
	socks.refuse.Store(false)
	eventually(t, 10*time.Second, "reconnect", func() bool { return c.Connected() && c.ConnID() != first })
	eventually(t, 5*time.Second, "resubscription", func() bool { return srv.TopicSubscriberCount("feed") == 1 })
	publish(101, 101)
	eventually(t, 5*time.Second, "offset 101", func() bool { last, _, _, _ := seq.state(); return last.Offset == 101 })

	_, count, missed, errs := seq.state()
	if len(errs) > 0 || missed != 1 || count != 6 {
		t.Fatalf("delivered %d, %d missed-data events, violations %v", count, missed, errs)
	}
	ev := r.eventsOf(wseclient.EventMissedData)[0]
	if ev.From.Offset != 5 || ev.To.Offset != 100 || ev.From.Epoch != ev.To.Epoch {
		t.Fatalf("missed-data event %+v, want (5, 100] in one epoch", ev)
	}
	if reconnecting := r.eventsOf(wseclient.EventReconnecting); len(reconnecting) < 3 {
		t.Fatalf("%d reconnect attempts, want at least 3", len(reconnecting))
	}
}

func TestReconnectBacksOffWithinBoundsThenGivesUp(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	policy := wseclient.Reconnect{Base: 10 * time.Millisecond, Factor: 2, Max: 35 * time.Millisecond, MaxAttempts: 4}
	var r recorder
	c := dial(t, wsURL(srv), r.options(wseclient.Options{Reconnect: policy}))
	srv.Drain(0, "", time.Second) // 4300 and no more upgrades
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("client still running")
	}
	if err := c.Err(); !errors.Is(err, wseclient.ErrGaveUp) {
		t.Fatalf("Err() = %v, want ErrGaveUp", err)
	}
	attempts := r.eventsOf(wseclient.EventReconnecting)
	if len(attempts) != 4 {
		t.Fatalf("%d attempts, want 4", len(attempts))
	}
	bounds := backoff.Policy{Base: policy.Base, Factor: policy.Factor, Max: policy.Max}
	for i, ev := range attempts {
		lo, hi := bounds.Range(i)
		if ev.Attempt != i+1 || ev.Delay < lo || ev.Delay > hi {
			t.Fatalf("attempt %d: %+v, want delay in [%v, %v]", i+1, ev, lo, hi)
		}
	}
	if closed := r.eventsOf(wseclient.EventClosed); len(closed) != 1 || !errors.Is(closed[0].Err, wseclient.ErrGaveUp) {
		t.Fatalf("closed events %+v", closed)
	}
}

func TestCloseStopsTheClient(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyAny})
	c := dial(t, wsURL(srv), wseclient.Options{Topics: []string{"t"}, MessageBuffer: 4, EventBuffer: 8})
	if _, err := srv.Broadcast("t", `{"t":"tick","p":{"n":1}}`); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-c.Messages():
		if m.Type != "tick" {
			t.Fatalf("message %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message on the channel")
	}
	if ev := <-c.Events(); ev.Kind != wseclient.EventConnected || ev.ConnID != c.ConnID() {
		t.Fatalf("first event %+v", ev)
	}
	for range 2 {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after Close")
	}
	for range c.Messages() { // closed once drained
	}
	if err := c.Err(); !errors.Is(err, wseclient.ErrClosed) {
		t.Fatalf("Err() = %v", err)
	}
	if err := c.Send("x", nil); !errors.Is(err, wseclient.ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	if _, err := c.Subscribe(ctxT(t, time.Second), []string{"u"}, wseclient.SubscribeOptions{}); !errors.Is(err, wseclient.ErrClosed) {
		t.Fatalf("Subscribe after Close: %v", err)
	}
	eventually(t, 5*time.Second, "the server to see the close", func() bool { return srv.ConnectionCount() == 0 })
	if ev := nextServerEvent(t, srv, wse.EventDisconnect); ev.CloseCode != 1000 {
		t.Fatalf("server saw close code %d", ev.CloseCode)
	}
}

func TestCloseFromAHandler(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyAny})
	var c *wseclient.Client
	ready := make(chan struct{})
	c = dial(t, wsURL(srv), wseclient.Options{Topics: []string{"t"}, Handlers: map[string]wseclient.Handler{
		"tick": func(wseclient.Message) {
			<-ready
			_ = c.Close()
		},
	}})
	close(ready)
	if _, err := srv.Broadcast("t", `{"t":"tick"}`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Close from a handler did not stop the client")
	}
}

func TestDialWaitsForAServerThatStartsLater(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	url := fmt.Sprintf("ws://127.0.0.1:%d/wse", port)
	if _, err := wseclient.Dial(ctxT(t, 5*time.Second), url, wseclient.Options{}); err == nil {
		t.Fatal("Dial without a server succeeded")
	}
	type result struct {
		c   *wseclient.Client
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := wseclient.Dial(ctxT(t, 20*time.Second), url, wseclient.Options{WaitForServer: true, Reconnect: fastReconnect})
		done <- result{c, err}
	}()
	// The server comes up a little later, as after a deploy: Dial keeps
	// trying meanwhile.
	select {
	case r := <-done:
		t.Fatalf("Dial returned before the server started: %v", r.err)
	case <-time.After(300 * time.Millisecond):
	}
	srv := startOnPort(t, port, wse.Config{})
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("Dial: %v", r.err)
		}
		defer r.c.Close()
		if got := srv.Connections(); len(got) != 1 || got[0] != r.c.ConnID() {
			t.Fatalf("server connections %v, client %q", got, r.c.ConnID())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Dial did not return")
	}
}

func TestDialWaitingForServerIsBounded(t *testing.T) {
	t.Parallel()
	url := fmt.Sprintf("ws://127.0.0.1:%d/wse", freePort(t))
	t.Run("attempts", func(t *testing.T) {
		t.Parallel()
		_, err := wseclient.Dial(ctxT(t, 20*time.Second), url, wseclient.Options{WaitForServer: true,
			Reconnect: wseclient.Reconnect{Base: time.Millisecond, MaxAttempts: 3}})
		if !errors.Is(err, wseclient.ErrGaveUp) || !strings.Contains(err.Error(), "after 3 attempts") {
			t.Fatalf("Dial error %v, want ErrGaveUp after 3 attempts", err)
		}
	})
	t.Run("context", func(t *testing.T) {
		t.Parallel()
		_, err := wseclient.Dial(ctxT(t, 300*time.Millisecond), url, wseclient.Options{WaitForServer: true, Reconnect: fastReconnect})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Dial error %v, want the context's deadline", err)
		}
	})
	t.Run("close code ends it", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, wse.Config{JWT: wse.JWTConfig{Secret: testSecret}})
		_, err := wseclient.Dial(ctxT(t, 20*time.Second), wsURL(srv), wseclient.Options{WaitForServer: true, Reconnect: fastReconnect})
		var ce *wseclient.CloseError
		if !errors.As(err, &ce) || ce.Code != wseclient.CloseAuthFailed || !errors.Is(err, wseclient.ErrAuthFailed) {
			t.Fatalf("Dial error %v, want 4401 at once", err)
		}
	})
}

func TestPatternSubscriptionRecoversEveryConcreteTopic(t *testing.T) {
	t.Parallel()
	const perTopic = 600
	srv := startServer(t, wse.Config{
		Recovery:            wse.RecoveryConfig{Enabled: true, BufferSize: 4096, MaxMessages: 4096},
		ClientSubscriptions: wse.PolicyAny,
	})
	var mu sync.Mutex
	last := map[string]uint64{}
	var errs []string
	missed := 0
	var socks sockets
	c := dial(t, wsURL(srv), wseclient.Options{
		Topics: []string{"feed.*"}, Reconnect: fastReconnect, NetDial: socks.dial,
		Handlers: map[string]wseclient.Handler{"tick": func(m wseclient.Message) {
			mu.Lock()
			defer mu.Unlock()
			if m.Offset != last[m.Topic]+1 {
				errs = append(errs, fmt.Sprintf("%s: offset %d after %d", m.Topic, m.Offset, last[m.Topic]))
			}
			last[m.Topic] = m.Offset
		}},
		OnEvent: func(ev wseclient.Event) {
			if ev.Kind == wseclient.EventMissedData {
				mu.Lock()
				missed++
				mu.Unlock()
			}
		},
	})
	delivered := func() uint64 {
		mu.Lock()
		defer mu.Unlock()
		return last["feed.a"] + last["feed.b"]
	}
	pubDone := make(chan error, 1)
	go func() {
		for n := 1; n <= perTopic; n++ {
			for _, tp := range []string{"feed.a", "feed.b"} {
				if _, err := srv.Broadcast(tp, fmt.Sprintf(`{"t":"tick","p":{"n":%d}}`, n)); err != nil {
					pubDone <- err
					return
				}
			}
			if n%5 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		pubDone <- nil
	}()
	for i := 1; i <= 3; i++ {
		eventually(t, 10*time.Second, "deliveries", func() bool { return delivered() >= uint64(i*perTopic/2) })
		conn := c.ConnID()
		socks.kill()
		eventually(t, 10*time.Second, "reconnect", func() bool { return c.Connected() && c.ConnID() != conn })
	}
	if err := <-pubDone; err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "every message", func() bool { return delivered() == 2*perTopic })
	// The last messages are published while the connection is cut and none
	// follows them: only the recovery asked for on resubscribing brings them.
	conn := c.ConnID()
	socks.kill()
	for n := perTopic + 1; n <= perTopic+5; n++ {
		for _, tp := range []string{"feed.a", "feed.b"} {
			if _, err := srv.Broadcast(tp, fmt.Sprintf(`{"t":"tick","p":{"n":%d}}`, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	eventually(t, 10*time.Second, "reconnect", func() bool { return c.Connected() && c.ConnID() != conn })
	eventually(t, 10*time.Second, "the messages published while away", func() bool { return delivered() == 2*(perTopic+5) })
	mu.Lock()
	defer mu.Unlock()
	if len(errs) > 0 || missed != 0 {
		t.Fatalf("violations %v, %d missed-data events, last %v", errs, missed, last)
	}
}
