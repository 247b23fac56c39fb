package protocol

import "errors"

// ErrTooLarge reports a message, or a decompressed message, over its size
// bound.
var ErrTooLarge = errors.New("protocol: message too large")

// ErrInvalid reports input that does not follow the wire contract: broken
// zlib data, a subscription request without a payload object, an event
// without a type, or a value that has no JSON form.
var ErrInvalid = errors.New("protocol: invalid message")
