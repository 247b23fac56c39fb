package server

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/wse-go/wse"
	natsbroker "github.com/wse-go/wse/broker/nats"
	redisbroker "github.com/wse-go/wse/broker/redis"
)

// minBrokerPresenceTTL is the shortest --broker-presence-ttl (the Redis
// broker refreshes entries every third of it).
const minBrokerPresenceTTL = 3 * time.Second

// checkBroker validates the broker settings: a broker excludes the mesh.
func checkBroker(c Config) error {
	if c.Broker == "" || c.Broker == "memory" {
		return nil
	}
	if c.ClusterPort != 0 {
		return errors.New("--broker " + c.Broker + " replaces the mesh: drop --cluster-port")
	}
	if c.Broker == "redis" && c.BrokerPresenceTTL < minBrokerPresenceTTL {
		return fmt.Errorf("--broker-presence-ttl %s is below %s", c.BrokerPresenceTTL, minBrokerPresenceTTL)
	}
	return nil
}

// newBroker builds the broker named by --broker (nil for memory).
func (c Config) newBroker(log *slog.Logger) (wse.Broker, error) {
	switch c.Broker {
	case "redis":
		b, err := redisbroker.New(redisbroker.Config{URL: c.RedisURL, Prefix: c.BrokerPrefix,
			HistorySize: max(c.RecoveryBufferSize, c.RecoveryMaxMessages), HistoryTTL: c.RecoveryTTL,
			PresenceTTL: c.BrokerPresenceTTL, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("%w: --broker redis: %w", ErrInvalidConfig, err)
		}
		return b, nil
	case "nats":
		if c.Presence && log != nil {
			log.Warn("--broker nats shares fan-out only: presence and recovery history stay per node (use --broker redis to share them)")
		}
		b, err := natsbroker.New(natsbroker.Config{URL: c.NATSURL, Prefix: c.BrokerPrefix, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("%w: --broker nats: %w", ErrInvalidConfig, err)
		}
		return b, nil
	}
	return nil, nil
}
