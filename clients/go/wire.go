package wseclient

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ClientVersion is the version reported in client_hello.
const ClientVersion = "wse-go-client/1.0.0"

// protocolVersion is the WSE protocol version the client speaks.
const protocolVersion = 1

// Actions of subscription requests and replies (PROTOCOL §4).
const (
	actionSubscribe   = "subscribe"
	actionUnsubscribe = "unsubscribe"
)

// timestampLayout is ISO-8601 UTC with milliseconds, the protocol's "ts".
const timestampLayout = "2006-01-02T15:04:05.000Z"

// category returns the "c" of an outbound message type: "WSE" for protocol
// types, "S" for snapshot and sync requests, "U" otherwise.
func category(t string) string {
	switch {
	case strings.Contains(t, "_snapshot"), strings.HasPrefix(t, "snapshot_"), t == "sync_request":
		return "S"
	case t == "client_hello", t == "subscription_update", t == "ping", t == "PONG", t == "batch":
		return "WSE"
	}
	return "U"
}

// outbound is the envelope of a message the client sends.
type outbound struct {
	C  string `json:"c"`
	T  string `json:"t"`
	P  any    `json:"p"`
	ID string `json:"id,omitempty"`
	TS string `json:"ts"`
	V  int    `json:"v"`
}

// envelope returns the JSON text of a message of type t with payload p (an
// empty object when p is nil).
func envelope(t string, p any, now time.Time) ([]byte, error) {
	if p == nil {
		p = struct{}{}
	}
	var id string
	if u, err := uuid.NewV7(); err == nil {
		id = u.String()
	}
	return json.Marshal(outbound{C: category(t), T: t, P: p, ID: id, TS: now.UTC().Format(timestampLayout), V: protocolVersion})
}

// helloPayload is the payload of client_hello.
type helloPayload struct {
	ClientVersion       string          `json:"client_version"`
	ProtocolVersion     int             `json:"protocol_version"`
	Features            map[string]bool `json:"features"`
	EncryptionPublicKey string          `json:"encryption_public_key,omitempty"`
}

// clientHello returns the client_hello message. key is the client's
// encryption public key; encryption is asked for when it is not empty.
func clientHello(recovery, msgpack bool, key string, now time.Time) []byte {
	b, _ := envelope("client_hello", helloPayload{
		ClientVersion:       ClientVersion,
		ProtocolVersion:     protocolVersion,
		Features:            map[string]bool{"compression": true, "recovery": recovery, "msgpack": msgpack, "encryption": key != ""},
		EncryptionPublicKey: key,
	}, now) // it always marshals
	return b
}

// subscriptionPayload is the payload of a subscription_update request.
type subscriptionPayload struct {
	Action     string              `json:"action"`
	Topics     []string            `json:"topics"`
	Presence   json.RawMessage     `json:"presence,omitempty"`
	Recover    bool                `json:"recover,omitempty"`
	Recovery   map[string]Position `json:"recovery,omitempty"`
	QueueGroup string              `json:"queue_group,omitempty"`
}

// subscriptionRequest returns a subscription_update request. from holds the
// positions to recover from; recover asks for recovery (and positions).
func subscriptionRequest(action string, topics []string, presence json.RawMessage, recover bool, from map[string]Position, now time.Time) []byte {
	if topics == nil {
		topics = []string{}
	}
	p := subscriptionPayload{Action: action, Topics: topics, Presence: presence, Recover: recover}
	if recover && len(from) > 0 {
		p.Recovery = from
	}
	b, _ := envelope("subscription_update", p, now) // presence is valid JSON
	return b
}

// queueRequest returns a subscription_update request that joins (or
// leaves) queue group group of topics.
func queueRequest(action string, topics []string, group string, now time.Time) []byte {
	b, _ := envelope("subscription_update", subscriptionPayload{Action: action, Topics: topics, QueueGroup: group}, now)
	return b
}

// clientPing returns the client's heartbeat {"c":"WSE","t":"ping","p":{"timestamp":<ms>},"v":1}.
func clientPing(now time.Time) []byte {
	b := append([]byte(nil), `{"c":"WSE","t":"ping","p":{"timestamp":`...)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	return append(b, `},"v":1}`...)
}

// pong returns the answer to a server ping whose p.server_time is
// serverTime (raw JSON; null when empty).
func pong(serverTime json.RawMessage, now time.Time) []byte {
	if len(serverTime) == 0 {
		serverTime = json.RawMessage("null")
	}
	b := append([]byte(nil), `{"c":"WSE","t":"PONG","p":{"server_timestamp":`...)
	b = append(b, serverTime...)
	b = append(b, `,"client_timestamp":`...)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	return append(b, `},"v":1}`...)
}

// reply is a parsed subscription_update reply.
type reply struct {
	Action   string
	Granted  []string
	Failed   []FailedTopic
	Recovery map[string]RecoveryResult
	// Group is the queue group the request joined or left; "" for a
	// normal subscription.
	Group string
}

// result returns r as the application sees it.
func (r *reply) result() SubscribeResult {
	return SubscribeResult{Granted: r.Granted, Failed: r.Failed, Recovery: r.Recovery}
}

// topics returns the sorted set of topics r answers for.
func (r *reply) topics() []string {
	ts := slices.Clone(r.Granted)
	for _, f := range r.Failed {
		ts = append(ts, f.Topic)
	}
	slices.Sort(ts)
	return slices.Compact(ts)
}

// wireReply is the JSON form of a subscription reply payload.
type wireReply struct {
	Action        string                       `json:"action"`
	SuccessTopics []json.RawMessage            `json:"success_topics"`
	FailedTopics  []json.RawMessage            `json:"failed_topics"`
	FailedCodes   map[string]string            `json:"failed_codes"`
	Unsubscribed  []json.RawMessage            `json:"unsubscribed_topics"`
	Recovery      map[string]wireRecoveryEntry `json:"recovery"`
	QueueGroup    string                       `json:"queue_group"`
}

// wireRecoveryEntry is one topic of a reply's recovery object.
type wireRecoveryEntry struct {
	Epoch     *string `json:"epoch"`
	Offset    *uint64 `json:"offset"`
	Recovered *bool   `json:"recovered"`
	Count     int     `json:"count"`
}

// parseReply parses the payload of a subscription_update reply. Entries of
// unexpected types are skipped; failed topics may be strings (with their
// codes in failed_codes) or {topic, code} objects. An unsubscribe reply
// lists its topics in unsubscribed_topics, or in success_topics when it
// has no such key (an application's own reply in app mode).
func parseReply(p json.RawMessage) (reply, bool) {
	var w wireReply
	if json.Unmarshal(p, &w) != nil {
		return reply{}, false
	}
	r := reply{Action: w.Action, Group: w.QueueGroup}
	if r.Action == "" {
		r.Action = actionSubscribe
	}
	granted := w.SuccessTopics
	if r.Action == actionUnsubscribe && w.Unsubscribed != nil {
		granted = w.Unsubscribed
	}
	for _, raw := range granted {
		if s := jsonString(bytes.TrimSpace(raw)); s != "" {
			r.Granted = append(r.Granted, s)
		}
	}
	for _, raw := range w.FailedTopics {
		var f FailedTopic
		if s := jsonString(bytes.TrimSpace(raw)); s != "" {
			f.Topic, f.Code = s, w.FailedCodes[s]
		} else if json.Unmarshal(raw, &f) != nil || f.Topic == "" {
			continue
		}
		r.Failed = append(r.Failed, f)
	}
	for topic, e := range w.Recovery {
		if e.Offset == nil {
			continue
		}
		res := RecoveryResult{Offset: *e.Offset, Recovered: e.Recovered == nil || *e.Recovered, Count: e.Count}
		if e.Epoch != nil {
			res.Epoch = *e.Epoch
		}
		if r.Recovery == nil {
			r.Recovery = make(map[string]RecoveryResult, len(w.Recovery))
		}
		r.Recovery[topic] = res
	}
	return r, true
}
