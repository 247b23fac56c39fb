package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/wse-go/wse/internal/mpscan"
)

// maxMsgpackDepth is the deepest container nesting accepted in inbound
// MessagePack (the top-level map is depth 1).
const maxMsgpackDepth = 64

// decodeMsgpackObject decodes b, which must hold exactly one MessagePack map
// with string keys, at most maxMsgpackDepth deep and free of NaN,
// infinities and unknown extension types, into the values encoding/json
// produces for the same message (float64 numbers, string keys), plus
// []byte for bin and time.Time for timestamps. It copies what it keeps, so
// results never alias b.
func decodeMsgpackObject(b []byte) (map[string]any, bool) {
	s := mpscan.New(b)
	v, ok := decodeValue(s, 1)
	if !ok || !s.Done() {
		return nil, false
	}
	m, ok := v.(map[string]any)
	return m, ok
}

// decodeValue decodes the next value, at container depth depth.
func decodeValue(s *mpscan.Scanner, depth int) (any, bool) {
	t, err := s.Next()
	if err != nil {
		return nil, false
	}
	switch t.Kind {
	case mpscan.Nil:
		return nil, true
	case mpscan.Bool:
		return t.Bool, true
	case mpscan.Uint:
		return float64(t.Uint), true
	case mpscan.Int:
		return float64(t.Int), true
	case mpscan.Float:
		return t.Float, true
	case mpscan.Str:
		return string(t.Bytes), true
	case mpscan.Bin:
		return bytes.Clone(t.Bytes), true
	case mpscan.Time:
		return t.Time, true
	}
	if depth > maxMsgpackDepth {
		return nil, false
	}
	if t.Kind == mpscan.Array {
		a := make([]any, t.Len)
		for i := range a {
			var ok bool
			if a[i], ok = decodeValue(s, depth+1); !ok {
				return nil, false
			}
		}
		return a, true
	}
	m := make(map[string]any, t.Len) // mpscan.Map
	for range t.Len {
		key, err := s.NextKey()
		if err != nil {
			return nil, false
		}
		v, ok := decodeValue(s, depth+1)
		if !ok {
			return nil, false
		}
		m[string(key)] = v
	}
	return m, true
}

// EncodeMsgpack returns "M:" followed by the MessagePack encoding of a JSON
// message (an envelope already built for a text or plain binary frame), the
// send_event form for format=msgpack connections. Key order is kept;
// integers that fit 64 bits are encoded as integers, other numbers as
// float64. Input that is not exactly one valid JSON value is an error
// wrapping ErrInvalid.
func EncodeMsgpack(jsonEnvelope []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(jsonEnvelope))
	dec.UseNumber()
	v, err := readJSON(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrInvalid)
	}
	var buf bytes.Buffer
	buf.Grow(len(jsonEnvelope) + 2)
	buf.WriteString("M:")
	if err := writeMsgpack(msgpack.NewEncoder(&buf), v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return buf.Bytes(), nil
}

// jsonMember is one key/value pair of a jsonObject.
type jsonMember struct {
	key   string
	value any
}

// jsonObject is a JSON object with its key order kept.
type jsonObject []jsonMember

// errTooDeep reports JSON nested deeper than maxScanDepth.
var errTooDeep = errors.New("nesting too deep")

// readJSON reads one JSON value from dec: a jsonObject, []any, string,
// json.Number, bool or nil.
func readJSON(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= maxScanDepth {
		return nil, errTooDeep
	}
	var obj jsonObject
	var arr []any
	for dec.More() {
		var key string
		if delim == '{' {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ = k.(string) // dec.Token only returns string keys
		}
		v, err := readJSON(dec, depth+1)
		if err != nil {
			return nil, err
		}
		if delim == '{' {
			obj = append(obj, jsonMember{key, v})
		} else {
			arr = append(arr, v)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, err
	}
	if delim == '{' {
		return obj, nil
	}
	return arr, nil
}

// writeMsgpack encodes a value returned by readJSON.
func writeMsgpack(enc *msgpack.Encoder, v any) error {
	switch v := v.(type) {
	case jsonObject:
		if err := enc.EncodeMapLen(len(v)); err != nil {
			return err
		}
		for _, m := range v {
			if err := enc.EncodeString(m.key); err != nil {
				return err
			}
			if err := writeMsgpack(enc, m.value); err != nil {
				return err
			}
		}
		return nil
	case []any:
		if err := enc.EncodeArrayLen(len(v)); err != nil {
			return err
		}
		for _, e := range v {
			if err := writeMsgpack(enc, e); err != nil {
				return err
			}
		}
		return nil
	case string:
		return enc.EncodeString(v)
	case json.Number:
		return encodeNumber(enc, v)
	case bool:
		return enc.EncodeBool(v)
	default: // nil
		return enc.EncodeNil()
	}
}

// encodeNumber writes n as an integer when it is one that fits 64 bits,
// else as float64.
func encodeNumber(enc *msgpack.Encoder, n json.Number) error {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return enc.EncodeInt(i)
	}
	if u, err := strconv.ParseUint(string(n), 10, 64); err == nil {
		return enc.EncodeUint(u)
	}
	f, err := n.Float64()
	if err != nil {
		return err
	}
	return enc.EncodeFloat64(f)
}
