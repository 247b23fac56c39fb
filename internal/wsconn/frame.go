package wsconn

import (
	"encoding/binary"
	"unicode/utf8"
)

// Opcode is a WebSocket frame opcode (RFC 6455 section 5.2). Wire values:
// never change them.
type Opcode byte

// Opcodes of RFC 6455 section 11.8.
const (
	// OpContinuation continues a fragmented message.
	OpContinuation Opcode = 0x0
	// OpText is a UTF-8 text message.
	OpText Opcode = 0x1
	// OpBinary is a binary message.
	OpBinary Opcode = 0x2
	// OpClose is a close control frame.
	OpClose Opcode = 0x8
	// OpPing is a ping control frame.
	OpPing Opcode = 0x9
	// OpPong is a pong control frame.
	OpPong Opcode = 0xA
)

// Close status codes of RFC 6455 section 7.4.1 used by this package. Wire
// values: never change them.
const (
	// CloseNormal is a normal closure.
	CloseNormal = 1000
	// CloseGoingAway means the endpoint is going away (server shutdown).
	CloseGoingAway = 1001
	// CloseProtocolError reports a protocol violation by the peer.
	CloseProtocolError = 1002
	// CloseUnsupportedData reports a data type the endpoint cannot accept.
	CloseUnsupportedData = 1003
	// CloseNoStatus is reported when the peer's close frame had no code. It is
	// never sent.
	CloseNoStatus = 1005
	// CloseAbnormal is reported when the connection dropped without a close
	// frame. It is never sent.
	CloseAbnormal = 1006
	// CloseInvalidPayload reports a text message that is not valid UTF-8.
	CloseInvalidPayload = 1007
	// ClosePolicyViolation reports a message that violates policy.
	ClosePolicyViolation = 1008
	// CloseMessageTooBig reports a frame or message over MaxMessageSize.
	CloseMessageTooBig = 1009
	// CloseInternalError reports an unexpected server condition.
	CloseInternalError = 1011
	// CloseTryAgainLater asks the client to reconnect later.
	CloseTryAgainLater = 1013
)

// Frame header bits and sizes.
const (
	bitFin  = 0x80
	bitsRSV = 0x70
	bitMask = 0x80

	maxControlPayload = 125
	maxHeaderSize     = 14 // 2 + 8 (extended length) + 4 (mask)
	maxCloseReason    = maxControlPayload - 2
)

// FrameSize returns the size of the frame BuildFrame builds for a payload of n
// bytes.
func FrameSize(n int) int {
	return headerSize(n) + n
}

// headerSize is the size of an unmasked server frame header for a payload of
// n bytes.
func headerSize(n int) int {
	switch {
	case n < 126:
		return 2
	case n <= 0xFFFF:
		return 4
	default:
		return 10
	}
}

// BuildFrame returns one unmasked final frame with opcode op carrying payload:
// header and payload in one new slice, ready for Conn.Enqueue.
func BuildFrame(op Opcode, payload []byte) []byte {
	return AppendFrame(make([]byte, 0, FrameSize(len(payload))), op, payload)
}

// AppendFrame appends one unmasked final frame with opcode op carrying payload
// to dst and returns the extended slice.
func AppendFrame(dst []byte, op Opcode, payload []byte) []byte {
	return append(AppendHeader(dst, op, len(payload)), payload...)
}

// AppendHeader appends the header of an unmasked final frame with opcode op
// and an n-byte payload to dst; the caller appends exactly n payload bytes.
func AppendHeader(dst []byte, op Opcode, n int) []byte {
	b0 := bitFin | byte(op&0x0F)
	switch {
	case n < 126:
		dst = append(dst, b0, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, b0, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, b0, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return dst
}

// FramePayload returns the payload of a frame built by BuildFrame or
// AppendFrame (unmasked, final), sharing its memory.
func FramePayload(frame []byte) []byte {
	switch {
	case len(frame) < 2:
		return nil
	case frame[1]&0x7F == 126:
		return frame[4:]
	case frame[1]&0x7F == 127:
		return frame[10:]
	default:
		return frame[2:]
	}
}

// CloseFrame returns a close frame with status code and reason. A code <= 0 or
// CloseNoStatus gives an empty close payload; a reason longer than 123 bytes is
// cut at a UTF-8 character boundary so the payload fits a control frame.
func CloseFrame(code int, reason string) []byte {
	if code <= 0 || code == CloseNoStatus || code > 0xFFFF {
		return []byte{bitFin | byte(OpClose), 0}
	}
	if len(reason) > maxCloseReason {
		cut := maxCloseReason
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	b := make([]byte, 0, 4+len(reason))
	b = append(b, bitFin|byte(OpClose), byte(2+len(reason)), byte(code>>8), byte(code))
	return append(b, reason...)
}

// validPeerCloseCode reports whether a peer may send code in a close frame
// (RFC 6455 section 7.4 and the IANA registry).
func validPeerCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// parseClosePayload decodes a received close frame payload. fail is 0 when it
// is valid, otherwise the close code to answer with.
func parseClosePayload(p []byte) (code int, reason string, fail int) {
	switch {
	case len(p) == 0:
		return CloseNoStatus, "", 0
	case len(p) == 1:
		return 0, "", CloseProtocolError
	}
	code = int(binary.BigEndian.Uint16(p))
	if !validPeerCloseCode(code) {
		return 0, "", CloseProtocolError
	}
	if !utf8.Valid(p[2:]) {
		return 0, "", CloseInvalidPayload
	}
	return code, string(p[2:]), 0
}
