package wsframe

import "encoding/binary"

// Opcode is a frame opcode (RFC 6455 §5.2).
type Opcode byte

// Opcodes of RFC 6455.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// MaxHeaderLen is the longest frame header: 2 bytes, an 8-byte length and a
// 4-byte mask key.
const MaxHeaderLen = 14

// IsControl reports whether op is a control opcode (close, ping, pong).
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// Header is a parsed frame header.
type Header struct {
	// Fin is set on the last frame of a message.
	Fin bool
	// Op is the frame's opcode.
	Op Opcode
	// Masked is set when the payload is masked with Mask (client frames).
	Masked bool
	// Mask is the masking key; meaningful only when Masked is set.
	Mask [4]byte
	// Len is the payload length in bytes.
	Len int64
	// Size is the header's own length in bytes (2 to 14).
	Size int
}

// ParseHeader parses the frame header at the start of b. It returns ErrShort
// when b holds only part of the header and ErrProtocol for a header RFC 6455
// forbids. The payload is not required to be in b.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < 2 {
		return Header{}, ErrShort
	}
	var h Header
	b0, b1 := b[0], b[1]
	if b0&0x70 != 0 {
		return Header{}, ErrProtocol
	}
	h.Fin = b0&0x80 != 0
	h.Op = Opcode(b0 & 0x0F)
	switch h.Op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
	default:
		return Header{}, ErrProtocol
	}
	h.Masked = b1&0x80 != 0
	n := int64(b1 & 0x7F)
	h.Size = 2
	switch n {
	case 126:
		if len(b) < 4 {
			return Header{}, ErrShort
		}
		n = int64(binary.BigEndian.Uint16(b[2:4]))
		if n < 126 {
			return Header{}, ErrProtocol
		}
		h.Size = 4
	case 127:
		if len(b) < 10 {
			return Header{}, ErrShort
		}
		u := binary.BigEndian.Uint64(b[2:10])
		if u>>63 != 0 || u <= 0xFFFF {
			return Header{}, ErrProtocol
		}
		n = int64(u)
		h.Size = 10
	}
	h.Len = n
	if h.Op.IsControl() && (!h.Fin || n > 125) {
		return Header{}, ErrProtocol
	}
	if h.Masked {
		if len(b) < h.Size+4 {
			return Header{}, ErrShort
		}
		copy(h.Mask[:], b[h.Size:h.Size+4])
		h.Size += 4
	}
	return h, nil
}

// AppendFrame appends one final (FIN) frame with opcode op and the given
// payload to dst and returns the extended slice. A non-nil mask makes it a
// client frame: the mask bit is set and the payload is masked on the way in.
func AppendFrame(dst []byte, op Opcode, mask *[4]byte, payload []byte) []byte {
	b1 := byte(0)
	if mask != nil {
		b1 = 0x80
	}
	n := len(payload)
	dst = append(dst, 0x80|byte(op))
	switch {
	case n < 126:
		dst = append(dst, b1|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, b1|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if mask == nil {
		return append(dst, payload...)
	}
	dst = append(dst, mask[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	Mask(dst[start:], *mask, 0)
	return dst
}

// Mask XORs p with key in place, as if p started at byte offset pos of the
// payload; applying it twice restores p.
func Mask(p []byte, key [4]byte, pos int) {
	for i := range p {
		p[i] ^= key[(pos+i)&3]
	}
}
