package ring

import "errors"

// ErrInvalidConfig is returned by NewStore when a Config field is out of range.
var ErrInvalidConfig = errors.New("ring: invalid config")
