package wseclient

import (
	"encoding/base64"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/wse-go/wse/internal/mpscan"
)

// maxMsgpackDepth is the deepest container nesting accepted in MessagePack
// (the top-level map is depth 1).
const maxMsgpackDepth = 64

// Reasons a MessagePack message is refused; Decode wraps them in
// ErrInvalidMessage.
var (
	errMsgpackTruncated = mpscan.ErrTruncated
	errMsgpackTrailing  = errors.New("data after the value")
	errMsgpackNotMap    = errors.New("not a map")
	errMsgpackDepth     = errors.New("nested too deep")
	errMsgpackKey       = mpscan.ErrKey
	errMsgpackFloat     = mpscan.ErrFloat
	errMsgpackExt       = mpscan.ErrExt
	errMsgpackByte      = mpscan.ErrReserved
)

// msgpackToJSON returns the JSON text of b, which must hold exactly one
// MessagePack map with string keys, nested at most maxMsgpackDepth deep.
// Key order is kept; bin values become base64 strings and timestamps
// ISO-8601 strings, as encoding/json would write them.
func msgpackToJSON(b []byte) ([]byte, error) {
	if len(b) == 0 || !(b[0]&0xf0 == 0x80 || b[0] == 0xde || b[0] == 0xdf) {
		return nil, errMsgpackNotMap
	}
	s := mpscan.New(b)
	out, err := appendValue(make([]byte, 0, len(b)+len(b)/2), s, 1)
	if err != nil {
		return nil, err
	}
	if !s.Done() {
		return nil, errMsgpackTrailing
	}
	return out, nil
}

// appendValue appends the JSON form of the next value, at container depth
// depth.
func appendValue(out []byte, s *mpscan.Scanner, depth int) ([]byte, error) {
	t, err := s.Next()
	if err != nil {
		return nil, err
	}
	switch t.Kind {
	case mpscan.Nil:
		return append(out, "null"...), nil
	case mpscan.Bool:
		return strconv.AppendBool(out, t.Bool), nil
	case mpscan.Uint:
		return strconv.AppendUint(out, t.Uint, 10), nil
	case mpscan.Int:
		return strconv.AppendInt(out, t.Int, 10), nil
	case mpscan.Float:
		return strconv.AppendFloat(out, t.Float, 'g', -1, t.Bits), nil
	case mpscan.Str:
		return appendJSONString(out, t.Bytes), nil
	case mpscan.Bin:
		out = append(out, '"')
		out = base64.StdEncoding.AppendEncode(out, t.Bytes)
		return append(out, '"'), nil
	case mpscan.Time:
		out = append(out, '"')
		out = t.Time.AppendFormat(out, time.RFC3339Nano)
		return append(out, '"'), nil
	}
	if depth > maxMsgpackDepth {
		return nil, errMsgpackDepth
	}
	if t.Kind == mpscan.Array {
		out = append(out, '[')
		for k := range t.Len {
			if k > 0 {
				out = append(out, ',')
			}
			if out, err = appendValue(out, s, depth+1); err != nil {
				return nil, err
			}
		}
		return append(out, ']'), nil
	}
	out = append(out, '{') // mpscan.Map
	for k := range t.Len {
		if k > 0 {
			out = append(out, ',')
		}
		key, err := s.NextKey()
		if err != nil {
			return nil, err
		}
		out = append(appendJSONString(out, key), ':')
		if out, err = appendValue(out, s, depth+1); err != nil {
			return nil, err
		}
	}
	return append(out, '}'), nil
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
