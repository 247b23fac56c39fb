package wsframe

import "errors"

// ErrShort reports that the buffer ends before the frame header does; read
// more bytes and parse again.
var ErrShort = errors.New("wsframe: incomplete header")

// ErrProtocol reports a header that violates RFC 6455 (reserved bits set,
// unknown opcode, oversized or fragmented control frame, non-minimal length
// encoding or a length over 2^63-1).
var ErrProtocol = errors.New("wsframe: protocol violation")
