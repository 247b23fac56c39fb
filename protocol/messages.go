package protocol

import (
	"encoding/binary"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// timestampLayout is ISO-8601 UTC with milliseconds.
const timestampLayout = "2006-01-02T15:04:05.000Z"

// fallbackSeq makes fallback ids unique within the process.
var fallbackSeq atomic.Uint64

// NewID returns a new UUIDv7 string, the form of message and connection ids.
// It never panics: should the random source fail, it still returns a unique
// version 7 id, built from the clock and a process-wide counter.
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		id = fallbackV7(time.Now())
	}
	return id.String()
}

// fallbackV7 builds a UUIDv7 from t and a counter, without randomness.
func fallbackV7(t time.Time) uuid.UUID {
	var id uuid.UUID
	ms := uint64(t.UnixMilli())
	id[0], id[1], id[2], id[3], id[4], id[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	binary.BigEndian.PutUint64(id[8:], fallbackSeq.Add(1))
	id[6] = 0x70              // version 7
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return id
}

// Timestamp formats t as ISO-8601 UTC with milliseconds,
// e.g. 2026-01-02T15:04:05.123Z, the form of "ts" and of server times.
func Timestamp(t time.Time) string {
	return t.UTC().Format(timestampLayout)
}

// appendTimestamp appends Timestamp(t) as a JSON string.
func appendTimestamp(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, timestampLayout)
	return append(b, '"')
}

// Features are the optional server features announced in server_ready and
// server_hello. Compression and MessagePack are always on.
type Features struct {
	Recovery   bool // recovery stamps and replay are enabled
	Presence   bool // presence tracking is enabled
	Cluster    bool // the node is part of a cluster
	Encryption bool // end-to-end encryption can be negotiated
}

// appendFeatures appends the features object, with "batching":true when
// batching is set.
func appendFeatures(b []byte, f Features, batching bool) []byte {
	b = append(b, `{"compression":true,"recovery":`...)
	b = appendBool(b, f.Recovery)
	b = append(b, `,"presence":`...)
	b = appendBool(b, f.Presence)
	b = append(b, `,"cluster":`...)
	b = appendBool(b, f.Cluster)
	b = append(b, `,"encryption":`...)
	b = appendBool(b, f.Encryption)
	b = append(b, `,"msgpack":true`...)
	if batching {
		b = append(b, `,"batching":true`...)
	}
	return append(b, '}')
}

// ServerReady builds the server_ready message, the first frame of every
// connection (PROTOCOL §2):
// {"c":"WSE","t":"server_ready","id":…,"ts":…,"p":{"message":"Connection established","details":{"version":1,"connection_id":…,"user_id":…,"server_time":…,"features":{…}}},"v":1}.
func ServerReady(connID, userID string, f Features, now time.Time) []byte {
	b := make([]byte, 0, 384)
	b = append(b, `{"c":"WSE","t":"server_ready","id":`...)
	b = AppendString(b, NewID())
	b = append(b, `,"ts":`...)
	b = appendTimestamp(b, now)
	b = append(b, `,"p":{"message":"Connection established","details":{"version":1,"connection_id":`...)
	b = AppendString(b, connID)
	b = append(b, `,"user_id":`...)
	b = AppendString(b, userID)
	b = append(b, `,"server_time":`...)
	b = appendTimestamp(b, now)
	b = append(b, `,"features":`...)
	b = appendFeatures(b, f, false)
	return append(b, `}},"v":1}`...)
}

// HelloInfo is what server_hello reports.
type HelloInfo struct {
	ServerVersion         string        // server software version
	ClientProtocolVersion int           // p.protocol_version of the client_hello; below 1 means absent
	Features              Features      // enabled features
	MaxMessageSize        int64         // inbound message limit in bytes
	RateLimitCapacity     float64       // inbound token bucket size
	RateLimitRefill       float64       // inbound tokens per second
	PingInterval          time.Duration // server ping period, sent in milliseconds
	ConnID                string        // connection id
	Now                   time.Time     // server time
	EncryptionPublicKey   string        // server ECDH public key (base64), sent when not empty
}

// ServerHello builds the server_hello answer to a client_hello (PROTOCOL §2):
// {"c":"WSE","t":"server_hello","p":{"server_version":…,"protocol_version":…,"features":{…},"limits":{…},"ping_interval":<ms>,"connection_id":…,"server_time":…,"encryption_public_key"?:…},"v":1}.
// protocol_version is the client's, at most Version (Version when absent).
func ServerHello(h HelloInfo) []byte {
	version := Version
	if h.ClientProtocolVersion >= 1 {
		version = min(h.ClientProtocolVersion, Version)
	}
	b := make([]byte, 0, 512)
	b = append(b, `{"c":"WSE","t":"server_hello","p":{"server_version":`...)
	b = AppendString(b, h.ServerVersion)
	b = append(b, `,"protocol_version":`...)
	b = strconv.AppendInt(b, int64(version), 10)
	b = append(b, `,"features":`...)
	b = appendFeatures(b, h.Features, true)
	b = append(b, `,"limits":{"max_message_size":`...)
	b = strconv.AppendInt(b, h.MaxMessageSize, 10)
	b = append(b, `,"rate_limit_capacity":`...)
	b = appendFloat(b, h.RateLimitCapacity)
	b = append(b, `,"rate_limit_refill":`...)
	b = appendFloat(b, h.RateLimitRefill)
	b = append(b, `},"ping_interval":`...)
	b = strconv.AppendInt(b, h.PingInterval.Milliseconds(), 10)
	b = append(b, `,"connection_id":`...)
	b = AppendString(b, h.ConnID)
	b = append(b, `,"server_time":`...)
	b = appendTimestamp(b, h.Now)
	if h.EncryptionPublicKey != "" {
		b = append(b, `,"encryption_public_key":`...)
		b = AppendString(b, h.EncryptionPublicKey)
	}
	return append(b, `},"v":1}`...)
}

// Pong builds the answer to a client ping (PROTOCOL §3):
// {"c":"WSE","t":"PONG","p":{"client_timestamp":…,"server_timestamp":<ms>,"latency":…},"v":1},
// latency being max(0, server_timestamp - client_timestamp).
func Pong(clientTS int64, now time.Time) []byte {
	server := now.UnixMilli()
	latency := int64(0)
	if clientTS <= server && server-clientTS >= 0 { // the second test catches overflow
		latency = server - clientTS
	}
	b := make([]byte, 0, 128)
	b = append(b, `{"c":"WSE","t":"PONG","p":{"client_timestamp":`...)
	b = strconv.AppendInt(b, clientTS, 10)
	b = append(b, `,"server_timestamp":`...)
	b = strconv.AppendInt(b, server, 10)
	b = append(b, `,"latency":`...)
	b = strconv.AppendInt(b, latency, 10)
	return append(b, `},"v":1}`...)
}

// Ping builds the server heartbeat (PROTOCOL §3):
// {"c":"WSE","t":"ping","p":{"server_time":…},"v":1}.
func Ping(now time.Time) []byte {
	b := make([]byte, 0, 80)
	b = append(b, `{"c":"WSE","t":"ping","p":{"server_time":`...)
	b = appendTimestamp(b, now)
	return append(b, `},"v":1}`...)
}

// Error builds an error report (PROTOCOL §9):
// {"c":"WSE","t":"error","p":{"code":…,"message":…,"retry_after"?:…,"timestamp":…},"v":1},
// with retry_after (seconds) only when retryAfter > 0.
func Error(code, message string, retryAfter float64, now time.Time) []byte {
	b := make([]byte, 0, 128+len(message))
	b = append(b, `{"c":"WSE","t":"error","p":{"code":`...)
	b = AppendString(b, code)
	b = append(b, `,"message":`...)
	b = AppendString(b, message)
	if retryAfter > 0 {
		b = append(b, `,"retry_after":`...)
		b = appendFloat(b, retryAfter)
	}
	b = append(b, `,"timestamp":`...)
	b = appendTimestamp(b, now)
	return append(b, `},"v":1}`...)
}

// RateLimitWarning builds the warning sent when most of the inbound rate
// limit is used (PROTOCOL §6):
// {"c":"WSE","t":"rate_limit_warning","p":{"current_rate":used,"limit":…,"remaining":…,"retry_after":1.0},"v":1}.
func RateLimitWarning(used, limit, remaining float64) []byte {
	b := make([]byte, 0, 128)
	b = append(b, `{"c":"WSE","t":"rate_limit_warning","p":{"current_rate":`...)
	b = appendFloat(b, used)
	b = append(b, `,"limit":`...)
	b = appendFloat(b, limit)
	b = append(b, `,"remaining":`...)
	b = appendFloat(b, remaining)
	return append(b, `,"retry_after":1.0},"v":1}`...)
}

// Presence builds a presence message of type t (TypePresenceJoin,
// TypePresenceLeave or TypePresenceUpdate) for the subscribers of topic
// (PROTOCOL §7):
// {"c":"WSE","t":t,"p":{"topic":…,"user_id":…,"data":…},"v":1}.
// data is raw JSON; when it is empty or not valid JSON, {} is sent.
func Presence(t, topic, userID string, data []byte) []byte {
	if !json.Valid(data) {
		data = []byte("{}")
	}
	b := make([]byte, 0, 96+len(topic)+len(userID)+len(data))
	b = append(b, `{"c":"WSE","t":`...)
	b = AppendString(b, t)
	b = append(b, `,"p":{"topic":`...)
	b = AppendString(b, topic)
	b = append(b, `,"user_id":`...)
	b = AppendString(b, userID)
	b = append(b, `,"data":`...)
	b = append(b, data...)
	return append(b, `},"v":1}`...)
}
