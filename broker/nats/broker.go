package nats

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wse-go/wse"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultURL    = "nats://127.0.0.1:4222"
	DefaultPrefix = "wse"
	// connectTimeout bounds the first connection.
	connectTimeout = 5 * time.Second
	// reconnectWait is the pause between reconnection attempts.
	reconnectWait = 250 * time.Millisecond
)

// Sentinel errors of the NATS broker, wrapped with context.
var (
	// ErrInvalidConfig reports a Config field that cannot be used.
	ErrInvalidConfig = errors.New("nats broker: invalid config")
	// ErrClosed reports a call after Close.
	ErrClosed = errors.New("nats broker: closed")
)

// Config configures a Broker.
type Config struct {
	// URL is the NATS URL, or several separated by commas (default
	// nats://127.0.0.1:4222).
	URL string
	// Prefix is the first subject token, so that several WSE clusters can
	// share one NATS (default "wse"); it must not contain '.', '*', '>' or
	// spaces.
	Prefix string
	// Logger receives the broker's log lines (default: discarded).
	Logger *slog.Logger
}

// Broker is the NATS broker. Create it with New and put it in
// wse.Config.Broker; the server starts and closes it.
type Broker struct {
	cfg  Config
	nc   *nats.Conn
	node string
	h    wse.BrokerHandler

	// mu guards subs.
	mu   sync.Mutex
	subs map[string]*nats.Subscription
	// wg tracks the catch-up goroutines started on reconnect.
	wg sync.WaitGroup

	closed                                                        atomic.Bool
	published, publishErrors, received, receiveErrors, reconnects atomic.Uint64
	publishNanos                                                  atomic.Uint64
}

var _ wse.Broker = (*Broker)(nil)

// New validates cfg and returns a Broker that is not connected yet.
func New(cfg Config) (*Broker, error) {
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(cfg.Prefix, ".*> \t") {
		return nil, fmt.Errorf("%w: Prefix %q is not one subject token", ErrInvalidConfig, cfg.Prefix)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Broker{cfg: cfg, subs: make(map[string]*nats.Subscription)}, nil
}

// Start connects to NATS, failing when it cannot be reached. Later losses
// are retried forever; publications fail while the connection is down
// (nothing is buffered, so nothing is sent late).
func (b *Broker) Start(node string, h wse.BrokerHandler) error {
	b.node, b.h = node, h
	nc, err := nats.Connect(b.cfg.URL,
		nats.Name("wse "+node),
		nats.Timeout(connectTimeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.cfg.Logger.Warn("nats broker: connection lost", "error", err)
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			b.reconnects.Add(1)
			b.cfg.Logger.Info("nats broker: reconnected")
			b.wg.Go(h.HandleReconnect)
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			b.receiveErrors.Add(1)
			if errors.Is(err, nats.ErrSlowConsumer) {
				// NATS dropped messages for this node: make it a gap.
				b.wg.Go(h.HandleReconnect)
			}
		}),
	)
	if err != nil {
		return fmt.Errorf("nats broker: connect %s: %w", b.cfg.URL, err)
	}
	b.nc = nc
	return nil
}

// Close disconnects. It is idempotent.
func (b *Broker) Close() error {
	if b.closed.Swap(true) || b.nc == nil {
		return nil
	}
	b.nc.Close()
	b.wg.Wait()
	return nil
}

// Status reports the connection state and counters.
func (b *Broker) Status() wse.BrokerStatus {
	st := wse.BrokerStatus{
		Name:          "nats",
		Connected:     b.nc != nil && b.nc.IsConnected(),
		Published:     b.published.Load(),
		PublishErrors: b.publishErrors.Load(),
		Received:      b.received.Load(),
		ReceiveErrors: b.receiveErrors.Load(),
		Reconnects:    b.reconnects.Load(),
	}
	if st.Published > 0 {
		st.PublishLatency = time.Duration(b.publishNanos.Load() / st.Published)
	}
	return st
}

// subject returns the NATS subject of topic.
func (b *Broker) subject(topic string) string {
	return b.cfg.Prefix + "." + base64.RawURLEncoding.EncodeToString([]byte(topic))
}

// Publish sends body to the other nodes, at most once. History is not
// kept: the position is always zero.
func (b *Broker) Publish(_ context.Context, topic string, body []byte, _ wse.PublishOptions) (wse.Position, error) {
	if b.closed.Load() {
		return wse.Position{}, ErrClosed
	}
	start := time.Now()
	msg := make([]byte, 0, len(b.node)+1+len(body))
	msg = append(append(append(msg, b.node...), ' '), body...)
	if !b.nc.IsConnected() {
		b.publishErrors.Add(1)
		return wse.Position{}, fmt.Errorf("nats broker: publish: %w", nats.ErrConnectionReconnecting)
	}
	if err := b.nc.Publish(b.subject(topic), msg); err != nil {
		b.publishErrors.Add(1)
		return wse.Position{}, fmt.Errorf("nats broker: publish: %w", err)
	}
	b.published.Add(1)
	b.publishNanos.Add(uint64(time.Since(start)))
	return wse.Position{}, nil
}

// Subscribe subscribes the topic's subject and waits (within ctx) for the
// server to have it. While disconnected the subscription is kept and
// re-sent by nats.go on reconnect.
func (b *Broker) Subscribe(ctx context.Context, topic string) error {
	b.mu.Lock()
	if _, ok := b.subs[topic]; ok {
		b.mu.Unlock()
		return nil
	}
	sub, err := b.nc.Subscribe(b.subject(topic), func(m *nats.Msg) { b.onMessage(topic, m) })
	if err != nil {
		b.mu.Unlock()
		return fmt.Errorf("nats broker: subscribe %q: %w", topic, err)
	}
	b.subs[topic] = sub
	b.mu.Unlock()
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("nats broker: subscribe %q: %w", topic, err)
	}
	return nil
}

// Unsubscribe drops the topic's subscription.
func (b *Broker) Unsubscribe(_ context.Context, topic string) error {
	b.mu.Lock()
	sub := b.subs[topic]
	delete(b.subs, topic)
	b.mu.Unlock()
	if sub == nil {
		return nil
	}
	if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("nats broker: unsubscribe %q: %w", topic, err)
	}
	return nil
}

// onMessage hands another node's publication to the handler.
func (b *Broker) onMessage(topic string, m *nats.Msg) {
	node, body, ok := strings.Cut(string(m.Data), " ")
	if !ok {
		b.receiveErrors.Add(1)
		return
	}
	if node == b.node {
		return
	}
	b.received.Add(1)
	b.h.HandlePublication(topic, wse.Publication{Body: []byte(body)})
}
