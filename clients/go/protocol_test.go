package wseclient_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	wseclient "github.com/wse-go/wse/clients/go"
)

// dialAsync runs Dial on another goroutine; the returned function waits for
// its result.
func dialAsync(t *testing.T, url string, opts wseclient.Options) func() *wseclient.Client {
	t.Helper()
	type result struct {
		c   *wseclient.Client
		err error
	}
	ch := make(chan result, 1)
	var client *wseclient.Client
	// Registered before the fake connection's cleanup, so that it runs
	// after it: the client then sees the connection end instead of waiting
	// for an answer to its close frame.
	t.Cleanup(func() {
		if client != nil {
			_ = client.Close()
		}
	})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := wseclient.Dial(ctx, url, opts)
		ch <- result{c, err}
	}()
	return func() *wseclient.Client {
		t.Helper()
		r := <-ch
		if r.err != nil {
			t.Fatalf("Dial: %v", r.err)
		}
		client = r.c
		return r.c
	}
}

// subscribeReply is a subscription_update reply granting topics, each with
// its position and recovered flag.
func subscribeReply(recovered bool, positions map[string]wseclient.Position) string {
	var topics, rec []string
	for topic, p := range positions {
		topics = append(topics, fmt.Sprintf("%q", topic))
		rec = append(rec, fmt.Sprintf(`%q:{"epoch":%q,"offset":%d,"recovered":%t,"count":0}`, topic, p.Epoch, p.Offset, recovered))
	}
	return `{"c":"WSE","t":"subscription_update","p":{"action":"subscribe","success":true,"success_topics":[` + strings.Join(topics, ",") +
		`],"failed_topics":[],"recovery":{` + strings.Join(rec, ",") + `}},"v":1}`
}

// payloadOf returns m["p"] as an object.
func payloadOf(m map[string]any) map[string]any {
	p, _ := m["p"].(map[string]any)
	return p
}

func TestDialHandshakeFollowsTheProtocol(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t)
	wait := dialAsync(t, f.url(), wseclient.Options{
		Token: "tok", Cookie: "theme=dark", Topics: []string{"b", "a"}, MsgPack: true,
		PingInterval: 30 * time.Millisecond,
	})
	conn := f.accept()
	if got := conn.header["Authorization"]; got != "Bearer tok" {
		t.Fatalf("Authorization %q", got)
	}
	if got := conn.header["Cookie"]; got != "theme=dark" {
		t.Fatalf("Cookie %q", got)
	}
	if !strings.Contains(conn.uri, "format=msgpack") {
		t.Fatalf("upgrade URI %q lacks format=msgpack", conn.uri)
	}
	conn.ready("conn-1", true)

	hello := conn.read()
	if hello["t"] != "client_hello" || hello["c"] != "WSE" || hello["v"] != float64(1) || hello["id"] == "" || hello["ts"] == "" {
		t.Fatalf("first client frame %v, want client_hello", hello)
	}
	if p := payloadOf(hello); p["protocol_version"] != float64(1) || p["client_version"] != wseclient.ClientVersion ||
		fmt.Sprint(p["features"]) != "map[compression:true encryption:false msgpack:true recovery:true]" || p["encryption_public_key"] != nil {
		t.Fatalf("client_hello payload %v", p)
	}
	sub := conn.read()
	p := payloadOf(sub)
	if sub["t"] != "subscription_update" || p["action"] != "subscribe" || p["recover"] != true ||
		fmt.Sprint(p["topics"]) != "[a b]" || p["recovery"] != nil {
		t.Fatalf("second client frame %v, want a subscription with recover and no positions", sub)
	}
	conn.send(subscribeReply(false, map[string]wseclient.Position{"a": {Epoch: "e1", Offset: 3}, "b": {}}))
	c := wait()
	if c.ConnID() != "conn-1" || c.UserID() != "u1" || !c.Features().Recovery || !c.Features().MsgPack || !c.Connected() {
		t.Fatalf("client state: conn %q user %q features %+v", c.ConnID(), c.UserID(), c.Features())
	}
	if got := fmt.Sprint(c.Positions()); got != "map[a:{e1 3} b:{ 0}]" {
		t.Fatalf("positions %s", got)
	}

	conn.send(`{"c":"WSE","t":"ping","p":{"server_time":"2026-01-01T00:00:01.000Z"},"v":1}`)
	pong := conn.readType("PONG")
	pp := payloadOf(pong)
	ms, _ := pp["client_timestamp"].(float64)
	if pong["c"] != "WSE" || pong["v"] != float64(1) || pp["server_timestamp"] != "2026-01-01T00:00:01.000Z" ||
		time.Since(time.UnixMilli(int64(ms))).Abs() > time.Minute {
		t.Fatalf("PONG %v", pong)
	}

	ping := conn.readType("ping")
	ts, _ := payloadOf(ping)["timestamp"].(float64)
	if ping["c"] != "WSE" || ts == 0 {
		t.Fatalf("client ping %v", ping)
	}
	conn.send(fmt.Sprintf(`{"c":"WSE","t":"PONG","p":{"client_timestamp":%d,"server_timestamp":%d,"latency":0},"v":1}`, int64(ts)-5, int64(ts)))
	eventually(t, 5*time.Second, "RTT from PONG", func() bool { return c.RTT() >= 5*time.Millisecond })
}

// log records the stamps of delivered ticks and the missed-data events, in
// delivery order.
type log struct {
	mu    sync.Mutex
	lines []string
}

// options returns opts recording ticks and missed-data events.
func (l *log) options(opts wseclient.Options) wseclient.Options {
	opts.Handlers = map[string]wseclient.Handler{"tick": func(m wseclient.Message) {
		l.add(fmt.Sprintf("%s/%s:%d", m.Topic, m.Epoch, m.Offset))
	}}
	opts.OnEvent = func(ev wseclient.Event) {
		if ev.Kind == wseclient.EventMissedData {
			l.add(fmt.Sprintf("missed %s %s:%d..%s:%d", ev.Topic, ev.From.Epoch, ev.From.Offset, ev.To.Epoch, ev.To.Offset))
		}
	}
	return opts
}

func (l *log) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, " ")
}

func TestGapWhileConnectedIsRepairedOrReported(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t)
	var l log
	wait := dialAsync(t, f.url(), l.options(wseclient.Options{Topics: []string{"A"}}))
	conn := f.accept()
	conn.ready("conn-1", true)
	conn.readType("subscription_update")
	conn.send(subscribeReply(false, map[string]wseclient.Position{"A": {}}))
	wait()

	conn.send(stamped("A", "e1", 1))
	conn.send(stamped("A", "e1", 3)) // 2 is missing
	req := payloadOf(conn.readType("subscription_update"))
	if req["recover"] != true || fmt.Sprint(req["recovery"]) != "map[A:map[epoch:e1 offset:1]]" {
		t.Fatalf("gap repair request %v", req)
	}
	conn.send(stamped("A", "e1", 4)) // live, ahead of the replay
	conn.send(stamped("A", "e1", 2)) // the replay
	conn.send(stamped("A", "e1", 3))
	conn.send(subscribeReply(true, map[string]wseclient.Position{"A": {Epoch: "e1", Offset: 3}}))
	conn.send(stamped("A", "e1", 5))
	eventually(t, 5*time.Second, "offsets 1 to 5", func() bool { return strings.HasSuffix(l.String(), "A/e1:5") })
	if got, want := l.String(), "A/e1:1 A/e1:2 A/e1:3 A/e1:4 A/e1:5"; got != want {
		t.Fatalf("delivered %q, want %q", got, want)
	}

	conn.send(stamped("A", "e1", 9)) // 6 to 8 are gone for good
	conn.readType("subscription_update")
	conn.send(subscribeReply(false, map[string]wseclient.Position{"A": {Epoch: "e1", Offset: 8}}))
	conn.send(stamped("A", "e1", 10))
	eventually(t, 5*time.Second, "offset 10", func() bool { return strings.HasSuffix(l.String(), "A/e1:10") })
	if got, want := l.String(), "A/e1:1 A/e1:2 A/e1:3 A/e1:4 A/e1:5 missed A e1:5..e1:8 A/e1:9 A/e1:10"; got != want {
		t.Fatalf("delivered %q, want %q", got, want)
	}
}

func TestFramesDecodeIntoMessages(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t)
	var r recorder
	wait := dialAsync(t, f.url(), r.options(wseclient.Options{}))
	conn := f.accept()
	conn.ready("conn-1", false)
	c := wait()

	event := `{"c":"U","t":"ev","id":"i1","ts":"2026-01-01T00:00:00.000Z","seq":7,"p":{"n":1},"v":1}`
	var z bytes.Buffer
	z.WriteString("C:")
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write([]byte(strings.Replace(event, `"i1"`, `"i2"`, 1)))
	_ = zw.Close()
	mp, err := msgpack.Marshal(map[string]any{"c": "U", "t": "ev", "id": "i3", "seq": 9, "p": map[string]any{"n": 3}})
	if err != nil {
		t.Fatal(err)
	}
	conn.sendBinary([]byte(event))
	conn.sendBinary(z.Bytes())
	conn.sendBinary(append([]byte("M:"), mp...))
	conn.sendBinary([]byte{0xde, 0xad})
	conn.send("plain text")
	conn.send(`{"c":"WSE","t":"batch","p":{"messages":[{"t":"ev","id":"i4","p":{"n":4}},{"t":"ev","id":"i5","p":{"n":5}}]}}`)
	conn.sendBinary([]byte(event)) // the same id again: dropped
	conn.send(`{"t":"end"}`)
	eventually(t, 5*time.Second, "end message", func() bool { return len(r.messages("end")) == 1 })

	evs := r.messages("ev")
	var ids []string
	for _, m := range evs {
		ids = append(ids, fmt.Sprintf("%s:%d:%d", m.ID, m.Seq, payloadN(t, m)))
	}
	if got := strings.Join(ids, " "); got != "i1:7:1 i2:7:1 i3:9:3 i4:0:4 i5:0:5" {
		t.Fatalf("ev messages %q", got)
	}
	if !evs[0].TS.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || evs[0].Category != "U" {
		t.Fatalf("first message %+v", evs[0])
	}
	raw := r.messages("")
	if len(raw) != 2 || string(raw[0].Raw) != "\xde\xad" || string(raw[1].Raw) != "plain text" {
		t.Fatalf("non-WSE frames %+v", raw)
	}
	_ = c
}
