package topic

import "errors"

// ErrInvalid is returned by Validate for a topic that is empty, too long, not
// valid UTF-8 or holds a control character; the wrapping error says which.
var ErrInvalid = errors.New("topic: invalid topic")

// ErrUnsafeUserID is returned by ExpandGlob when the user id holds a glob
// character that would widen the expanded pattern.
var ErrUnsafeUserID = errors.New("topic: user id contains glob characters")
