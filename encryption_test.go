package wse_test

import (
	"encoding/json"
	"testing"

	"github.com/gobwas/ws"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/internal/e2e"
)

// e2eClient is a test client that negotiated end-to-end encryption.
type e2eClient struct {
	*client
	sess *e2e.Session
	id   string
}

// helloReq is a client_hello asking for encryption with key ("" = none).
func helloReq(key string) string {
	p := map[string]any{"client_version": "test", "protocol_version": 1,
		"features": map[string]any{"encryption": key != ""}}
	if key != "" {
		p["encryption_public_key"] = key
	}
	b, _ := json.Marshal(map[string]any{"c": "WSE", "t": "client_hello", "p": p})
	return string(b)
}

// readyEncrypted connects, sends client_hello with a fresh key and completes
// the exchange from server_hello.
func readyEncrypted(t testing.TB, srv *wse.Server) *e2eClient {
	t.Helper()
	c, m := ready(t, wsURL(srv, ""), nil)
	offer, err := e2e.NewOffer()
	if err != nil {
		t.Fatal(err)
	}
	c.send(helloReq(offer.PublicKey()))
	hello := payload(c.readType("server_hello"))
	if f := hello["features"].(map[string]any); f["encryption"] != true {
		t.Fatalf("server_hello features %v: encryption not confirmed", f)
	}
	key, _ := hello["encryption_public_key"].(string)
	sess, err := offer.Complete(key)
	if err != nil {
		t.Fatalf("server key %q: %v", key, err)
	}
	return &e2eClient{client: c, sess: sess, id: connID(m)}
}

// readSealed reads the next frame, which must be an "E:" binary frame, and
// returns its decrypted JSON.
func (c *e2eClient) readSealed() map[string]any {
	c.t.Helper()
	data, op := c.read()
	if op != ws.OpBinary || !e2e.IsEncrypted(data) {
		c.t.Fatalf("frame %q (op %v) is not encrypted", data, op)
	}
	plain, err := c.sess.Open(data)
	if err != nil {
		c.t.Fatalf("open: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(plain, &m); err != nil {
		c.t.Fatalf("plaintext %q is not JSON: %v", plain, err)
	}
	return m
}

// sendSealed sends text encrypted.
func (c *e2eClient) sendSealed(text string) {
	c.t.Helper()
	c.sendBinary(c.sess.Seal(nil, []byte(text)))
}

func TestEncryptedConnectionGetsEverythingSealed(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyAny, Recovery: wse.RecoveryConfig{Enabled: true}})
	srv.EnableDrainMode()
	plain, _ := ready(t, wsURL(srv, ""), nil)
	plain.send(subscribeReq("prices"))
	plain.readType("subscription_update")

	c := readyEncrypted(t, srv)
	// Requests may come in plaintext; replies are sealed.
	c.send(subscribeReq("prices"))
	if m := c.readSealed(); m["t"] != "subscription_update" {
		t.Fatalf("reply %v", m)
	}
	if _, err := srv.Broadcast("prices", `{"t":"price","p":{"px":1}}`); err != nil {
		t.Fatal(err)
	}
	got := c.readSealed()
	clear := plain.readType("price")
	if got["t"] != "price" || got["o"] != float64(1) || got["e"] != clear["e"] {
		t.Fatalf("sealed publication %v, plaintext subscriber got %v", got, clear)
	}
	// Point-to-point text and events are sealed; raw bytes are not.
	if err := srv.Send(c.id, `{"t":"direct","p":{}}`); err != nil {
		t.Fatal(err)
	}
	if m := c.readSealed(); m["t"] != "direct" {
		t.Fatalf("Send: %v", m)
	}
	if _, err := srv.SendEvent(c.id, map[string]any{"t": "event", "p": map[string]any{"big": string(make([]byte, 2000))}}); err != nil {
		t.Fatal(err)
	}
	if m := c.readSealed(); m["t"] != "event" || m["id"] == nil {
		t.Fatalf("SendEvent: %v", m)
	}
	if err := srv.SendBytes(c.id, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if data, op := c.read(); op != ws.OpBinary || string(data) != "\x01\x02\x03" {
		t.Fatalf("SendBytes: %q", data)
	}
	// PONG stays in plaintext, with its exact prefix.
	c.send(`{"t":"ping","p":{"timestamp":1}}`)
	if data, op := c.read(); op != ws.OpText || !hasPrefix(data, `{"c":"WSE","t":"PONG"`) {
		t.Fatalf("PONG frame %q (op %v)", data, op)
	}
	// A sealed client message reaches the application decrypted.
	c.sendSealed(`{"t":"chat","p":{"text":"secret"}}`)
	ev := nextEvent(t, srv, wse.EventMessage)
	if ev.ConnID != c.id || payload(ev.Message)["text"] != "secret" {
		t.Fatalf("event %+v", ev)
	}
	// A replay after reconnecting is sealed too.
	r := readyEncrypted(t, srv)
	r.send(recoverReq("prices", got["e"].(string), 0))
	first := r.readSealed()
	second := r.readSealed()
	if first["t"] == "subscription_update" {
		first, second = second, first
	}
	if first["t"] != "price" || first["o"] != float64(1) || second["t"] != "subscription_update" {
		t.Fatalf("replay %v then %v", first, second)
	}
	if m := srv.Metrics(); m.EncryptedConnections != 2 || m.DecryptFailures != 0 {
		t.Fatalf("metrics: %d encrypted, %d decrypt failures", m.EncryptedConnections, m.DecryptFailures)
	}
}

func TestUndecryptableFramesAreDroppedAndCounted(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	srv.EnableDrainMode()
	// Without a negotiated key.
	p, _ := ready(t, wsURL(srv, ""), nil)
	p.sendBinary([]byte("E:0123456789abcdef0123456789abcdef"))
	if m := p.readType("error"); payload(m)["code"] != "INVALID_MESSAGE" {
		t.Fatalf("error %v", m)
	}
	// Tampered under a negotiated key: dropped, the connection stays.
	c := readyEncrypted(t, srv)
	f := c.sess.Seal(nil, []byte(`{"t":"chat","p":{}}`))
	f[len(f)-1] ^= 0xFF
	c.sendBinary(f)
	if m := c.readType("error"); payload(m)["code"] != "INVALID_MESSAGE" {
		t.Fatalf("error %v", m)
	}
	c.sendSealed(`{"t":"after","p":{}}`)
	if ev := nextEvent(t, srv, wse.EventMessage); ev.Message["t"] != "after" {
		t.Fatalf("event %+v", ev)
	}
	if n := srv.Metrics().DecryptFailures; n != 2 {
		t.Fatalf("decrypt failures = %d, want 2", n)
	}
}

func TestKeyExchangeRefusals(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyAny})
	c, _ := ready(t, wsURL(srv, ""), nil)
	c.send(helloReq("bm90IGEga2V5"))
	if m := c.readType("error"); payload(m)["code"] != "KEY_EXCHANGE_FAILED" {
		t.Fatalf("error %v", m)
	}
	hello := payload(c.readType("server_hello"))
	if hello["encryption_public_key"] != nil || hello["features"].(map[string]any)["encryption"] != false {
		t.Fatalf("server_hello after a bad key: %v", hello)
	}
	c.send(subscribeReq("t"))
	c.readType("subscription_update") // plaintext: readType fails on binary E:
	if n := srv.Metrics().KeyExchangeFailures; n != 1 {
		t.Fatalf("key exchange failures = %d", n)
	}

	// A second client_hello does not re-key.
	e := readyEncrypted(t, srv)
	offer, _ := e2e.NewOffer()
	e.send(helloReq(offer.PublicKey()))
	if hello := payload(e.readType("server_hello")); hello["encryption_public_key"] != nil {
		t.Fatalf("re-keyed: %v", hello)
	}
	e.send(subscribeReq("t"))
	if m := e.readSealed(); m["t"] != "subscription_update" {
		t.Fatalf("reply under the first key: %v", m)
	}

	// DisableEncryption: the offer is ignored.
	off := startServer(t, wse.Config{DisableEncryption: true})
	d, ready := ready(t, wsURL(off, ""), nil)
	if f := payload(ready)["details"].(map[string]any)["features"].(map[string]any); f["encryption"] != false {
		t.Fatalf("server_ready features %v", f)
	}
	o, _ := e2e.NewOffer()
	d.send(helloReq(o.PublicKey()))
	if hello := payload(d.readType("server_hello")); hello["encryption_public_key"] != nil {
		t.Fatalf("DisableEncryption sent a key: %v", hello)
	}
}
