package redis

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultURL         = "redis://127.0.0.1:6379"
	DefaultPrefix      = "wse"
	DefaultHistorySize = 1024
	DefaultHistoryTTL  = 300 * time.Second
	DefaultPresenceTTL = 10 * time.Second
	// minPresenceTTL keeps the refresh period (TTL/3) above a second.
	minPresenceTTL = 3 * time.Second
)

// Config configures a Broker.
type Config struct {
	// URL is the Redis URL: redis://[user:password@]host:port[/db],
	// rediss:// for TLS, or redis://host:port?master_set=name for
	// Sentinel (default redis://127.0.0.1:6379).
	URL string
	// Prefix starts every key and channel, so that several WSE clusters
	// can share one Redis (default "wse").
	Prefix string
	// HistorySize is the number of publications each topic's stream keeps
	// at least (trimmed approximately; default 1024). It should be at
	// least the engine's Recovery.MaxMessages.
	HistorySize int
	// HistoryTTL drops a topic's stream, and with it its epoch, after that
	// long without a publication (default 300s).
	HistoryTTL time.Duration
	// PresenceTTL is how long a presence entry lives without a refresh;
	// nodes refresh theirs every PresenceTTL/3 (default 10s, at least 3s).
	PresenceTTL time.Duration
	// Logger receives the broker's log lines (default: discarded).
	Logger *slog.Logger
}

// withDefaults returns c with defaults applied, or an error naming the
// first invalid field.
func (c Config) withDefaults() (Config, error) {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.HistorySize == 0 {
		c.HistorySize = DefaultHistorySize
	}
	if c.HistoryTTL == 0 {
		c.HistoryTTL = DefaultHistoryTTL
	}
	if c.PresenceTTL == 0 {
		c.PresenceTTL = DefaultPresenceTTL
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.HistorySize < 0:
		return c, fmt.Errorf("%w: HistorySize must not be negative", ErrInvalidConfig)
	case c.HistoryTTL < time.Second:
		return c, fmt.Errorf("%w: HistoryTTL %s is below 1s", ErrInvalidConfig, c.HistoryTTL)
	case c.PresenceTTL < minPresenceTTL:
		return c, fmt.Errorf("%w: PresenceTTL %s is below %s", ErrInvalidConfig, c.PresenceTTL, minPresenceTTL)
	}
	return c, nil
}
