package wseclient

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultMaxMessageSize is the default limit of an inbound message, after
// decompression (Options.MaxMessageSize).
const DefaultMaxMessageSize = 16 << 20

// Message is one message from the server, decoded from a text frame (JSON,
// optionally behind a legacy "WSE", "S" or "U" prefix) or a binary frame
// (plain JSON, "C:" + zlib, "M:" + MessagePack).
//
// Payload and Raw share memory with the frame they were decoded from; the
// client reads every frame into new memory, so handlers may keep them.
type Message struct {
	// Type is "t": the message type. It is empty for a frame that is not a
	// WSE message (Raw then holds the frame as received) and for a JSON
	// object without a string "t".
	Type string
	// Category is "c": "U" (update), "S" (snapshot) or "WSE" (protocol).
	Category string
	// ID is "id", a UUIDv7 for messages built by the server.
	ID string
	// TS is "ts" parsed as ISO-8601; zero when absent or not a timestamp.
	TS time.Time
	// Seq is "seq", set by the server on send_event messages.
	Seq uint64
	// Topic is "tp", the topic of a topic publication (with recovery on
	// or off); empty on messages that were not published to a topic.
	Topic string
	// Epoch and Offset are the rest of the recovery stamp, "e" and "o", of
	// a publication on a server with recovery on; empty and 0 otherwise.
	Epoch  string
	Offset uint64
	// Payload is "p" as raw JSON; nil when absent.
	Payload json.RawMessage
	// Raw is the message as JSON text (decompressed, or converted from
	// MessagePack, with any legacy prefix removed), or the frame as received
	// when the frame is not a WSE message.
	Raw []byte
}

// stamped reports whether m carries a usable recovery stamp.
func (m *Message) stamped() bool { return m.Topic != "" && m.Epoch != "" && m.Offset > 0 }

// position returns the stamp of m as a Position.
func (m *Message) position() Position { return Position{Epoch: m.Epoch, Offset: m.Offset} }

// Position is a place in a topic's history: the epoch of the server's buffer
// and the offset of the last message (inclusive). The empty position
// ("", 0) is a topic that has no messages yet.
type Position struct {
	Epoch  string `json:"epoch"`
	Offset uint64 `json:"offset"`
}

// Decode decodes one frame's payload into a Message, with the default size
// limit for compressed messages. Errors wrap ErrNotWSE, ErrInvalidMessage or
// ErrTooLarge.
func Decode(data []byte) (Message, error) {
	return decode(data, DefaultMaxMessageSize)
}

// decode is Decode with limit bytes as the largest inflated message.
func decode(data []byte, limit int64) (Message, error) {
	switch {
	case bytes.HasPrefix(data, []byte("C:")):
		text, err := inflate(data[2:], limit)
		if err != nil {
			return Message{}, err
		}
		return decodeText(text)
	case bytes.HasPrefix(data, []byte("M:")):
		text, err := msgpackToJSON(data[2:])
		if err != nil {
			return Message{}, fmt.Errorf("%w: msgpack: %w", ErrInvalidMessage, err)
		}
		return decodeText(text)
	}
	return decodeText(data)
}

// decodeText decodes a JSON message with an optional legacy prefix.
func decodeText(b []byte) (Message, error) {
	switch {
	case bytes.HasPrefix(b, []byte("WSE{")):
		b = b[3:]
	case bytes.HasPrefix(b, []byte("S{")), bytes.HasPrefix(b, []byte("U{")):
		b = b[1:]
	}
	if i := skipSpace(b, 0); i == len(b) || b[i] != '{' {
		return Message{}, ErrNotWSE
	}
	var m Message
	if err := decodeJSON(b, &m); err != nil {
		return Message{}, err
	}
	return m, nil
}

// zlibReaders reuses zlib decompressors, which cost about 40 KiB each to
// allocate (see BenchmarkDecode100/zlib).
var zlibReaders sync.Pool

// inflate decompresses zlib data of at most limit bytes.
func inflate(data []byte, limit int64) ([]byte, error) {
	src := bytes.NewReader(data)
	zr, ok := zlibReaders.Get().(io.ReadCloser)
	var err error
	if ok {
		err = zr.(zlib.Resetter).Reset(src, nil)
	} else {
		zr, err = zlib.NewReader(src)
	}
	if err != nil {
		if ok {
			zlibReaders.Put(zr)
		}
		return nil, fmt.Errorf("%w: zlib: %w", ErrInvalidMessage, err)
	}
	defer zlibReaders.Put(zr)
	var out bytes.Buffer
	n, err := out.ReadFrom(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: zlib: %w", ErrInvalidMessage, err)
	}
	if n > limit {
		return nil, fmt.Errorf("%w: inflated size over %d bytes", ErrTooLarge, limit)
	}
	return out.Bytes(), nil
}

// decodeJSON fills m from the JSON object b. It validates b, then walks the
// top-level members once; Payload and Raw alias b.
func decodeJSON(b []byte, m *Message) error {
	if !json.Valid(b) {
		return fmt.Errorf("%w: malformed JSON", ErrInvalidMessage)
	}
	m.Raw = b
	i := skipSpace(b, 0) + 1 // after '{', which decodeText checked
	for {
		i = skipSpace(b, i)
		if b[i] == '}' {
			return nil
		}
		keyEnd := skipValue(b, i)
		key := b[i:keyEnd]
		i = skipSpace(b, keyEnd) + 1 // after ':'
		i = skipSpace(b, i)
		end := skipValue(b, i)
		m.set(key, b[i:end])
		i = skipSpace(b, end)
		if b[i] == ',' {
			i++
		}
	}
}

// set assigns the value of the member named by the quoted JSON key.
func (m *Message) set(key, value []byte) {
	if bytes.IndexByte(key, '\\') >= 0 {
		key = []byte(jsonString(key))
	} else {
		key = key[1 : len(key)-1]
	}
	switch string(key) {
	case "t":
		m.Type = jsonString(value)
	case "c":
		m.Category = jsonString(value)
	case "id":
		m.ID = jsonString(value)
	case "ts":
		m.TS = time.Time{}
		if s := jsonString(value); s != "" {
			m.TS, _ = time.Parse(time.RFC3339Nano, s)
		}
	case "seq":
		m.Seq, _ = parseUint(value)
	case "tp":
		m.Topic = jsonString(value)
	case "e":
		m.Epoch = jsonString(value)
	case "o":
		m.Offset, _ = parseUint(value)
	case "p":
		m.Payload = value
	}
}

// jsonString returns the string a valid JSON value denotes, or "" when it is
// not a string.
func jsonString(v []byte) string {
	if len(v) < 2 || v[0] != '"' {
		return ""
	}
	if s := v[1 : len(v)-1]; bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return string(s)
	}
	var s string
	_ = json.Unmarshal(v, &s) // v is a valid JSON string; bad UTF-8 becomes U+FFFD
	return s
}

// parseUint parses a JSON number that is a non-negative integer of 64 bits.
func parseUint(v []byte) (uint64, bool) {
	if len(v) == 0 || len(v) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// skipSpace returns the index of the first non-whitespace byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value that starts at i. The
// input must be valid JSON.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// skipString returns the index just past the JSON string that starts at i.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}
