package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
)

// Kind is the class of a client frame (PROTOCOL §3, §4, §6).
type Kind uint8

// Kinds of client frames.
const (
	// KindMsg is an application message: Inbound.Msg.
	KindMsg Kind = iota + 1
	// KindRaw is text that is not a JSON object: Inbound.Raw.
	KindRaw
	// KindBin is binary data: Inbound.Bin.
	KindBin
	// KindPing is a client ping, to be answered with Pong(Inbound.PingTimestamp).
	KindPing
	// KindPong is a PONG or pong answer to a server ping, to be swallowed.
	KindPong
	// KindClientHello is a client_hello, to be answered with server_hello;
	// Inbound.Msg holds it.
	KindClientHello
	// KindSubscription is a subscription_update or subscription request;
	// Inbound.Msg holds it.
	KindSubscription
	// KindBatch is a batch: Inbound.Msgs holds one normalized message per
	// entry of p.messages.
	KindBatch
)

// String returns the name of k.
func (k Kind) String() string {
	switch k {
	case KindMsg:
		return "msg"
	case KindRaw:
		return "raw"
	case KindBin:
		return "bin"
	case KindPing:
		return "ping"
	case KindPong:
		return "pong"
	case KindClientHello:
		return "client_hello"
	case KindSubscription:
		return "subscription"
	case KindBatch:
		return "batch"
	default:
		return "unknown"
	}
}

// Inbound is the result of classifying one client frame. Which fields are
// set depends on Kind.
type Inbound struct {
	// Kind is the class of the frame.
	Kind Kind
	// Msg is the message object for KindMsg, KindClientHello and
	// KindSubscription, normalized (see ClassifyText).
	Msg map[string]any
	// Msgs holds the normalized entries of a KindBatch.
	Msgs []map[string]any
	// Raw is the original text of a KindRaw frame.
	Raw string
	// Bin is the original bytes of a KindBin frame. It aliases the frame
	// passed to ClassifyBinary; copy it to keep it.
	Bin []byte
	// PingTimestamp is p.timestamp of a KindPing in integer milliseconds
	// (fractions dropped), 0 when absent, not a number or out of range.
	PingTimestamp int64
}

// ClassifyText classifies a text frame (PROTOCOL §6).
//
// A legacy prefix "WSE", "S" or "U" directly before '{' is stripped; what
// remains must be a JSON object, otherwise the frame is KindRaw with the
// original text (arrays, broken JSON, plain words, "PONG:123"). The
// top-level "t", as sent, then decides: "ping" is KindPing, "PONG" and "pong"
// are KindPong, "client_hello" is KindClientHello, "subscription_update" and
// "subscription" are KindSubscription, and "batch" with p.messages a list of
// objects is KindBatch; anything else, including {"type":"ping"}, is KindMsg.
//
// Messages are normalized: "type" becomes "t" and "payload" becomes "p" when
// "t" or "p" is absent (the old key is removed). Every other key is kept.
// Numbers decode as float64.
func ClassifyText(data []byte) Inbound {
	body := data
	switch {
	case bytes.HasPrefix(body, []byte("WSE{")):
		body = body[3:]
	case bytes.HasPrefix(body, []byte("S{")), bytes.HasPrefix(body, []byte("U{")):
		body = body[1:]
	}
	if i := skipSpace(body, 0); i == len(body) || body[i] != '{' {
		return Inbound{Kind: KindRaw, Raw: string(data)}
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return Inbound{Kind: KindRaw, Raw: string(data)}
	}
	return classifyObject(m)
}

// ClassifyBinary classifies a binary frame (PROTOCOL §6).
//
// "C:" followed by zlib data is inflated, at most maxInflate bytes, and the
// result classified as text; an inflated size over maxInflate is an error
// wrapping ErrTooLarge, and "C:" data that is not valid zlib is KindBin.
// When msgpack is true (a format=msgpack connection), the frame, with or
// without an "M:" prefix, is decoded as MessagePack: an object (nesting at
// most 64 deep, string keys, no trailing bytes) follows the same rules as a
// text object, with integers as float64, bin as []byte and timestamps as
// time.Time; anything else is KindBin. Every other frame, including "E:", is
// KindBin with the original bytes.
func ClassifyBinary(data []byte, msgpack bool, maxInflate int64) (Inbound, error) {
	if bytes.HasPrefix(data, []byte("C:")) {
		text, err := Inflate(data[2:], maxInflate)
		switch {
		case errors.Is(err, ErrTooLarge):
			return Inbound{}, err
		case err != nil:
			return Inbound{Kind: KindBin, Bin: data}, nil
		}
		return ClassifyText(text), nil
	}
	if msgpack {
		if m, ok := decodeMsgpackObject(bytes.TrimPrefix(data, []byte("M:"))); ok {
			return classifyObject(m), nil
		}
	}
	return Inbound{Kind: KindBin, Bin: data}, nil
}

// classifyObject dispatches a decoded client object on its top-level "t".
func classifyObject(m map[string]any) Inbound {
	t, _ := m["t"].(string)
	switch t {
	case TypePing:
		return Inbound{Kind: KindPing, PingTimestamp: pingTimestamp(m)}
	case TypePong, TypePongLower:
		return Inbound{Kind: KindPong}
	case TypeClientHello:
		return Inbound{Kind: KindClientHello, Msg: normalize(m)}
	case TypeSubscriptionUpdate, TypeSubscription:
		return Inbound{Kind: KindSubscription, Msg: normalize(m)}
	case TypeBatch:
		if msgs, ok := batchEntries(m); ok {
			return Inbound{Kind: KindBatch, Msgs: msgs}
		}
	}
	return Inbound{Kind: KindMsg, Msg: normalize(m)}
}

// normalize renames "type" to "t" and "payload" to "p" where "t" or "p" is
// absent, in place, and returns m.
func normalize(m map[string]any) map[string]any {
	for _, k := range [...][2]string{{"type", "t"}, {"payload", "p"}} {
		if _, ok := m[k[1]]; ok {
			continue
		}
		if v, ok := m[k[0]]; ok {
			m[k[1]] = v
			delete(m, k[0])
		}
	}
	return m
}

// batchEntries returns the normalized entries of p.messages when it is a
// list of objects.
func batchEntries(m map[string]any) ([]map[string]any, bool) {
	p, _ := m["p"].(map[string]any)
	list, ok := p["messages"].([]any)
	if !ok {
		return nil, false
	}
	msgs := make([]map[string]any, 0, len(list))
	for _, e := range list {
		entry, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		msgs = append(msgs, entry)
	}
	for _, entry := range msgs {
		normalize(entry)
	}
	return msgs, true
}

// pingTimestamp returns p.timestamp in integer milliseconds, or 0.
func pingTimestamp(m map[string]any) int64 {
	p, _ := m["p"].(map[string]any)
	f, ok := p["timestamp"].(float64)
	if !ok || math.IsNaN(f) || f >= math.MaxInt64 || f < math.MinInt64 {
		return 0
	}
	return int64(f)
}
