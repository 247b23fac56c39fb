package ring

import (
	"fmt"
	"math/bits"
	"time"
)

// Defaults and limits applied by NewStore to a Config.
const (
	// DefaultBufferSize is the number of slots per topic when Config.BufferSize is 0.
	DefaultBufferSize = 256
	// MinBufferSize is the smallest number of slots per topic.
	MinBufferSize = 16
	// MaxBufferSize is the largest accepted Config.BufferSize.
	MaxBufferSize = 1 << 24
	// DefaultTTL is the idle time after which Sweep drops a buffer when Config.TTL is 0.
	DefaultTTL = 300 * time.Second
	// DefaultMaxMessages is the largest replay when Config.MaxMessages is 0.
	DefaultMaxMessages = 500
	// DefaultMemoryBudget is the byte budget over all topics when Config.MemoryBudget is 0.
	DefaultMemoryBudget int64 = 256 << 20
)

// initialSlots is the slot count a new buffer starts with; buffers double up
// to the configured size, so quiet topics stay small.
const initialSlots = MinBufferSize

// Config configures a Store. A zero field means its default.
type Config struct {
	// BufferSize is the number of messages kept per topic, rounded up to a
	// power of two, at least MinBufferSize and at most MaxBufferSize
	// (default DefaultBufferSize, 256).
	BufferSize int
	// TTL is how long a buffer may go without a write before Sweep drops it
	// (default DefaultTTL, 300 s).
	TTL time.Duration
	// MaxMessages is the largest number of messages one Recover replays; a
	// client missing more is not recovered (default DefaultMaxMessages, 500).
	MaxMessages int
	// MemoryBudget is the total size in bytes of the stored messages of all
	// topics; above it the least recently written buffers are dropped whole
	// (default DefaultMemoryBudget, 256 MiB).
	MemoryBudget int64
}

// withDefaults validates c and returns it with defaults applied and
// BufferSize rounded up to a power of two.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.BufferSize < 0 || c.BufferSize > MaxBufferSize:
		return c, fmt.Errorf("%w: BufferSize %d not in [0, %d]", ErrInvalidConfig, c.BufferSize, MaxBufferSize)
	case c.TTL < 0:
		return c, fmt.Errorf("%w: TTL %v is negative", ErrInvalidConfig, c.TTL)
	case c.MaxMessages < 0:
		return c, fmt.Errorf("%w: MaxMessages %d is negative", ErrInvalidConfig, c.MaxMessages)
	case c.MemoryBudget < 0:
		return c, fmt.Errorf("%w: MemoryBudget %d is negative", ErrInvalidConfig, c.MemoryBudget)
	}
	if c.BufferSize == 0 {
		c.BufferSize = DefaultBufferSize
	}
	if c.BufferSize < MinBufferSize {
		c.BufferSize = MinBufferSize
	}
	c.BufferSize = 1 << bits.Len(uint(c.BufferSize-1))
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.MaxMessages == 0 {
		c.MaxMessages = DefaultMaxMessages
	}
	if c.MemoryBudget == 0 {
		c.MemoryBudget = DefaultMemoryBudget
	}
	return c, nil
}
