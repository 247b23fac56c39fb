package bridge

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/protocol"
)

// BatchHeaderSize is the size of the header of an encoded batch.
const BatchHeaderSize = 12

// EncodeBatch encodes drained events as one buffer that the Python side
// turns into a list of (event_type, conn_id, data) tuples with a single
// json.loads:
//
//	u32 LE  length of the JSON text
//	u32 LE  number of events
//	u32 LE  number of "bin" events
//	JSON    a flat array [type, conn_id, data, type, conn_id, data, …]
//	bytes   the payloads of the "bin" events, one after the other
//
// conn_id is null for presence events; data is the seed's payload of each
// event type (cookies, user id, parsed message, text, null, presence dict).
// A "bin" event's data is [offset, length] of its bytes after the JSON.
// buf is reused when large enough.
func EncodeBatch(buf []byte, events []wse.Event) []byte {
	b := append(buf[:0], make([]byte, BatchHeaderSize)...)
	b = append(b, '[')
	var blobs []byte
	nbin := 0
	for i := range events {
		ev := &events[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = protocol.AppendString(b, string(ev.Type))
		b = append(b, ',')
		if ev.Type == wse.EventPresenceJoin || ev.Type == wse.EventPresenceLeave || ev.ConnID == "" {
			b = append(b, "null"...)
		} else {
			b = protocol.AppendString(b, ev.ConnID)
		}
		b = append(b, ',')
		switch ev.Type {
		case wse.EventConnect:
			b = protocol.AppendString(b, ev.Cookies)
		case wse.EventAuthConnect:
			b = protocol.AppendString(b, ev.UserID)
		case wse.EventMessage:
			b = appendValue(b, ev.Message)
		case wse.EventRaw:
			b = protocol.AppendString(b, ev.Text)
		case wse.EventBinary:
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(len(blobs)), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(len(ev.Data)), 10)
			b = append(b, ']')
			blobs = append(blobs, ev.Data...)
			nbin++
		case wse.EventPresenceJoin, wse.EventPresenceLeave:
			b = appendPresence(b, ev.Presence)
		default: // disconnect
			b = append(b, "null"...)
		}
	}
	b = append(b, ']')
	binary.LittleEndian.PutUint32(b[0:], uint32(len(b)-BatchHeaderSize))
	binary.LittleEndian.PutUint32(b[4:], uint32(len(events)))
	binary.LittleEndian.PutUint32(b[8:], uint32(nbin))
	return append(b, blobs...)
}

func appendPresence(b []byte, p *wse.PresenceChange) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"topic":`...)
	b = protocol.AppendString(b, p.Topic)
	b = append(b, `,"user_id":`...)
	b = protocol.AppendString(b, p.UserID)
	b = append(b, `,"data":`...)
	if len(p.Data) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, p.Data...)
	}
	return append(b, '}')
}

// appendValue appends v, a value decoded from a client message, as JSON.
// Object keys come out sorted, as the original's dicts do. Numbers that
// are integers are written without a fraction so that Python reads them as
// int. Types a decoder of JSON or MessagePack does not produce go through
// encoding/json.
func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return protocol.AppendString(b, x)
	case float64:
		return appendFloat(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = protocol.AppendString(b, k)
			b = append(b, ':')
			b = appendValue(b, x[k])
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, e)
		}
		return append(b, ']')
	case int64:
		return strconv.AppendInt(b, x, 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case time.Time:
		return protocol.AppendString(b, x.UTC().Format(time.RFC3339Nano))
	}
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

// appendFloat writes f as encoding/json does; NaN and infinities, which
// no JSON decoder produces, become null.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}
