package wsconn

import (
	"fmt"
	"runtime"
	"time"
)

// Defaults applied by NewEngine to zero Config fields.
const (
	// DefaultMaxMessageSize is the default Config.MaxMessageSize (1 MiB).
	DefaultMaxMessageSize = 1 << 20
	// DefaultMaxQueueBytes is the default Config.MaxQueueBytes (16 MiB).
	DefaultMaxQueueBytes = 16 << 20
	// DefaultPollers is the default Config.Pollers.
	DefaultPollers = 1
	// DefaultCloseTimeout is the default Config.CloseTimeout.
	DefaultCloseTimeout = 3 * time.Second
	// DefaultReadBufferSize is the default Config.ReadBufferSize (64 KiB).
	DefaultReadBufferSize = 64 << 10
)

// Upper bounds accepted by NewEngine.
const (
	// MaxPollers is the largest accepted Config.Pollers.
	MaxPollers = 256
	// MaxFlushers is the largest accepted Config.Flushers.
	MaxFlushers = 1024
	// MaxWriteDelay is the largest accepted Config.WriteDelay.
	MaxWriteDelay = time.Second
)

// Config configures an Engine. A zero field means its default.
type Config struct {
	// MaxMessageSize is the largest accepted frame payload and reassembled
	// message, in bytes; a larger one closes the connection with 1009 as soon
	// as its header arrives. Default DefaultMaxMessageSize.
	MaxMessageSize int64
	// MaxQueueBytes bounds each connection's pending output in bytes.
	// Default DefaultMaxQueueBytes.
	MaxQueueBytes int
	// MaxTotalReadBytes bounds the input all connections hold together in
	// incomplete frames and fragmented messages (each at most
	// MaxMessageSize). A connection whose buffer would take the total over
	// it is closed with 1013 (try again later). Default 0: no engine-wide
	// bound.
	MaxTotalReadBytes int64
	// MaxTotalQueueBytes bounds the pending output of all connections
	// together, counted per connection (a frame shared by n connections
	// counts n times). Over it, Enqueue refuses frames (ErrQueueFull) to
	// every connection holding more than MaxQueueBytes/16 pending, so that
	// the backed-up connections lose output and those keeping up do not.
	// Default 0: no engine-wide bound.
	MaxTotalQueueBytes int64
	// Pollers is the number of epoll loops (goroutines). Default 1.
	Pollers int
	// Flushers is the number of goroutines writing queued output.
	// Default runtime.GOMAXPROCS(0).
	Flushers int
	// CloseTimeout bounds a close handshake: after Close, a connection whose
	// close frame could not be written, or whose peer neither answers with a
	// close frame nor closes the TCP connection, is closed when it expires.
	// Default DefaultCloseTimeout.
	CloseTimeout time.Duration
	// ReadBufferSize is the size of each poller's shared read buffer.
	// Default DefaultReadBufferSize.
	ReadBufferSize int
	// SendBufferSize, when positive, fixes each socket's kernel send buffer
	// (SO_SNDBUF) instead of letting the kernel grow it up to tcp_wmem's
	// maximum (4 MiB on common kernels). A fixed buffer bounds the kernel
	// memory a client that stops reading can hold, and lets MaxQueueBytes
	// notice it sooner. Default 0: the kernel's autotuning.
	SendBufferSize int
	// WriteDelay holds a connection's output for up to this long after the
	// frame that found its queue empty, so that frames enqueued meanwhile
	// leave in the same write system call. It trades that much latency for
	// fewer system calls (less CPU per delivery) when each connection gets
	// messages a few milliseconds apart, where nothing would coalesce
	// otherwise. Control output (close, pong) is not delayed. Default 0:
	// write as soon as a flusher is free.
	WriteDelay time.Duration
}

// withDefaults returns cfg with defaults applied, or an error wrapping
// ErrInvalidConfig.
func (cfg Config) withDefaults() (Config, error) {
	switch {
	case cfg.MaxMessageSize < 0:
		return cfg, fmt.Errorf("%w: MaxMessageSize %d < 0", ErrInvalidConfig, cfg.MaxMessageSize)
	case cfg.MaxQueueBytes < 0:
		return cfg, fmt.Errorf("%w: MaxQueueBytes %d < 0", ErrInvalidConfig, cfg.MaxQueueBytes)
	case cfg.MaxTotalReadBytes < 0:
		return cfg, fmt.Errorf("%w: MaxTotalReadBytes %d < 0", ErrInvalidConfig, cfg.MaxTotalReadBytes)
	case cfg.MaxTotalQueueBytes < 0:
		return cfg, fmt.Errorf("%w: MaxTotalQueueBytes %d < 0", ErrInvalidConfig, cfg.MaxTotalQueueBytes)
	case cfg.Pollers < 0 || cfg.Pollers > MaxPollers:
		return cfg, fmt.Errorf("%w: Pollers %d not in [0, %d]", ErrInvalidConfig, cfg.Pollers, MaxPollers)
	case cfg.Flushers < 0 || cfg.Flushers > MaxFlushers:
		return cfg, fmt.Errorf("%w: Flushers %d not in [0, %d]", ErrInvalidConfig, cfg.Flushers, MaxFlushers)
	case cfg.CloseTimeout < 0:
		return cfg, fmt.Errorf("%w: CloseTimeout %v < 0", ErrInvalidConfig, cfg.CloseTimeout)
	case cfg.ReadBufferSize < 0:
		return cfg, fmt.Errorf("%w: ReadBufferSize %d < 0", ErrInvalidConfig, cfg.ReadBufferSize)
	case cfg.SendBufferSize < 0:
		return cfg, fmt.Errorf("%w: SendBufferSize %d < 0", ErrInvalidConfig, cfg.SendBufferSize)
	case cfg.WriteDelay < 0 || cfg.WriteDelay > MaxWriteDelay:
		return cfg, fmt.Errorf("%w: WriteDelay %v not in [0, %v]", ErrInvalidConfig, cfg.WriteDelay, MaxWriteDelay)
	}
	if cfg.MaxMessageSize == 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.MaxQueueBytes == 0 {
		cfg.MaxQueueBytes = DefaultMaxQueueBytes
	}
	if cfg.Pollers == 0 {
		cfg.Pollers = DefaultPollers
	}
	if cfg.Flushers == 0 {
		cfg.Flushers = runtime.GOMAXPROCS(0)
	}
	if cfg.CloseTimeout == 0 {
		cfg.CloseTimeout = DefaultCloseTimeout
	}
	if cfg.ReadBufferSize == 0 {
		cfg.ReadBufferSize = DefaultReadBufferSize
	}
	return cfg, nil
}
