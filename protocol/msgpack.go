package protocol

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// maxMsgpackDepth is the deepest container nesting accepted in inbound
// MessagePack (the top-level map is depth 1).
const maxMsgpackDepth = 64

// msgpackTimestamp is the MessagePack extension type of timestamps.
const msgpackTimestamp = -1

// mpDecoder decodes inbound MessagePack into the values encoding/json
// produces for the same message (float64 numbers, string keys), plus
// []byte for bin and time.Time for timestamps. It copies what it keeps, so
// results never alias the input.
type mpDecoder struct {
	b []byte
	i int
}

// decodeMsgpackObject decodes b, which must hold exactly one MessagePack map
// with string keys, at most maxMsgpackDepth deep and free of NaN,
// infinities and unknown extension types.
func decodeMsgpackObject(b []byte) (map[string]any, bool) {
	d := mpDecoder{b: b}
	v, ok := d.value(1)
	if !ok || d.i != len(b) {
		return nil, false
	}
	m, ok := v.(map[string]any)
	return m, ok
}

// take returns the next n bytes.
func (d *mpDecoder) take(n int) ([]byte, bool) {
	if n < 0 || n > len(d.b)-d.i {
		return nil, false
	}
	p := d.b[d.i : d.i+n]
	d.i += n
	return p, true
}

// uint reads a big-endian unsigned integer of size bytes (1, 2, 4 or 8).
func (d *mpDecoder) uint(size int) (uint64, bool) {
	p, ok := d.take(size)
	if !ok {
		return 0, false
	}
	var n uint64
	for _, c := range p {
		n = n<<8 | uint64(c)
	}
	return n, true
}

// length reads a length of size bytes and checks that at least per*length
// bytes remain, so that claimed lengths never drive allocation.
func (d *mpDecoder) length(size, per int) (int, bool) {
	n, ok := d.uint(size)
	if !ok || n > uint64(len(d.b)-d.i)/uint64(per) {
		return 0, false
	}
	return int(n), true
}

// value decodes one value at container depth depth.
func (d *mpDecoder) value(depth int) (any, bool) {
	p, ok := d.take(1)
	if !ok {
		return nil, false
	}
	c := p[0]
	switch {
	case c <= 0x7f:
		return float64(c), true
	case c >= 0xe0:
		return float64(int8(c)), true
	case c&0xf0 == 0x80:
		return d.mapBody(int(c&0x0f), depth)
	case c&0xf0 == 0x90:
		return d.arrayBody(int(c&0x0f), depth)
	case c&0xe0 == 0xa0:
		return d.str(int(c & 0x1f))
	}
	switch c {
	case 0xc0:
		return nil, true
	case 0xc2:
		return false, true
	case 0xc3:
		return true, true
	case 0xc4, 0xc5, 0xc6: // bin 8/16/32
		n, ok := d.length(1<<(c-0xc4), 1)
		if !ok {
			return nil, false
		}
		p, _ := d.take(n)
		return bytes.Clone(p), true
	case 0xc7, 0xc8, 0xc9: // ext 8/16/32
		n, ok := d.length(1<<(c-0xc7), 1)
		if !ok {
			return nil, false
		}
		return d.ext(n)
	case 0xca:
		n, ok := d.uint(4)
		return finite(float64(math.Float32frombits(uint32(n))), ok)
	case 0xcb:
		n, ok := d.uint(8)
		return finite(math.Float64frombits(n), ok)
	case 0xcc, 0xcd, 0xce, 0xcf: // uint 8/16/32/64
		n, ok := d.uint(1 << (c - 0xcc))
		return float64(n), ok
	case 0xd0, 0xd1, 0xd2, 0xd3: // int 8/16/32/64
		size := 1 << (c - 0xd0)
		n, ok := d.uint(size)
		shift := 64 - 8*size
		return float64(int64(n<<shift) >> shift), ok
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1/2/4/8/16
		return d.ext(1 << (c - 0xd4))
	case 0xd9, 0xda, 0xdb: // str 8/16/32
		n, ok := d.length(1<<(c-0xd9), 1)
		if !ok {
			return nil, false
		}
		return d.str(n)
	case 0xdc, 0xdd: // array 16/32
		n, ok := d.length(2<<(c-0xdc), 1)
		if !ok {
			return nil, false
		}
		return d.arrayBody(n, depth)
	case 0xde, 0xdf: // map 16/32
		n, ok := d.length(2<<(c-0xde), 2)
		if !ok {
			return nil, false
		}
		return d.mapBody(n, depth)
	}
	return nil, false // 0xc1 is never used
}

// finite passes f on unless it has no JSON form.
func finite(f float64, ok bool) (any, bool) {
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false
	}
	return f, true
}

// str reads a string of n bytes.
func (d *mpDecoder) str(n int) (any, bool) {
	p, ok := d.take(n)
	if !ok {
		return nil, false
	}
	return string(p), true
}

// mapBody reads n key/value pairs with string keys.
func (d *mpDecoder) mapBody(n, depth int) (any, bool) {
	if depth > maxMsgpackDepth || n > (len(d.b)-d.i)/2 {
		return nil, false
	}
	m := make(map[string]any, n)
	for range n {
		k, ok := d.value(depth + 1)
		key, isStr := k.(string)
		if !ok || !isStr {
			return nil, false
		}
		v, ok := d.value(depth + 1)
		if !ok {
			return nil, false
		}
		m[key] = v
	}
	return m, true
}

// arrayBody reads n values.
func (d *mpDecoder) arrayBody(n, depth int) (any, bool) {
	if depth > maxMsgpackDepth || n > len(d.b)-d.i {
		return nil, false
	}
	a := make([]any, n)
	for i := range a {
		v, ok := d.value(depth + 1)
		if !ok {
			return nil, false
		}
		a[i] = v
	}
	return a, true
}

// ext reads an extension of n data bytes; only timestamps of years 0 to
// 9999 are accepted, the range encoding/json can marshal.
func (d *mpDecoder) ext(n int) (any, bool) {
	p, ok := d.take(1 + n)
	if !ok || int8(p[0]) != msgpackTimestamp {
		return nil, false
	}
	p = p[1:]
	var sec int64
	var nsec uint32
	switch n {
	case 4:
		sec = int64(binary.BigEndian.Uint32(p))
	case 8:
		v := binary.BigEndian.Uint64(p)
		nsec, sec = uint32(v>>34), int64(v&(1<<34-1))
	case 12:
		nsec, sec = binary.BigEndian.Uint32(p), int64(binary.BigEndian.Uint64(p[4:]))
	default:
		return nil, false
	}
	t := time.Unix(sec, int64(nsec)).UTC()
	if nsec >= 1e9 || t.Year() < 0 || t.Year() > 9999 { // beyond what JSON can carry
		return nil, false
	}
	return t, true
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
