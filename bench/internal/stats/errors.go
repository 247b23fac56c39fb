package stats

import "errors"

// ErrProcFormat reports a /proc file whose content is not what Linux writes.
var ErrProcFormat = errors.New("stats: unexpected /proc format")
