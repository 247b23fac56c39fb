package wseclient_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wse-go/wse"
	wseclient "github.com/wse-go/wse/clients/go"
	"github.com/wse-go/wse/internal/e2e"
)

// readyWithEncryption sends server_ready announcing whether encryption can
// be negotiated.
func (c *fakeConn) readyWithEncryption(connID string, encryption bool) {
	c.send(`{"c":"WSE","t":"server_ready","p":{"message":"Connection established","details":{"version":1,"connection_id":"` +
		connID + `","user_id":"u1","features":{"recovery":true,"encryption":` + fmt.Sprint(encryption) + `}}},"v":1}`)
}

// serverHello returns a server_hello carrying key ("" for none).
func serverHello(key string) string {
	p := map[string]any{"protocol_version": 1, "features": map[string]any{"encryption": key != ""}}
	if key != "" {
		p["encryption_public_key"] = key
	}
	b, _ := json.Marshal(map[string]any{"c": "WSE", "t": "server_hello", "p": p, "v": 1})
	return string(b)
}

// readFrame returns the opcode and payload of the next data frame the
// client sent.
func (c *fakeConn) readFrame() (ws.OpCode, []byte) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	data, op, err := wsutil.ReadClientData(c.conn)
	if err != nil {
		c.t.Fatalf("fake read: %v", err)
	}
	return op, data
}

// readOpened reads frames until one of type typ arrives, opening "E:"
// frames with sess, and tells whether that one was sealed.
func (c *fakeConn) readOpened(sess *e2e.Session, typ string) (map[string]any, bool) {
	c.t.Helper()
	for range 50 {
		op, data := c.readFrame()
		sealed := op == ws.OpBinary && e2e.IsEncrypted(data)
		if sealed {
			plain, err := sess.Open(data)
			if err != nil {
				c.t.Fatalf("open client frame: %v", err)
			}
			data = plain
		} else if op != ws.OpText {
			c.t.Fatalf("client sent %q with opcode %v", data, op)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			c.t.Fatalf("client frame %q: %v", data, err)
		}
		if m["t"] == typ {
			return m, sealed
		}
	}
	c.t.Fatalf("no %s frame within 50 frames", typ)
	return nil, false
}

// sendSealed writes text sealed with sess in a binary frame.
func (c *fakeConn) sendSealed(sess *e2e.Session, text string) {
	c.t.Helper()
	c.sendBinary(sess.Seal(nil, []byte(text)))
}

// readHelloKey reads client_hello and returns the public key it offers,
// checking that it asks for encryption with a 65-byte uncompressed point.
func (c *fakeConn) readHelloKey() string {
	c.t.Helper()
	hello := c.read()
	p := payloadOf(hello)
	features, _ := p["features"].(map[string]any)
	key, _ := p["encryption_public_key"].(string)
	raw, err := base64.StdEncoding.DecodeString(key)
	if hello["t"] != "client_hello" || features["encryption"] != true || err != nil || len(raw) != 65 || raw[0] != 4 {
		c.t.Fatalf("client_hello %v does not offer a P-256 key", hello)
	}
	return key
}

// acceptEncryption plays the server side of the exchange on a new
// connection: server_ready, client_hello, server_hello with a fresh key.
// It returns the session and the client's key.
func (c *fakeConn) acceptEncryption(connID string) (*e2e.Session, string) {
	c.t.Helper()
	c.readyWithEncryption(connID, true)
	clientKey := c.readHelloKey()
	sess, serverKey, err := e2e.Accept(clientKey)
	if err != nil {
		c.t.Fatalf("client key: %v", err)
	}
	c.send(serverHello(serverKey))
	return sess, clientKey
}

func TestEncryptionSealsBothDirectionsOnTheWire(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t)
	var r recorder
	wait := dialAsync(t, f.url(), r.options(wseclient.Options{
		Encryption: true, Topics: []string{"a"}, PingInterval: 30 * time.Millisecond, Reconnect: fastReconnect,
	}))
	conn := f.accept()
	conn.readyWithEncryption("conn-1", true)
	key1 := conn.readHelloKey()
	sess, serverKey, err := e2e.Accept(key1)
	if err != nil {
		t.Fatal(err)
	}
	// Without a session yet, an "E:" frame cannot be opened: it is counted
	// and delivered as it is.
	early := append([]byte("E:"), bytes.Repeat([]byte{7}, 40)...)
	conn.sendBinary(early)
	conn.send(serverHello(serverKey))

	// The subscription waits for server_hello, so it is sealed.
	sub, sealed := conn.readOpened(sess, "subscription_update")
	if !sealed || fmt.Sprint(payloadOf(sub)["topics"]) != "[a]" {
		t.Fatalf("subscription %v (sealed %v)", sub, sealed)
	}
	conn.sendSealed(sess, subscribeReply(false, map[string]wseclient.Position{"a": {}}))
	c := wait()
	if !c.Encrypted() || c.DecryptFailures() != 1 {
		t.Fatalf("Encrypted %v, DecryptFailures %d after Dial", c.Encrypted(), c.DecryptFailures())
	}

	conn.sendSealed(sess, stamped("a", "e1", 1))
	conn.sendSealed(sess, `{"c":"WSE","t":"batch","p":{"messages":[{"t":"ev","id":"i1","p":{"n":1}},{"t":"ev","id":"i2","p":{"n":2}}]}}`)
	conn.sendBinary([]byte{0xde, 0xad}) // raw binary stays plaintext
	garbage := sess.Seal(nil, []byte(`{"t":"lost"}`))
	garbage[len(garbage)-1] ^= 1 // tampered tag
	conn.sendBinary(garbage)
	conn.sendSealed(sess, "not json") // delivered as its plaintext
	conn.sendSealed(sess, `{"t":"end"}`)
	eventually(t, 5*time.Second, "end message", func() bool { return len(r.messages("end")) == 1 })
	if ticks := r.messages("tick"); len(ticks) != 1 || ticks[0].Topic != "a" || ticks[0].Offset != 1 || payloadN(t, ticks[0]) != 1 {
		t.Fatalf("ticks %+v", ticks)
	}
	if evs := r.messages("ev"); len(evs) != 2 || payloadN(t, evs[1]) != 2 {
		t.Fatalf("batch messages %+v", evs)
	}
	raw := r.messages("")
	if len(raw) != 4 || !bytes.Equal(raw[0].Raw, early) || string(raw[1].Raw) != "\xde\xad" || !bytes.Equal(raw[2].Raw, garbage) ||
		string(raw[3].Raw) != "not json" {
		t.Fatalf("raw frames %+v", raw)
	}
	if n := c.DecryptFailures(); n != 2 {
		t.Fatalf("DecryptFailures %d, want 2", n)
	}

	if err := c.Send("chat", map[string]any{"text": "hi"}); err != nil {
		t.Fatal(err)
	}
	chat, sealed := conn.readOpened(sess, "chat")
	if !sealed || fmt.Sprint(payloadOf(chat)) != "map[text:hi]" || chat["c"] != "U" {
		t.Fatalf("chat %v (sealed %v)", chat, sealed)
	}
	if _, sealed := conn.readOpened(sess, "ping"); sealed {
		t.Fatal("client ping was sealed")
	}
	conn.send(`{"c":"WSE","t":"ping","p":{"server_time":1},"v":1}`)
	if _, sealed := conn.readOpened(sess, "PONG"); sealed {
		t.Fatal("PONG was sealed")
	}

	// A new connection negotiates a new key pair.
	_ = conn.conn.Close()
	conn2 := f.accept()
	sess2, key2 := conn2.acceptEncryption("conn-2")
	if key2 == key1 {
		t.Fatal("the client reused its key pair on a new connection")
	}
	sub, sealed = conn2.readOpened(sess2, "subscription_update")
	if p := payloadOf(sub); !sealed || p["recover"] != true || fmt.Sprint(p["recovery"]) != "map[a:map[epoch:e1 offset:1]]" {
		t.Fatalf("resubscription %v (sealed %v)", sub, sealed)
	}
	conn2.sendSealed(sess2, subscribeReply(true, map[string]wseclient.Position{"a": {Epoch: "e1", Offset: 1}}))
	eventually(t, 5*time.Second, "second connection", func() bool { return c.Connected() && c.ConnID() == "conn-2" })
	conn2.sendSealed(sess2, stamped("a", "e1", 2))
	eventually(t, 5*time.Second, "tick 2", func() bool { return len(r.messages("tick")) == 2 })
	if !c.Encrypted() || len(r.eventsOf(wseclient.EventEncryptionRefused)) != 0 {
		t.Fatalf("Encrypted %v, refusals %v", c.Encrypted(), r.eventsOf(wseclient.EventEncryptionRefused))
	}
}

func TestEncryptionRefusedLeavesThePlaintextConnection(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		offered bool   // server_ready's features.encryption
		before  string // a frame the server sends before server_hello
		want    string // in the event's error
	}{
		{"disabled", false, "", "encryption disabled"},
		{"key refused", true, `{"c":"WSE","t":"error","p":{"code":"KEY_EXCHANGE_FAILED","message":"bad point"},"v":1}`, "KEY_EXCHANGE_FAILED: bad point"},
		{"no key", true, "", "server_hello carries no key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeServer(t)
			var r recorder
			wait := dialAsync(t, f.url(), r.options(wseclient.Options{Encryption: true, Topics: []string{"a"}}))
			conn := f.accept()
			conn.readyWithEncryption("conn-1", tc.offered)
			conn.readHelloKey()
			if tc.before != "" {
				conn.send(tc.before)
			}
			conn.send(serverHello(""))
			if sub := conn.read(); sub["t"] != "subscription_update" { // text: not sealed
				t.Fatalf("frame after server_hello %v", sub)
			}
			conn.send(subscribeReply(false, map[string]wseclient.Position{"a": {}}))
			c := wait()
			if c.Encrypted() {
				t.Fatal("Encrypted after a refusal")
			}
			eventually(t, 5*time.Second, "refusal event", func() bool {
				return len(r.eventsOf(wseclient.EventEncryptionRefused)) == 1
			})
			ev := r.eventsOf(wseclient.EventEncryptionRefused)[0]
			if !errors.Is(ev.Err, wseclient.ErrEncryptionRefused) || !strings.Contains(ev.Err.Error(), tc.want) || ev.ConnID != "conn-1" {
				t.Fatalf("refusal event %+v", ev)
			}
			r.mu.Lock()
			order := fmt.Sprint(r.events[0].Kind, r.events[1].Kind)
			r.mu.Unlock()
			if order != "connected encryption_refused" {
				t.Fatalf("events start %s", order)
			}
			if err := c.Send("chat", nil); err != nil {
				t.Fatal(err)
			}
			if m := conn.read(); m["t"] != "chat" {
				t.Fatalf("plaintext Send read as %v", m)
			}
			if tc.before != "" && len(r.messages("error")) != 1 {
				t.Fatalf("the handlers got %d error messages", len(r.messages("error")))
			}
		})
	}
}

func TestUnusableServerKeyFailsDial(t *testing.T) {
	t.Parallel()
	f := newFakeServer(t)
	errCh := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := wseclient.Dial(ctx, f.url(), wseclient.Options{Encryption: true})
		if c != nil {
			_ = c.Close()
		}
		errCh <- err
	}()
	conn := f.accept()
	conn.readyWithEncryption("conn-1", true)
	conn.readHelloKey()
	conn.send(serverHello(base64.StdEncoding.EncodeToString([]byte("not a point"))))
	select {
	case err := <-errCh:
		if !errors.Is(err, wseclient.ErrKeyExchange) {
			t.Fatalf("Dial error %v, want ErrKeyExchange", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Dial did not return")
	}
}

func TestEncryptedClientWithTheEngine(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyAny, Recovery: wse.RecoveryConfig{Enabled: true}})
	var r recorder
	c := dial(t, wsURL(srv), r.options(wseclient.Options{Encryption: true, Topics: []string{"feed"}}))
	if !c.Encrypted() || !c.Features().Encryption {
		t.Fatalf("Encrypted %v, features %+v", c.Encrypted(), c.Features())
	}
	if m := srv.Metrics(); m.EncryptedConnections != 1 {
		t.Fatalf("server counts %d encrypted connections", m.EncryptedConnections)
	}

	res, err := c.Subscribe(ctxT(t, 5*time.Second), []string{"other"}, wseclient.SubscribeOptions{})
	if _, ok := res.Recovery["other"]; err != nil || fmt.Sprint(res.Granted) != "[other]" || !ok {
		t.Fatalf("Subscribe over the sealed connection: %+v, %v", res, err)
	}
	for n := 1; n <= 3; n++ {
		if _, err := srv.Broadcast("feed", fmt.Sprintf(`{"t":"tick","p":{"n":%d}}`, n)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := srv.SendEvent(c.ConnID(), map[string]any{"t": "order_update", "p": map[string]any{"n": 7, "text": strings.Repeat("x", 5000)}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.SendBytes(c.ConnID(), []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "ticks, the event and the bytes", func() bool {
		return len(r.messages("tick")) == 3 && len(r.messages("order_update")) == 1 && len(r.messages("")) == 1
	})
	for i, m := range r.messages("tick") {
		if m.Topic != "feed" || m.Offset != uint64(i+1) || payloadN(t, m) != i+1 {
			t.Fatalf("tick %d: %+v", i, m)
		}
	}
	if m := r.messages("order_update")[0]; m.Seq == 0 || payloadN(t, m) != 7 {
		t.Fatalf("send_event %+v", m)
	}
	if raw := r.messages("")[0].Raw; string(raw) != "\x01\x02\x03" {
		t.Fatalf("raw bytes %q", raw)
	}

	nextServerEvent(t, srv, wse.EventConnect)
	if err := c.Send("chat", map[string]any{"text": "hi"}); err != nil {
		t.Fatal(err)
	}
	ev := nextServerEvent(t, srv, wse.EventMessage)
	if ev.ConnID != c.ConnID() || ev.Message["t"] != "chat" || fmt.Sprint(ev.Message["p"]) != "map[text:hi]" {
		t.Fatalf("server got %+v", ev)
	}
	if m := srv.Metrics(); m.DecryptFailures != 0 || c.DecryptFailures() != 0 {
		t.Fatalf("decrypt failures: server %d, client %d", m.DecryptFailures, c.DecryptFailures())
	}
}

func TestEngineWithEncryptionDisabledKeepsThePlaintextClient(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyAny, DisableEncryption: true})
	var r recorder
	c := dial(t, wsURL(srv), r.options(wseclient.Options{Encryption: true, Topics: []string{"feed"}}))
	if c.Encrypted() || c.Features().Encryption {
		t.Fatalf("Encrypted %v, features %+v", c.Encrypted(), c.Features())
	}
	eventually(t, 5*time.Second, "refusal event", func() bool { return len(r.eventsOf(wseclient.EventEncryptionRefused)) == 1 })
	if ev := r.eventsOf(wseclient.EventEncryptionRefused)[0]; !errors.Is(ev.Err, wseclient.ErrEncryptionRefused) || ev.ConnID != c.ConnID() {
		t.Fatalf("refusal event %+v", ev)
	}
	if _, err := srv.Broadcast("feed", `{"t":"tick","p":{"n":1}}`); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "tick", func() bool { return len(r.messages("tick")) == 1 })
	nextServerEvent(t, srv, wse.EventConnect)
	if err := c.Send("chat", map[string]any{"text": "plain"}); err != nil {
		t.Fatal(err)
	}
	if ev := nextServerEvent(t, srv, wse.EventMessage); fmt.Sprint(ev.Message["p"]) != "map[text:plain]" {
		t.Fatalf("server got %+v", ev)
	}
	if m := srv.Metrics(); m.EncryptedConnections != 0 || m.DecryptFailures != 0 {
		t.Fatalf("server metrics: %d encrypted, %d decrypt failures", m.EncryptedConnections, m.DecryptFailures)
	}
}
