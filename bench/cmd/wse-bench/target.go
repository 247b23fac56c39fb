package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// target describes one server under test: its default endpoints and its
// protocol, as byte patterns the client matches in frames.
type target struct {
	name       string
	defaultWS  string // WebSocket URL
	defaultAPI string // base URL of the publish and stats endpoints
	// authHeader is whether the JWT goes in the handshake (Cookie) rather
	// than in a connect command.
	authHeader bool
	// connectCmd, when set, is sent after the handshake (with the token, if
	// any); readyMark in a frame then means the connection is usable.
	connectCmd func(token string) []byte
	readyMark  []byte
	// failMark in a frame before readyMark means the server refused us.
	failMark []byte
	// subscribeCmd subscribes to the topic; subscribedMark confirms it.
	// subscribeCmd nil means every connection receives publications.
	subscribeCmd   func(topic string) []byte
	subscribedMark []byte
	// isPing recognizes an application-level server ping; pingReply answers it.
	isPing    func(p []byte) bool
	pingReply []byte
	// echoCmd appends one p2p request (with id) to dst; echoMark occurs once
	// in the answer to each.
	echoCmd  func(dst []byte, id int64) []byte
	echoMark []byte
	// publishBody appends the publish request body for data to dst.
	publishBody func(dst []byte, topic string, data []byte) []byte
	// goroutines and subscribers read the server's own figures.
	goroutines  func(api string) (int, error)
	subscribers func(api, topic string) (int, error)
}

var targets = map[string]*target{
	"wse": {
		name:       "wse",
		defaultWS:  "ws://127.0.0.1:19107/wse",
		defaultAPI: "http://127.0.0.1:19108",
		authHeader: true,
		readyMark:  []byte(`"server_ready"`),
		failMark:   []byte(`"t":"error"`),
		subscribeCmd: func(topic string) []byte {
			return fmt.Appendf(nil, `{"t":"subscription_update","p":{"action":"subscribe","topics":[%q]}}`, topic)
		},
		subscribedMark: []byte(`"success_topics":["`),
		isPing:         func(p []byte) bool { return bytes.HasPrefix(p, []byte(`{"c":"WSE","t":"ping"`)) },
		pingReply:      []byte(`{"t":"PONG","p":{}}`),
		echoCmd: func(dst []byte, _ int64) []byte {
			dst = append(dst, `{"t":"ping","p":{"timestamp":`...)
			dst = strconv.AppendInt(dst, time.Now().UnixMilli(), 10)
			return append(dst, `}}`...)
		},
		echoMark: []byte(`"t":"PONG"`),
		publishBody: func(dst []byte, topic string, data []byte) []byte {
			dst = fmt.Appendf(dst, `{"topic":%q,"data":`, topic)
			dst = append(dst, data...)
			return append(dst, '}')
		},
		goroutines: func(api string) (int, error) {
			b, err := httpGet(api + "/metrics")
			if err != nil {
				return 0, err
			}
			return promValue(b, "go_goroutines")
		},
		subscribers: func(api, topic string) (int, error) {
			return jsonInt(api+"/api/topics/"+topic, "subscribers")
		},
	},
	"centrifuge": {
		name:       "centrifuge",
		defaultWS:  "ws://127.0.0.1:19200/connection/websocket",
		defaultAPI: "http://127.0.0.1:19200",
		connectCmd: func(token string) []byte {
			if token == "" {
				return []byte(`{"id":1,"connect":{}}`)
			}
			return fmt.Appendf(nil, `{"id":1,"connect":{"token":%q}}`, token)
		},
		readyMark: []byte(`{"id":1,"connect"`),
		failMark:  []byte(`{"id":1,"error"`),
		subscribeCmd: func(topic string) []byte {
			return fmt.Appendf(nil, `{"id":2,"subscribe":{"channel":%q}}`, topic)
		},
		subscribedMark: []byte(`{"id":2,"subscribe"`),
		isPing: func(p []byte) bool {
			return bytes.Equal(p, []byte("{}")) || bytes.HasPrefix(p, []byte("{}\n")) || bytes.Contains(p, []byte("\n{}"))
		},
		pingReply: []byte(`{}`),
		echoCmd: func(dst []byte, id int64) []byte {
			dst = append(dst, `{"id":`...)
			dst = strconv.AppendInt(dst, id+3, 10)
			dst = append(dst, `,"rpc":{"method":"echo","data":{"t":"ping","p":{"timestamp":`...)
			dst = strconv.AppendInt(dst, time.Now().UnixMilli(), 10)
			return append(dst, `}}}}`...)
		},
		echoMark:    []byte(`"rpc":`),
		publishBody: func(dst []byte, _ string, data []byte) []byte { return append(dst, data...) },
		goroutines:  func(api string) (int, error) { return jsonInt(api+"/stats", "goroutines") },
		subscribers: func(api, _ string) (int, error) { return jsonInt(api+"/stats", "subscribers") },
	},
	"raw": {
		name:       "raw",
		defaultWS:  "ws://127.0.0.1:19300/ws",
		defaultAPI: "http://127.0.0.1:19300",
		readyMark:  []byte(`{"t":"ready"}`),
		isPing:     func([]byte) bool { return false },
		echoCmd: func(dst []byte, _ int64) []byte {
			dst = append(dst, `{"t":"ping","p":{"timestamp":`...)
			dst = strconv.AppendInt(dst, time.Now().UnixMilli(), 10)
			return append(dst, `}}`...)
		},
		echoMark:    []byte(`"timestamp"`),
		publishBody: func(dst []byte, _ string, data []byte) []byte { return append(dst, data...) },
		goroutines:  func(api string) (int, error) { return jsonInt(api+"/stats", "goroutines") },
		subscribers: func(api, _ string) (int, error) { return jsonInt(api+"/stats", "subscribers") },
	},
}

// apiClient is used for every control request (publish, stats).
var apiClient = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true},
}

// httpGet returns the body of a 200 answer to GET url.
func httpGet(url string) ([]byte, error) {
	resp, err := apiClient.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: %s", errServer, url, resp.Status)
	}
	return b, nil
}

// jsonInt reads the integer field key of the JSON object at url.
func jsonInt(url, key string) (int, error) {
	b, err := httpGet(url)
	if err != nil {
		return 0, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return 0, fmt.Errorf("%w: %s: %w", errServer, url, err)
	}
	v, ok := m[key].(float64)
	if !ok {
		return 0, fmt.Errorf("%w: %s has no %q", errServer, url, key)
	}
	return int(v), nil
}

// promValue reads an unlabelled sample from Prometheus text exposition.
func promValue(b []byte, name string) (int, error) {
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte(name+" "))
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(string(bytes.TrimSpace(rest)), 64)
		if err != nil {
			return 0, fmt.Errorf("%w: metric %s: %w", errServer, name, err)
		}
		return int(v), nil
	}
	return 0, fmt.Errorf("%w: no metric %s", errServer, name)
}

// mintTokens returns n HS256 tokens (sub "bench-<i>", valid one hour).
func mintTokens(secret string, n int) ([]string, error) {
	now := time.Now()
	toks := make([]string, n)
	for i := range toks {
		t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": "bench-" + strconv.Itoa(i),
			"iat": now.Unix(),
			"exp": now.Add(time.Hour).Unix(),
		})
		s, err := t.SignedString([]byte(secret))
		if err != nil {
			return nil, err
		}
		toks[i] = s
	}
	return toks, nil
}

// payload appends the benchmark message for seq, stamped ts (Unix ns),
// padded with 'x' so that it is size bytes long when the fixed part allows.
func payload(dst []byte, seq int64, size int, ts int64) []byte {
	start := len(dst)
	dst = append(dst, `{"t":"bench","p":{"seq":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, `,"b":"`...)
	for pad := size - (len(dst) - start) - 3; pad > 0; pad-- {
		dst = append(dst, 'x')
	}
	return append(dst, `"}}`...)
}
