package protocol

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Position is a client's last seen place in a topic's history: the epoch
// and the offset of the last message it received.
type Position struct {
	Epoch  string `json:"epoch"`
	Offset uint64 `json:"offset"`
}

// SubscriptionRequest is a client's subscription_update (or subscription)
// request (PROTOCOL §4).
type SubscriptionRequest struct {
	// Action is p.action as sent: ActionSubscribe (also when p.action is
	// absent or null), ActionUnsubscribe, or anything else, which the caller
	// rejects; "" when p.action is not a string.
	Action string
	// Topics are the string entries of p.topics, in order.
	Topics []string
	// Invalid counts the entries of p.topics that are not strings.
	Invalid int
	// Presence is p.presence when it is an object, else nil.
	Presence json.RawMessage
	// Recover is p.recover == true.
	Recover bool
	// Recovery holds the well-formed entries of p.recovery: an epoch string
	// and a non-negative integer offset. Nil when there are none.
	Recovery map[string]Position
	// QueueGroup is p.queue_group when it is a string: the request joins
	// (or leaves) that queue group of each topic instead of subscribing.
	QueueGroup string
}

// ParseSubscriptionRequest reads a subscription request from a message
// classified as KindSubscription. The error, wrapping ErrInvalid, is
// returned only when p is missing or not an object, or when p.topics is
// missing or not a list; its text is fit to send to the client.
func ParseSubscriptionRequest(msg map[string]any) (SubscriptionRequest, error) {
	var req SubscriptionRequest
	p, ok := msg["p"].(map[string]any)
	if !ok {
		return req, fmt.Errorf("%w: subscription request without a p object", ErrInvalid)
	}
	list, ok := p["topics"].([]any)
	if !ok {
		return req, fmt.Errorf("%w: subscription request without a topics list", ErrInvalid)
	}
	switch a := p["action"].(type) {
	case nil:
		req.Action = ActionSubscribe
	case string:
		req.Action = a
	}
	req.Topics = make([]string, 0, len(list))
	for _, t := range list {
		if s, ok := t.(string); ok {
			req.Topics = append(req.Topics, s)
		} else {
			req.Invalid++
		}
	}
	if presence, ok := p["presence"].(map[string]any); ok {
		// A decoded JSON object always marshals.
		req.Presence, _ = json.Marshal(presence)
	}
	req.Recover, _ = p["recover"].(bool)
	req.QueueGroup, _ = p["queue_group"].(string)
	if rec, ok := p["recovery"].(map[string]any); ok {
		for topic, v := range rec {
			entry, _ := v.(map[string]any)
			epoch, ok1 := entry["epoch"].(string)
			offset, ok2 := toUint64(entry["offset"])
			if !ok1 || !ok2 {
				continue
			}
			if req.Recovery == nil {
				req.Recovery = make(map[string]Position, len(rec))
			}
			req.Recovery[topic] = Position{Epoch: epoch, Offset: offset}
		}
	}
	return req, nil
}

// toUint64 converts a decoded JSON number that is a non-negative integer.
func toUint64(v any) (uint64, bool) {
	switch n := v.(type) {
	case float64:
		if n >= 0 && n < math.MaxUint64 && n == math.Trunc(n) {
			return uint64(n), true
		}
	case json.Number:
		u, err := strconv.ParseUint(string(n), 10, 64)
		return u, err == nil
	case int:
		return uint64(n), n >= 0
	case int64:
		return uint64(n), n >= 0
	case uint64:
		return n, true
	}
	return 0, false
}

// FailedTopic is a topic refused in a subscription reply, with the reason:
// CodeForbidden, CodeInvalidTopic or CodeLimit.
type FailedTopic struct {
	Topic string `json:"topic"`
	Code  string `json:"code"`
}

// RecoveryResult is the recovery outcome for one topic of a subscription
// reply. Offset is the last offset that exists (inclusive, 0 for an empty
// topic); Count is the number of messages replayed.
type RecoveryResult struct {
	Epoch     string `json:"epoch"`
	Offset    uint64 `json:"offset"`
	Recovered bool   `json:"recovered"`
	Count     int    `json:"count"`
}

// SubscriptionReply is the server's answer to a subscription request.
type SubscriptionReply struct {
	Action        string                    // the request's action
	Success       bool                      // true unless the whole request failed
	SuccessTopics []string                  // topics granted by a subscribe
	FailedTopics  []FailedTopic             // topics refused, with a code
	Unsubscribed  []string                  // topics left by an unsubscribe
	Recovery      map[string]RecoveryResult // per-topic recovery; omitted when empty
	QueueGroup    string                    // the queue group joined or left; omitted when empty
}

// Frame builds the subscription_update reply (PROTOCOL §4):
// {"c":"WSE","t":"subscription_update","p":{"action":…,"success":…,"success_topics":[…],"failed_topics":[…],"failed_codes":{…},"unsubscribed_topics"?:[…],"queue_group"?:…,"recovery"?:{…}},"v":1}.
//
// The shape follows what both existing clients read: the TypeScript client
// confirms every entry of success_topics as subscribed whatever the action,
// so an unsubscribe lists its topics under unsubscribed_topics (present
// for that action only) and leaves success_topics empty; and it keeps
// failed_topics entries as topic names, so they are strings, with each
// refused topic's code in failed_codes. Lists are always arrays;
// failed_codes is always an object; recovery topics are sorted.
func (r SubscriptionReply) Frame() []byte {
	b := make([]byte, 0, 128+32*(len(r.SuccessTopics)+len(r.Unsubscribed))+64*len(r.FailedTopics)+96*len(r.Recovery))
	b = append(b, `{"c":"WSE","t":"subscription_update","p":{"action":`...)
	b = AppendString(b, r.Action)
	b = append(b, `,"success":`...)
	b = appendBool(b, r.Success)
	b = append(b, `,"success_topics":`...)
	b = appendStrings(b, r.SuccessTopics)
	b = append(b, `,"failed_topics":[`...)
	for i, f := range r.FailedTopics {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, f.Topic)
	}
	b = append(b, `],"failed_codes":{`...)
	for i, f := range r.FailedTopics {
		if slices.ContainsFunc(r.FailedTopics[:i], func(g FailedTopic) bool { return g.Topic == f.Topic }) {
			continue // a topic listed twice in the request: one key
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, f.Topic)
		b = append(b, ':')
		b = AppendString(b, f.Code)
	}
	b = append(b, '}')
	if r.Action == "unsubscribe" {
		b = append(b, `,"unsubscribed_topics":`...)
		b = appendStrings(b, r.Unsubscribed)
	}
	if r.QueueGroup != "" {
		b = append(b, `,"queue_group":`...)
		b = AppendString(b, r.QueueGroup)
	}
	if len(r.Recovery) > 0 {
		b = append(b, `,"recovery":{`...)
		topics := make([]string, 0, len(r.Recovery))
		for t := range r.Recovery {
			topics = append(topics, t)
		}
		slices.Sort(topics)
		for i, t := range topics {
			res := r.Recovery[t]
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, t)
			b = append(b, `:{"epoch":`...)
			b = AppendString(b, res.Epoch)
			b = append(b, `,"offset":`...)
			b = strconv.AppendUint(b, res.Offset, 10)
			b = append(b, `,"recovered":`...)
			b = appendBool(b, res.Recovered)
			b = append(b, `,"count":`...)
			b = strconv.AppendInt(b, int64(res.Count), 10)
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, `},"v":1}`...)
}

// ClientHello is what a client_hello announces (PROTOCOL §2).
type ClientHello struct {
	ProtocolVersion     int    // p.protocol_version; 1 when absent or not a positive integer
	ClientVersion       string // p.client_version
	Encryption          bool   // p.features.encryption == true
	EncryptionPublicKey string // p.encryption_public_key (base64 P-256 point)
}

// ParseClientHello reads a message classified as KindClientHello. Missing
// or mistyped fields take their zero value (ProtocolVersion: 1).
func ParseClientHello(msg map[string]any) ClientHello {
	h := ClientHello{ProtocolVersion: Version}
	p, _ := msg["p"].(map[string]any)
	if v, ok := toUint64(p["protocol_version"]); ok && v >= 1 && v <= math.MaxInt32 {
		h.ProtocolVersion = int(v)
	}
	h.ClientVersion, _ = p["client_version"].(string)
	features, _ := p["features"].(map[string]any)
	h.Encryption, _ = features["encryption"].(bool)
	h.EncryptionPublicKey, _ = p["encryption_public_key"].(string)
	return h
}

// appendStrings appends ss as a JSON array of strings.
func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, s)
	}
	return append(b, ']')
}
