package backoff

import (
	"math"
	"math/rand/v2"
	"time"
)

// Defaults applied by Policy methods to zero fields.
const (
	// DefaultBase is the delay before the first retry.
	DefaultBase = time.Second
	// DefaultFactor multiplies the delay after every retry.
	DefaultFactor = 1.5
	// DefaultMax caps every delay.
	DefaultMax = 30 * time.Second
	// DefaultJitter is the largest fraction a delay is shortened by.
	DefaultJitter = 0.2
)

// Policy is an exponential backoff schedule. A zero field means the default
// named in its comment; a Policy is used by value.
type Policy struct {
	// Base is the delay before the first retry (default 1s).
	Base time.Duration
	// Factor multiplies the delay after every retry; values below 1 are
	// taken as 1 (default 1.5).
	Factor float64
	// Max caps every delay (default 30s).
	Max time.Duration
	// Jitter is the largest fraction, in [0, 1], a delay is shortened by at
	// random (default 0.2; a negative value means no jitter).
	Jitter float64
}

// withDefaults returns p with its zero fields set to the defaults and its
// fields clamped to their ranges.
func (p Policy) withDefaults() Policy {
	if p.Base <= 0 {
		p.Base = DefaultBase
	}
	switch {
	case p.Factor == 0:
		p.Factor = DefaultFactor
	case p.Factor < 1 || math.IsNaN(p.Factor):
		p.Factor = 1
	}
	if p.Max <= 0 {
		p.Max = DefaultMax
	}
	p.Base = min(p.Base, p.Max)
	switch {
	case p.Jitter == 0:
		p.Jitter = DefaultJitter
	case p.Jitter < 0 || math.IsNaN(p.Jitter):
		p.Jitter = 0
	case p.Jitter > 1:
		p.Jitter = 1
	}
	return p
}

// Range returns the shortest and the longest delay Delay may return before
// retry attempt (0 for the first retry; a negative attempt counts as 0).
func (p Policy) Range(attempt int) (lo, hi time.Duration) {
	p = p.withDefaults()
	hi = p.ceiling(attempt)
	return hi - time.Duration(p.Jitter*float64(hi)), hi
}

// Delay returns a random delay before retry attempt (0 for the first retry),
// uniformly distributed over Range(attempt).
func (p Policy) Delay(attempt int) time.Duration {
	p = p.withDefaults()
	hi := p.ceiling(attempt)
	return hi - time.Duration(p.Jitter*rand.Float64()*float64(hi))
}

// ceiling returns min(Base·Factor^attempt, Max) of a policy with defaults
// applied.
func (p Policy) ceiling(attempt int) time.Duration {
	d := float64(p.Base) * math.Pow(p.Factor, float64(max(attempt, 0)))
	if d >= float64(p.Max) || math.IsNaN(d) { // also catches +Inf
		return p.Max
	}
	return time.Duration(d)
}
