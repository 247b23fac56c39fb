package wseclient

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// maxMsgpackDepth is the deepest container nesting accepted in MessagePack
// (the top-level map is depth 1).
const maxMsgpackDepth = 64

// msgpackTimestamp is the MessagePack extension type of timestamps.
const msgpackTimestamp = -1

// Reasons a MessagePack message is refused; Decode wraps them in
// ErrInvalidMessage.
var (
	errMsgpackTruncated = errors.New("truncated")
	errMsgpackTrailing  = errors.New("data after the value")
	errMsgpackNotMap    = errors.New("not a map")
	errMsgpackDepth     = errors.New("nested too deep")
	errMsgpackKey       = errors.New("map key is not a string")
	errMsgpackFloat     = errors.New("NaN or infinite number")
	errMsgpackExt       = errors.New("unsupported extension type")
	errMsgpackByte      = errors.New("reserved byte 0xc1")
)

// mpReader transcodes MessagePack into JSON text.
type mpReader struct {
	b []byte
	i int
}

// msgpackToJSON returns the JSON text of b, which must hold exactly one
// MessagePack map with string keys, nested at most maxMsgpackDepth deep.
// Key order is kept; bin values become base64 strings and timestamps
// ISO-8601 strings, as encoding/json would write them.
func msgpackToJSON(b []byte) ([]byte, error) {
	if len(b) == 0 || !(b[0]&0xf0 == 0x80 || b[0] == 0xde || b[0] == 0xdf) {
		return nil, errMsgpackNotMap
	}
	r := mpReader{b: b}
	out, err := r.value(make([]byte, 0, len(b)+len(b)/2), 1)
	if err != nil {
		return nil, err
	}
	if r.i != len(b) {
		return nil, errMsgpackTrailing
	}
	return out, nil
}

// take returns the next n bytes.
func (r *mpReader) take(n int) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.i {
		return nil, errMsgpackTruncated
	}
	p := r.b[r.i : r.i+n]
	r.i += n
	return p, nil
}

// uint reads a big-endian unsigned integer of size bytes (1, 2, 4 or 8).
func (r *mpReader) uint(size int) (uint64, error) {
	p, err := r.take(size)
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, c := range p {
		n = n<<8 | uint64(c)
	}
	return n, nil
}

// length reads a length of size bytes and checks that at least per·length
// bytes remain, so that a claimed length never drives work or allocation.
func (r *mpReader) length(size, per int) (int, error) {
	n, err := r.uint(size)
	if err != nil {
		return 0, err
	}
	if n > uint64(len(r.b)-r.i)/uint64(per) {
		return 0, errMsgpackTruncated
	}
	return int(n), nil
}

// value appends the JSON form of the next value, at container depth depth.
func (r *mpReader) value(out []byte, depth int) ([]byte, error) {
	p, err := r.take(1)
	if err != nil {
		return nil, err
	}
	c := p[0]
	switch {
	case c <= 0x7f:
		return strconv.AppendUint(out, uint64(c), 10), nil
	case c >= 0xe0:
		return strconv.AppendInt(out, int64(int8(c)), 10), nil
	case c&0xf0 == 0x80:
		return r.mapBody(out, int(c&0x0f), depth)
	case c&0xf0 == 0x90:
		return r.arrayBody(out, int(c&0x0f), depth)
	case c&0xe0 == 0xa0:
		return r.str(out, int(c&0x1f))
	}
	switch c {
	case 0xc0:
		return append(out, "null"...), nil
	case 0xc2:
		return append(out, "false"...), nil
	case 0xc3:
		return append(out, "true"...), nil
	case 0xc4, 0xc5, 0xc6: // bin 8/16/32
		n, err := r.length(1<<(c-0xc4), 1)
		if err != nil {
			return nil, err
		}
		data, _ := r.take(n)
		out = append(out, '"')
		out = base64.StdEncoding.AppendEncode(out, data)
		return append(out, '"'), nil
	case 0xc7, 0xc8, 0xc9: // ext 8/16/32
		n, err := r.length(1<<(c-0xc7), 1)
		if err != nil {
			return nil, err
		}
		return r.ext(out, n)
	case 0xca:
		n, err := r.uint(4)
		if err != nil {
			return nil, err
		}
		return appendFloat(out, float64(math.Float32frombits(uint32(n))), 32)
	case 0xcb:
		n, err := r.uint(8)
		if err != nil {
			return nil, err
		}
		return appendFloat(out, math.Float64frombits(n), 64)
	case 0xcc, 0xcd, 0xce, 0xcf: // uint 8/16/32/64
		n, err := r.uint(1 << (c - 0xcc))
		return strconv.AppendUint(out, n, 10), err
	case 0xd0, 0xd1, 0xd2, 0xd3: // int 8/16/32/64
		size := 1 << (c - 0xd0)
		n, err := r.uint(size)
		shift := 64 - 8*size
		return strconv.AppendInt(out, int64(n<<shift)>>shift, 10), err
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1/2/4/8/16
		return r.ext(out, 1<<(c-0xd4))
	case 0xd9, 0xda, 0xdb: // str 8/16/32
		n, err := r.length(1<<(c-0xd9), 1)
		if err != nil {
			return nil, err
		}
		return r.str(out, n)
	case 0xdc, 0xdd: // array 16/32
		n, err := r.length(2<<(c-0xdc), 1)
		if err != nil {
			return nil, err
		}
		return r.arrayBody(out, n, depth)
	case 0xde, 0xdf: // map 16/32
		n, err := r.length(2<<(c-0xde), 2)
		if err != nil {
			return nil, err
		}
		return r.mapBody(out, n, depth)
	}
	return nil, errMsgpackByte
}

// appendFloat appends f as a JSON number.
func appendFloat(out []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errMsgpackFloat
	}
	return strconv.AppendFloat(out, f, 'g', -1, bits), nil
}

// str appends the next n bytes as a JSON string.
func (r *mpReader) str(out []byte, n int) ([]byte, error) {
	p, err := r.take(n)
	if err != nil {
		return nil, err
	}
	return appendJSONString(out, p), nil
}

// mapBody appends n key/value pairs with string keys as a JSON object.
func (r *mpReader) mapBody(out []byte, n, depth int) ([]byte, error) {
	if depth > maxMsgpackDepth {
		return nil, errMsgpackDepth
	}
	if n > (len(r.b)-r.i)/2 {
		return nil, errMsgpackTruncated
	}
	out = append(out, '{')
	for k := range n {
		if k > 0 {
			out = append(out, ',')
		}
		if r.i >= len(r.b) {
			return nil, errMsgpackTruncated
		}
		if c := r.b[r.i]; c&0xe0 != 0xa0 && (c < 0xd9 || c > 0xdb) {
			return nil, errMsgpackKey
		}
		var err error
		if out, err = r.value(out, depth+1); err != nil {
			return nil, err
		}
		out = append(out, ':')
		if out, err = r.value(out, depth+1); err != nil {
			return nil, err
		}
	}
	return append(out, '}'), nil
}

// arrayBody appends n values as a JSON array.
func (r *mpReader) arrayBody(out []byte, n, depth int) ([]byte, error) {
	if depth > maxMsgpackDepth {
		return nil, errMsgpackDepth
	}
	if n > len(r.b)-r.i {
		return nil, errMsgpackTruncated
	}
	out = append(out, '[')
	for k := range n {
		if k > 0 {
			out = append(out, ',')
		}
		var err error
		if out, err = r.value(out, depth+1); err != nil {
			return nil, err
		}
	}
	return append(out, ']'), nil
}

// ext appends an extension of n data bytes; only timestamps of the years 0
// to 9999 are accepted, written as ISO-8601 UTC strings.
func (r *mpReader) ext(out []byte, n int) ([]byte, error) {
	p, err := r.take(1 + n)
	if err != nil {
		return nil, err
	}
	if int8(p[0]) != msgpackTimestamp {
		return nil, errMsgpackExt
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
		return nil, errMsgpackExt
	}
	t := time.Unix(sec, int64(nsec)).UTC()
	if nsec >= 1e9 || t.Year() < 0 || t.Year() > 9999 {
		return nil, errMsgpackExt
	}
	out = append(out, '"')
	out = t.AppendFormat(out, time.RFC3339Nano)
	return append(out, '"'), nil
}

// hexDigits are the digits of \u escapes.
const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string; bytes that are not UTF-8
// become U+FFFD, as encoding/json does.
func appendJSONString(out, s []byte) []byte {
	out = append(out, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				out = append(out, '\\', c)
			case c < 0x20:
				switch c {
				case '\n':
					out = append(out, '\\', 'n')
				case '\r':
					out = append(out, '\\', 'r')
				case '\t':
					out = append(out, '\\', 't')
				default:
					out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
				}
			default:
				out = append(out, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = append(out, `\ufffd`...)
		} else {
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return append(out, '"')
}
