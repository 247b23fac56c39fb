package wsconn

import (
	"encoding/binary"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// minBufferCap is the smallest capacity given to a connection's partial frame
// or message buffer.
const minBufferCap = 256

// frameSink receives what a parser decodes.
type frameSink interface {
	// frame receives one complete message (op OpText or OpBinary, fragments
	// reassembled, text checked as UTF-8) or one control frame (OpClose,
	// OpPing, OpPong), unmasked. payload is valid only during the call. It
	// returns false to stop parsing: the parser then drops its buffered input.
	frame(op Opcode, payload []byte) bool
}

// frameHeader is a decoded client frame header.
type frameHeader struct {
	fin    bool
	op     Opcode
	length int64
	mask   [4]byte
}

// parser decodes the client side of a WebSocket stream (RFC 6455 section 5,
// as a server). It is used by one goroutine at a time. It holds memory only
// while a frame is incomplete (pending) or a fragmented message is being
// reassembled (msg), and never allocates more than the frame or message it
// has accepted, which is at most max bytes of payload.
type parser struct {
	max     int64  // largest frame payload and reassembled message
	pending []byte // bytes of the incomplete frame at the head of the stream; nil when none
	msg     []byte // payload of the fragmented message being reassembled
	msgOp   Opcode // opcode of that message (OpText or OpBinary); 0 when none
	// total, when set, is the engine-wide sum of the buffer capacities of
	// all parsers (Config.MaxTotalReadBytes), limit its bound (0 = none)
	// and held this parser's share of it.
	total *atomic.Int64
	limit int64
	held  int
}

// settle charges the capacities of pending and msg to the engine-wide
// total after they changed, and reports false when a growth took the
// total over the limit (the caller then fails the connection with
// CloseTryAgainLater; its reset releases the share).
func (p *parser) settle() bool {
	if p.total == nil {
		return true
	}
	now := cap(p.pending) + cap(p.msg)
	delta := now - p.held
	if delta == 0 {
		return true
	}
	p.held = now
	t := p.total.Add(int64(delta))
	return delta < 0 || p.limit <= 0 || t <= p.limit
}

// headerLen returns the header size announced by the second byte of a
// client frame.
func headerLen(b1 byte) int {
	switch b1 & 0x7F {
	case 126:
		return 2 + 2 + 4
	case 127:
		return 2 + 8 + 4
	}
	return 2 + 4
}

// parseHeader decodes the client frame header at the start of b. n is the
// header size, or 0 when b holds too few bytes yet. fail is a close code when
// the header violates RFC 6455; violations visible in the first two bytes are
// reported as soon as they arrive.
func parseHeader(b []byte) (h frameHeader, n int, fail int) {
	if len(b) < 2 {
		return h, 0, 0
	}
	b0, b1 := b[0], b[1]
	h.fin = b0&bitFin != 0
	h.op = Opcode(b0 & 0x0F)
	if b0&bitsRSV != 0 || b1&bitMask == 0 {
		return h, 0, CloseProtocolError
	}
	switch h.op {
	case OpContinuation, OpText, OpBinary:
	case OpClose, OpPing, OpPong:
		if !h.fin || b1&0x7F > maxControlPayload {
			return h, 0, CloseProtocolError
		}
	default:
		return h, 0, CloseProtocolError
	}
	n = headerLen(b1)
	if len(b) < n {
		return h, 0, 0
	}
	switch l := b1 & 0x7F; l {
	case 126:
		h.length = int64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		u := binary.BigEndian.Uint64(b[2:])
		if u>>63 != 0 {
			return h, 0, CloseProtocolError
		}
		h.length = int64(u)
	default:
		h.length = int64(l)
	}
	copy(h.mask[:], b[n-4:n])
	return h, n, 0
}

// check applies the rules that depend on the parser's state to a complete
// header and returns a close code, or 0 when the frame is acceptable.
func (p *parser) check(h frameHeader) int {
	switch h.op {
	case OpContinuation:
		if p.msgOp == 0 {
			return CloseProtocolError
		}
		if h.length > p.max-int64(len(p.msg)) {
			return CloseMessageTooBig
		}
	case OpText, OpBinary:
		if p.msgOp != 0 {
			return CloseProtocolError
		}
		if h.length > p.max {
			return CloseMessageTooBig
		}
	}
	return 0
}

// feed parses data, the next bytes of the stream, calling s for every
// complete message and control frame. data is unmasked in place. It returns 0,
// or the close code of the protocol violation found (the parser is then reset
// and must not be fed again). Bytes of an incomplete frame are copied and kept
// for the next call.
func (p *parser) feed(data []byte, s frameSink) int {
	if len(p.pending) > 0 {
		rest, fail, st := p.completePending(data, s)
		switch {
		case fail != 0 || st == pendingStop:
			p.reset()
			return fail
		case st == pendingIncomplete:
			return 0
		}
		data = rest
	}
	off := 0
	for off < len(data) {
		h, hn, fail := parseHeader(data[off:])
		if fail == 0 && hn > 0 {
			fail = p.check(h)
		}
		if fail != 0 {
			p.reset()
			return fail
		}
		if hn == 0 || int64(len(data)-off-hn) < h.length {
			break
		}
		total := hn + int(h.length)
		payload := data[off+hn : off+total]
		off += total
		fail, more := p.dispatch(h, payload, s)
		if fail != 0 || !more {
			p.reset()
			return fail
		}
	}
	if rest := data[off:]; len(rest) > 0 {
		c := minBufferCap
		if h, hn, _ := parseHeader(rest); hn > 0 {
			c = min(c, hn+int(h.length))
		}
		p.pending = append(make([]byte, 0, max(c, len(rest))), rest...)
		if !p.settle() {
			p.reset()
			return CloseTryAgainLater
		}
	}
	return 0
}

// completePending results besides a close code.
const (
	pendingDone       = iota // the frame was dispatched; parse the rest of data
	pendingIncomplete        // data ran out before the frame was complete
	pendingStop              // the sink said stop
)

// completePending moves bytes from the front of data into p.pending until the
// frame there is complete, then dispatches it and releases p.pending. It
// returns the unused rest of data, a close code on a violation, and a
// pending* status.
func (p *parser) completePending(data []byte, s frameSink) (rest []byte, fail int, status int) {
	for range 4 { // header start, full header, full frame, dispatch
		h, hn, fail := parseHeader(p.pending)
		if fail == 0 && hn > 0 {
			fail = p.check(h)
		}
		if fail != 0 {
			return nil, fail, pendingStop
		}
		want := 2
		switch {
		case hn > 0:
			want = hn + int(h.length)
		case len(p.pending) >= 2:
			want = headerLen(p.pending[1])
		}
		if hn > 0 && len(p.pending) >= want {
			frame := p.pending
			p.pending = nil
			fail, more := p.dispatch(h, frame[hn:want], s)
			p.settle() // releases the frame's buffer
			if fail != 0 || !more {
				return nil, fail, pendingStop
			}
			return data, 0, pendingDone
		}
		if len(data) == 0 {
			return nil, 0, pendingIncomplete
		}
		k := min(want-len(p.pending), len(data))
		if !p.appendPending(data[:k], want, hn > 0) {
			return nil, CloseTryAgainLater, pendingStop
		}
		data = data[k:]
	}
	// Unreachable: each round returns or brings pending up to want, and want
	// is final from the third round on.
	return nil, 0, pendingIncomplete
}

// appendPending appends b to p.pending, growing it by doubling but never past
// want, the frame's size, when that is known. It reports false when the
// growth took the engine-wide total over its limit.
func (p *parser) appendPending(b []byte, want int, known bool) bool {
	n := len(p.pending) + len(b)
	if n > cap(p.pending) {
		c := max(2*cap(p.pending), minBufferCap)
		if known {
			c = min(c, want)
		}
		grown := make([]byte, len(p.pending), max(c, n))
		copy(grown, p.pending)
		p.pending = grown
	}
	p.pending = append(p.pending, b...)
	return p.settle()
}

// appendMsg appends a fragment to the message being reassembled, growing the
// buffer by doubling but never past p.max. It reports false when the growth
// took the engine-wide total over its limit.
func (p *parser) appendMsg(b []byte) bool {
	n := len(p.msg) + len(b)
	if n > cap(p.msg) {
		c := min(max(2*cap(p.msg), minBufferCap), int(min(p.max, int64(maxInt))))
		grown := make([]byte, len(p.msg), max(c, n))
		copy(grown, p.msg)
		p.msg = grown
	}
	p.msg = append(p.msg, b...)
	return p.settle()
}

// maxInt is the largest int.
const maxInt = int(^uint(0) >> 1)

// dispatch unmasks one complete frame's payload and delivers it (or adds it
// to the message being reassembled).
func (p *parser) dispatch(h frameHeader, payload []byte, s frameSink) (fail int, more bool) {
	if len(payload) > 0 {
		ws.Cipher(payload, h.mask, 0)
	}
	switch h.op {
	case OpText, OpBinary:
		if !h.fin {
			p.msgOp = h.op
			if !p.appendMsg(payload) {
				return CloseTryAgainLater, false
			}
			return 0, true
		}
		if h.op == OpText && !utf8.Valid(payload) {
			return CloseInvalidPayload, false
		}
		return 0, s.frame(h.op, payload)
	case OpContinuation:
		if !p.appendMsg(payload) {
			return CloseTryAgainLater, false
		}
		if !h.fin {
			return 0, true
		}
		op, msg := p.msgOp, p.msg
		p.msgOp, p.msg = 0, nil
		defer p.settle() // releases the message's buffer after delivery
		if op == OpText && !utf8.Valid(msg) {
			return CloseInvalidPayload, false
		}
		return 0, s.frame(op, msg)
	default:
		return 0, s.frame(h.op, payload)
	}
}

// reset drops all buffered input and reassembly state.
func (p *parser) reset() {
	p.pending, p.msg, p.msgOp = nil, nil, 0
	p.settle()
}
