package protocol

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

var fixedNow = time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.UTC)

var tsPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// objectKeys returns the keys of the JSON object in data, in order.
func objectKeys(t *testing.T, data []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", data)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// decodeMessage checks that data is one valid JSON object and decodes it.
func decodeMessage(t *testing.T, data []byte) map[string]any {
	t.Helper()
	if !json.Valid(data) {
		t.Fatalf("invalid JSON: %s", data)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBuildersWriteFieldsInContractOrder(t *testing.T) {
	t.Parallel()
	hello := ServerHello(HelloInfo{ServerVersion: "1.0.0", ClientProtocolVersion: 2, ConnID: "c1", Now: fixedNow})
	sub := SubscriptionReply{Action: "subscribe", Success: true}.Frame()
	cases := []struct {
		name   string
		msg    []byte
		prefix string
		keys   []string
		pKeys  []string
	}{
		{"server_ready", ServerReady("c1", "u1", Features{}, fixedNow), `{"c":"WSE","t":"server_ready","id":"`,
			[]string{"c", "t", "id", "ts", "p", "v"}, []string{"message", "details"}},
		{"server_hello", hello, `{"c":"WSE","t":"server_hello","p":{`, []string{"c", "t", "p", "v"},
			[]string{"server_version", "protocol_version", "features", "limits", "ping_interval", "connection_id", "server_time"}},
		{"PONG", Pong(1, fixedNow), `{"c":"WSE","t":"PONG"`, []string{"c", "t", "p", "v"},
			[]string{"client_timestamp", "server_timestamp", "latency"}},
		{"ping", Ping(fixedNow), `{"c":"WSE","t":"ping"`, []string{"c", "t", "p", "v"}, []string{"server_time"}},
		{"error", Error(CodeRateLimited, "slow down", 1.5, fixedNow), `{"c":"WSE","t":"error","p":{`,
			[]string{"c", "t", "p", "v"}, []string{"code", "message", "retry_after", "timestamp"}},
		{"error without retry", Error(CodeAuthFailed, "no", 0, fixedNow), `{"c":"WSE","t":"error","p":{`,
			[]string{"c", "t", "p", "v"}, []string{"code", "message", "timestamp"}},
		{"rate_limit_warning", RateLimitWarning(80, 100, 20), `{"c":"WSE","t":"rate_limit_warning","p":{`,
			[]string{"c", "t", "p", "v"}, []string{"current_rate", "limit", "remaining", "retry_after"}},
		{"presence", Presence(TypePresenceJoin, "room", "u1", []byte(`{"a":1}`)), `{"c":"WSE","t":"presence_join","p":{`,
			[]string{"c", "t", "p", "v"}, []string{"topic", "user_id", "data"}},
		{"subscription_update", sub, `{"c":"WSE","t":"subscription_update","p":{`, []string{"c", "t", "p", "v"},
			[]string{"action", "success", "success_topics", "failed_topics", "failed_codes"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if !bytes.HasPrefix(tc.msg, []byte(tc.prefix)) {
				t.Fatalf("%s does not start with %s", tc.msg, tc.prefix)
			}
			m := decodeMessage(t, tc.msg)
			if got := objectKeys(t, tc.msg); !reflect.DeepEqual(got, tc.keys) {
				t.Fatalf("keys = %v, want %v", got, tc.keys)
			}
			pRaw := tc.msg[bytes.Index(tc.msg, []byte(`"p":`))+4 : len(tc.msg)-len(`,"v":1}`)]
			if got := objectKeys(t, pRaw); !reflect.DeepEqual(got, tc.pKeys) {
				t.Fatalf("p keys = %v, want %v (p = %s)", got, tc.pKeys, pRaw)
			}
			if m["v"] != 1.0 {
				t.Fatalf("v = %v", m["v"])
			}
		})
	}
}

func TestServerReadyMatchesProtocol(t *testing.T) {
	t.Parallel()
	msg := ServerReady("conn-1", `evil","x":"`, Features{Recovery: true, Cluster: true}, fixedNow)
	m := decodeMessage(t, msg)
	id, _ := m["id"].(string)
	want := `{"c":"WSE","t":"server_ready","id":"` + id + `","ts":"2026-01-02T15:04:05.123Z","p":{"message":"Connection established",` +
		`"details":{"version":1,"connection_id":"conn-1","user_id":"evil\",\"x\":\"","server_time":"2026-01-02T15:04:05.123Z",` +
		`"features":{"compression":true,"recovery":true,"presence":false,"cluster":true,"encryption":false,"msgpack":true}}},"v":1}`
	if string(msg) != want {
		t.Fatalf("got  %s\nwant %s", msg, want)
	}
	if u, err := uuid.Parse(id); err != nil || u.Version() != 7 {
		t.Fatalf("id %q is not a UUIDv7: %v", id, err)
	}
}

func TestServerHelloMatchesProtocol(t *testing.T) {
	t.Parallel()
	h := HelloInfo{
		ServerVersion: "0.1.0", ClientProtocolVersion: 1, Features: Features{Presence: true},
		MaxMessageSize: 1 << 20, RateLimitCapacity: 100000, RateLimitRefill: 10000.5,
		PingInterval: 25 * time.Second, ConnID: "c", Now: fixedNow,
	}
	want := `{"c":"WSE","t":"server_hello","p":{"server_version":"0.1.0","protocol_version":1,` +
		`"features":{"compression":true,"recovery":false,"presence":true,"cluster":false,"encryption":false,"msgpack":true,"batching":true},` +
		`"limits":{"max_message_size":1048576,"rate_limit_capacity":100000,"rate_limit_refill":10000.5},` +
		`"ping_interval":25000,"connection_id":"c","server_time":"2026-01-02T15:04:05.123Z"},"v":1}`
	if got := string(ServerHello(h)); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	h.EncryptionPublicKey = "BASE64=="
	if got := string(ServerHello(h)); !strings.HasSuffix(got, `"server_time":"2026-01-02T15:04:05.123Z","encryption_public_key":"BASE64=="},"v":1}`) {
		t.Fatalf("public key missing: %s", got)
	}
}

func TestServerHelloNegotiatesVersion(t *testing.T) {
	t.Parallel()
	for client, want := range map[int]float64{-1: 1, 0: 1, 1: 1, 2: 1, 99: 1} {
		m := decodeMessage(t, ServerHello(HelloInfo{ClientProtocolVersion: client, Now: fixedNow}))
		if got := m["p"].(map[string]any)["protocol_version"]; got != want {
			t.Errorf("client %d: protocol_version = %v, want %v", client, got, want)
		}
	}
}

func TestPongComputesLatency(t *testing.T) {
	t.Parallel()
	now := time.UnixMilli(1700000000500)
	cases := []struct {
		client, latency int64
	}{
		{1700000000123, 377},
		{1700000000500, 0},
		{1800000000000, 0}, // client clock ahead
		{0, 1700000000500},
		{-9223372036854775808, 0}, // would overflow
	}
	for _, tc := range cases {
		m := decodeMessage(t, Pong(tc.client, now))
		p := m["p"].(map[string]any)
		if p["latency"] != float64(tc.latency) || p["server_timestamp"] != 1700000000500.0 || p["client_timestamp"] != float64(tc.client) {
			t.Errorf("Pong(%d) p = %v", tc.client, p)
		}
	}
}

func TestErrorAndWarningMatchProtocol(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ got, want []byte }{
		"error": {Error(CodeRateLimited, "Rate limit exceeded", 1, fixedNow),
			[]byte(`{"c":"WSE","t":"error","p":{"code":"RATE_LIMITED","message":"Rate limit exceeded","retry_after":1,"timestamp":"2026-01-02T15:04:05.123Z"},"v":1}`)},
		"escaped message": {Error(CodeInvalidMessage, "bad \"x\"\n<tag>", 0, fixedNow),
			[]byte(`{"c":"WSE","t":"error","p":{"code":"INVALID_MESSAGE","message":"bad \"x\"\n<tag>","timestamp":"2026-01-02T15:04:05.123Z"},"v":1}`)},
		"warning": {RateLimitWarning(80.5, 100, 19.5),
			[]byte(`{"c":"WSE","t":"rate_limit_warning","p":{"current_rate":80.5,"limit":100,"remaining":19.5,"retry_after":1.0},"v":1}`)},
		"ping": {Ping(fixedNow), []byte(`{"c":"WSE","t":"ping","p":{"server_time":"2026-01-02T15:04:05.123Z"},"v":1}`)},
		"presence without data": {Presence(TypePresenceLeave, "t", "u", nil),
			[]byte(`{"c":"WSE","t":"presence_leave","p":{"topic":"t","user_id":"u","data":{}},"v":1}`)},
		"presence with broken data": {Presence(TypePresenceUpdate, "t", "u", []byte(`{"a":`)),
			[]byte(`{"c":"WSE","t":"presence_update","p":{"topic":"t","user_id":"u","data":{}},"v":1}`)},
	}
	for name, tc := range cases {
		if !bytes.Equal(tc.got, tc.want) {
			t.Errorf("%s:\ngot  %s\nwant %s", name, tc.got, tc.want)
		}
	}
}

func TestTimestampIsUTCWithMilliseconds(t *testing.T) {
	t.Parallel()
	zone := time.FixedZone("X", 5*3600)
	cases := map[time.Time]string{
		fixedNow:                                 "2026-01-02T15:04:05.123Z",
		time.Date(2026, 1, 2, 20, 4, 5, 0, zone): "2026-01-02T15:04:05.000Z",
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC): "2026-12-31T23:59:59.999Z",
	}
	for in, want := range cases {
		got := Timestamp(in)
		if got != want || !tsPattern.MatchString(got) {
			t.Errorf("Timestamp(%v) = %q, want %q", in, got, want)
		}
	}
	if got := Timestamp(time.Now()); !tsPattern.MatchString(got) {
		t.Errorf("Timestamp(now) = %q", got)
	}
}

func TestNewIDIsUniqueVersion7(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for range 10000 {
		id := NewID()
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 {
			t.Fatalf("%q is not a UUIDv7: %v", id, err)
		}
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
}

func TestFallbackV7IsUniqueVersion7(t *testing.T) {
	t.Parallel()
	a, b := fallbackV7(fixedNow), fallbackV7(fixedNow)
	if a == b || a.Version() != 7 || a.Variant() != uuid.RFC4122 {
		t.Fatalf("fallback ids %v %v", a, b)
	}
	sec, nsec := a.Time().UnixTime()
	if got := time.Unix(sec, nsec); !got.Equal(fixedNow.Truncate(time.Millisecond)) {
		t.Fatalf("fallback time %v, want %v", got, fixedNow)
	}
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, f := range []float64{0, 1, -1.5, 100000, 1e20, 1e21, 1.5e-7, 1e-6, 123456789.125, -2e-10} {
		want, _ := json.Marshal(f)
		if got := appendFloat(nil, f); !bytes.Equal(got, want) {
			t.Errorf("appendFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `q"b\s`, "\x00\x1f\t\n\r", "é€😀", "bad\xff\xfeutf8", "<&>"} {
		var back string
		if err := json.Unmarshal(AppendString(nil, s), &back); err != nil {
			t.Fatalf("AppendString(%q) invalid: %v", s, err)
		}
		var want string
		enc, _ := json.Marshal(s)
		_ = json.Unmarshal(enc, &want)
		if back != want {
			t.Errorf("AppendString(%q) decodes to %q, want %q", s, back, want)
		}
	}
}
