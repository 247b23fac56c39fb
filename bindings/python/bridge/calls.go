package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/auth"
	"github.com/wse-go/wse/monitor"
)

// decodeArgs decodes the JSON arguments of a call into v, refusing unknown
// fields so that a typo on the Python side fails loudly.
func decodeArgs(args []byte, v any) error {
	if len(args) == 0 {
		args = []byte("{}")
	}
	d := json.NewDecoder(bytes.NewReader(args))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return &ArgError{Msg: fmt.Sprintf("bad arguments: %v", err)}
	}
	return nil
}

// Call runs the method of the original API named method with its
// arguments as a JSON object, and returns its result as JSON.
func (h *Handle) Call(method string, args []byte) (any, error) {
	s := h.srv
	var a struct {
		ConnID    string          `json:"conn_id"`
		Topic     string          `json:"topic"`
		Topics    *[]string       `json:"topics"`
		Data      json.RawMessage `json:"data"`
		Event     map[string]any  `json:"event"`
		Threshold int             `json:"compression_threshold"`
		Code      int             `json:"close_code"`
		Reason    string          `json:"close_reason"`
		Timeout   float64         `json:"timeout"`
		Allow     []string        `json:"allow"`
		Deny      []string        `json:"deny"`
		Recover   bool            `json:"recover"`
		Epoch     *string         `json:"epoch"`
		Offset    *uint64         `json:"offset"`
		Peers     []string        `json:"peers"`
		Seeds     []string        `json:"seeds"`
		TLSCert   string          `json:"tls_cert"`
		TLSKey    string          `json:"tls_key"`
		TLSCA     string          `json:"tls_ca"`
		Port      int             `json:"cluster_port"`
		Addr      string          `json:"cluster_addr"`
		Group     string          `json:"queue_group"`
	}
	if err := decodeArgs(args, &a); err != nil {
		return nil, err
	}
	topics := func() []string {
		if a.Topics == nil {
			return nil
		}
		return *a.Topics
	}
	switch method {
	case "start":
		err := s.Start()
		if errors.Is(err, wse.ErrAlreadyRunning) {
			return nil, errors.New("server is already running")
		}
		if errors.Is(err, wse.ErrServerStopped) {
			return nil, errors.New("server was stopped; create a new WSEServer to serve again")
		}
		return nil, err
	case "stop":
		s.Stop()
		return nil, nil
	case "drain":
		code := a.Code
		if code < 1000 || code > 4999 {
			return nil, &ArgError{Msg: fmt.Sprintf("close_code %d is outside 1000-4999", code)}
		}
		return s.Drain(code, a.Reason, seconds(a.Timeout)), nil
	case "address":
		return s.Addr(), nil
	case "send_event":
		if a.Event == nil {
			return nil, &ArgError{Msg: "event must be a dict"}
		}
		n, err := s.SendEventThreshold(a.ConnID, a.Event, a.Threshold)
		if err := ignoreGone(err); err != nil {
			return nil, err
		}
		return n, nil
	case "get_connections":
		return nonNil(s.Connections()), nil
	case "disconnect":
		// The original closes without a status code, after which clients
		// reconnect; 4300 tells this engine's clients the same.
		err := s.DisconnectWithCode(a.ConnID, 4300, "disconnected by server")
		return nil, ignoreGone(err)
	case "subscribe_connection":
		if a.Group != "" {
			return nil, h.subscribeQueue(a.ConnID, topics(), a.Group)
		}
		return nil, h.subscribe(a.ConnID, topics(), a.Data)
	case "unsubscribe_connection":
		return nil, h.unsubscribe(a.ConnID, a.Topics)
	case "get_queue_group_info":
		info := make(map[string]int)
		for _, g := range s.QueueGroupInfo(a.Topic) {
			info[g.Name] = g.Members
		}
		return info, nil
	case "subscribe_with_recovery":
		return h.subscribeWithRecovery(a.ConnID, topics(), a.Recover, a.Epoch, a.Offset)
	case "get_topic_subscriber_count":
		return s.TopicSubscriberCount(a.Topic), nil
	case "set_topic_acl":
		err := s.SetTopicACL(a.ConnID, a.Allow, a.Deny)
		return nil, ignoreGone(err)
	case "presence":
		m := s.Presence(a.Topic)
		if m == nil {
			m = map[string]wse.Member{}
		}
		return m, nil
	case "presence_stats":
		return s.PresenceStats(a.Topic), nil
	case "update_presence":
		var data map[string]any
		if err := json.Unmarshal(a.Data, &data); err != nil || data == nil {
			return nil, &ArgError{Msg: "presence data must be a dict"}
		}
		return nil, s.UpdatePresence(a.ConnID, data)
	case "connect_cluster":
		return nil, h.connectCluster(a.Peers, a.Seeds, a.TLSCert, a.TLSKey, a.TLSCA, a.Port, a.Addr)
	case "reload_cluster_tls":
		if a.TLSCert == "" || a.TLSKey == "" || a.TLSCA == "" {
			return nil, &ArgError{Msg: "reload_cluster_tls needs cert, key and ca"}
		}
		return nil, s.ReloadClusterTLS(a.TLSCert, a.TLSKey, a.TLSCA)
	case "cluster_connected":
		return s.ClusterConnected(), nil
	case "cluster_peers_count":
		return s.ClusterPeersCount(), nil
	case "cluster_info":
		peers := s.ClusterInfo()
		out := make([]map[string]any, 0, len(peers))
		for _, p := range peers {
			out = append(out, map[string]any{
				"address": p.Address, "instance_id": p.ID,
				"capabilities": p.Capabilities, "connected_at": p.ConnectedAt.UnixMilli(),
			})
		}
		return out, nil
	case "get_cluster_dlq_entries":
		return nonNil(s.ClusterDLQ()), nil
	case "health_snapshot":
		return s.HealthSnapshot(), nil
	case "prometheus_metrics":
		return prometheusText(s)
	case "inbound_dropped_count":
		return s.InboundDropped(), nil
	}
	return nil, &ArgError{Msg: fmt.Sprintf("unknown method %q", method)}
}

// subscribe is subscribe_connection: topics refused by the connection's
// ACL are skipped and presence data the engine refuses (too large, member
// limit, presence off) is dropped, the subscription kept, both silently as
// with the original; the subscription limit raises.
func (h *Handle) subscribe(connID string, topics []string, data json.RawMessage) error {
	var presence map[string]any
	if len(data) > 0 && string(data) != "null" {
		if err := json.Unmarshal(data, &presence); err != nil || presence == nil {
			return &ArgError{Msg: "presence_data must be a dict or None"}
		}
	}
	err := h.srv.Subscribe(connID, topics, presence)
	switch {
	case errors.Is(err, wse.ErrPresenceDataTooLarge), errors.Is(err, wse.ErrPresenceFull),
		errors.Is(err, wse.ErrPresenceDisabled), errors.Is(err, wse.ErrNoPresence):
		err = h.srv.Subscribe(connID, topics, nil)
	}
	if errors.Is(err, wse.ErrForbidden) {
		return nil
	}
	return ignoreGone(err)
}

// subscribeQueue makes a connection a member of queue group group of
// topics; like subscribe, an unknown connection and a refused topic are not
// errors.
func (h *Handle) subscribeQueue(connID string, topics []string, group string) error {
	err := h.srv.SubscribeQueue(connID, topics, group)
	if errors.Is(err, wse.ErrForbidden) {
		return nil
	}
	return ignoreGone(err)
}

// unsubscribe removes a connection from topics, and from every queue group
// of those topics it is in; nil topics removes it from everything.
func (h *Handle) unsubscribe(connID string, topics *[]string) error {
	if topics == nil {
		return ignoreGone(h.srv.Unsubscribe(connID, nil))
	}
	if err := h.srv.Unsubscribe(connID, *topics); err != nil {
		return ignoreGone(err)
	}
	for _, t := range *topics {
		for _, g := range h.srv.QueueGroupInfo(t) {
			if g.Members > 0 {
				if err := h.srv.UnsubscribeQueue(connID, []string{t}, g.Name); err != nil {
					return ignoreGone(err)
				}
			}
		}
	}
	return nil
}

// topicRecovery is one topic's entry of subscribe_with_recovery's result.
type topicRecovery struct {
	Epoch     *string `json:"epoch"`
	Offset    uint64  `json:"offset"`
	Recovered bool    `json:"recovered"`
	Count     int     `json:"count"`
}

// subscribeWithRecovery is subscribe_with_recovery: one position (epoch,
// offset) for every topic, as in the original; the result is
// {"recovered": every topic recovered, "topics": {topic: {epoch, offset,
// recovered, count}}} with epoch None for a topic without history.
func (h *Handle) subscribeWithRecovery(connID string, topics []string, recover bool, epoch *string, offset *uint64) (any, error) {
	var from map[string]wse.Position
	if recover && epoch != nil && offset != nil {
		from = make(map[string]wse.Position, len(topics))
		for _, t := range topics {
			from[t] = wse.Position{Epoch: *epoch, Offset: *offset}
		}
	}
	res, err := h.srv.SubscribeWithRecovery(connID, topics, from, nil)
	if err != nil && !errors.Is(err, wse.ErrForbidden) {
		if err := ignoreGone(err); err != nil {
			return nil, err
		}
	}
	out := make(map[string]topicRecovery, len(topics))
	all := recover && len(topics) > 0
	for _, t := range topics {
		r, ok := res[t]
		tr := topicRecovery{}
		if ok {
			tr = topicRecovery{Offset: r.Offset, Recovered: r.Recovered, Count: r.Count}
			if r.Epoch != "" {
				e := r.Epoch
				tr.Epoch = &e
			}
		}
		all = all && tr.Recovered
		out[t] = tr
	}
	return map[string]any{"recovered": all, "topics": out}, nil
}

// connectCluster is connect_cluster. As with the original, TLS files may
// come from WSE_CLUSTER_TLS_CERT/KEY/CA when not given, and seeds need
// cluster_addr.
func (h *Handle) connectCluster(peers, seeds []string, cert, key, ca string, port int, addr string) error {
	env := func(v *string, name string) {
		if *v == "" {
			*v = os.Getenv(name)
		}
	}
	env(&cert, "WSE_CLUSTER_TLS_CERT")
	env(&key, "WSE_CLUSTER_TLS_KEY")
	env(&ca, "WSE_CLUSTER_TLS_CA")
	if len(seeds) > 0 && addr == "" {
		return &ArgError{Msg: "cluster_addr is required with seeds"}
	}
	if n := btoi(cert != "") + btoi(key != "") + btoi(ca != ""); n != 0 && n != 3 {
		return &ArgError{Msg: "tls_cert, tls_key and tls_ca go together: give all three or none"}
	}
	err := h.srv.ConnectCluster(wse.ClusterConfig{
		Peers: peers, Seeds: seeds, TLSCert: cert, TLSKey: key, TLSCA: ca,
		ClusterPort: port, ClusterAddr: addr,
	})
	if errors.Is(err, wse.ErrClusterConnected) {
		return errors.New("cluster is already connected")
	}
	return err
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// prometheusText renders the engine's metrics in the Prometheus text
// format, through the same collector as wse-server's /metrics.
func prometheusText(s *wse.Server) (any, error) {
	m, err := monitor.New(s, monitor.Options{NoRuntimeMetrics: true})
	if err != nil {
		return nil, err
	}
	fams, err := m.Registry().Gather()
	if err != nil {
		return nil, fmt.Errorf("gather metrics: %w", err)
	}
	var b strings.Builder
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			return nil, fmt.Errorf("encode metrics: %w", err)
		}
	}
	return b.String(), nil
}

// CallModule runs a module-level function: jwt_encode, transform_event,
// runtime_stats (goroutines and handles of the library, for leak tests) or
// self_test_panic (a panic, to check that callers get an error instead).
func CallModule(method string, args []byte) (any, error) {
	switch method {
	case "jwt_encode":
		var a struct {
			Claims    map[string]any `json:"claims"`
			Secret    []byte         `json:"secret"`
			Algorithm string         `json:"algorithm"`
			KeyID     string         `json:"key_id"`
		}
		if err := decodeArgs(args, &a); err != nil {
			return nil, err
		}
		return jwtEncode(a.Claims, a.Secret, a.Algorithm, a.KeyID)
	case "transform_event":
		var a struct {
			Event   map[string]any    `json:"event"`
			Seq     uint64            `json:"seq"`
			TypeMap map[string]string `json:"type_map"`
		}
		if err := decodeArgs(args, &a); err != nil {
			return nil, err
		}
		return transformEvent(a.Event, a.Seq, a.TypeMap), nil
	case "runtime_stats":
		return map[string]int{"goroutines": runtime.NumGoroutine(), "handles": handleCount()}, nil
	case "self_test_panic":
		panic("self-test of the panic guard")
	}
	return nil, &ArgError{Msg: fmt.Sprintf("unknown function %q", method)}
}

func handleCount() int {
	handlesMu.RLock()
	defer handlesMu.RUnlock()
	return len(handles)
}

// jwtEncode signs claims with secret (the PEM private key for RS256, ES256
// and EdDSA); kid, when set, goes into the header.
func jwtEncode(claims map[string]any, secret []byte, alg, kid string) (string, error) {
	if alg == "" {
		alg = "HS256"
	}
	var tok string
	var err error
	if kid == "" {
		tok, err = auth.Sign(claims, alg, secret)
	} else {
		cfg := auth.Config{Algorithm: alg, KeyID: kid}
		if strings.HasPrefix(strings.ToUpper(alg), "HS") {
			cfg.Secret = secret
		} else {
			cfg.PrivateKey = secret // the public key is derived from it
		}
		var v *auth.Verifier
		v, err = auth.NewVerifier(cfg)
		if err == nil {
			tok, err = v.Sign(claims)
		}
	}
	if errors.Is(err, auth.ErrInvalidKey) || errors.Is(err, auth.ErrInvalidConfig) || errors.Is(err, auth.ErrInvalidClaims) {
		return "", &ArgError{Msg: err.Error()}
	}
	return tok, err
}

// transformEvent is the seed's Pattern B transformer: an event whose type
// (event_type, else type) is not in typeMap is filtered out (nil); an
// event already in the envelope shape passes through.
func transformEvent(event map[string]any, seq uint64, typeMap map[string]string) map[string]any {
	if event == nil {
		return nil
	}
	_, enveloped := event["v"]
	for _, k := range []string{"t", "p", "id", "ts"} {
		_, ok := event[k]
		enveloped = enveloped && ok
	}
	if !enveloped {
		t, _ := event["event_type"].(string)
		if t == "" {
			t, _ = event["type"].(string)
		}
		if _, ok := typeMap[t]; !ok {
			return nil
		}
	}
	out, ok := wse.TransformEvent(event, seq, typeMap)
	if !ok {
		return nil
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func msDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
