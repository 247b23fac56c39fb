package mpscan

import "errors"

// Reasons a token cannot be read.
var (
	// ErrTruncated reports input that ends inside a token, or a length
	// larger than the bytes left can hold.
	ErrTruncated = errors.New("mpscan: truncated")
	// ErrFloat reports a NaN or infinite float.
	ErrFloat = errors.New("mpscan: NaN or infinite number")
	// ErrExt reports an extension that is not a timestamp of the years 0
	// to 9999.
	ErrExt = errors.New("mpscan: unsupported extension type")
	// ErrReserved reports the reserved byte 0xc1.
	ErrReserved = errors.New("mpscan: reserved byte 0xc1")
	// ErrKey reports a map key that is not a string (NextKey).
	ErrKey = errors.New("mpscan: map key is not a string")
)
