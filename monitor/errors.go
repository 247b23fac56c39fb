package monitor

import "errors"

// ErrInvalidMetric reports an ExtraMetric that cannot be exported (empty
// name, nil Value, or a name the registry refuses).
var ErrInvalidMetric = errors.New("monitor: invalid metric")
