package redis

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/wse-go/wse"
)

// Reconnect backoff of the pub/sub connection.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
	// subscribeBatch is the number of channels per SSUBSCRIBE on reconnect.
	subscribeBatch = 256
	// inboxMessages and inboxBytes bound the messages received and not yet
	// handed to the handler. Past them a message is dropped; the stream
	// still has it, and the catch-up that follows delivers it.
	inboxMessages = 65536
	inboxBytes    = 64 << 20
)

// Broker is the Redis broker. Create it with New and put it in
// wse.Config.Broker; the server starts and closes it.
type Broker struct {
	cfg    Config
	client rueidis.Client
	node   string
	h      wse.BrokerHandler

	// mu guards topics and sub.
	mu sync.Mutex
	// topics is the node's interest: the channels it must be subscribed to.
	topics map[string]bool
	// sub is the pub/sub connection, nil while it is down.
	sub rueidis.DedicatedClient

	presence *presenceWriter

	// inbox decouples the pub/sub reader from the handler, so that the
	// reader always reads replies (SSUBSCRIBE waits for one) whatever the
	// handler waits for. inboxSize counts its bytes; dropped is set when a
	// message did not fit.
	inbox     chan rueidis.PubSubMessage
	inboxSize atomic.Int64
	dropped   atomic.Bool

	connected atomic.Bool
	closed    atomic.Bool
	stop      chan struct{}
	wg        sync.WaitGroup

	published, publishErrors, received, receiveErrors, reconnects atomic.Uint64
	publishNanos                                                  atomic.Uint64
}

var (
	_ wse.HistoryBroker   = (*Broker)(nil)
	_ wse.PresenceManager = (*Broker)(nil)
)

// New validates cfg and returns a Broker that is not connected yet (the
// server's Start connects it).
func New(cfg Config) (*Broker, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if _, err := rueidis.ParseURL(cfg.URL); err != nil {
		// The parser's message quotes the URL, password included.
		return nil, fmt.Errorf("%w: URL %s is not a redis://, rediss:// or unix:// URL", ErrInvalidConfig, redactURL(cfg.URL))
	}
	return &Broker{cfg: cfg, topics: make(map[string]bool), stop: make(chan struct{}),
		inbox: make(chan rueidis.PubSubMessage, inboxMessages)}, nil
}

// Start connects to Redis (failing when it cannot be reached) and starts
// the pub/sub and presence goroutines.
func (b *Broker) Start(node string, h wse.BrokerHandler) error {
	opt, err := rueidis.ParseURL(b.cfg.URL)
	if err != nil {
		return fmt.Errorf("%w: URL %s cannot be parsed", ErrInvalidConfig, redactURL(b.cfg.URL))
	}
	opt.DisableCache = true
	client, err := rueidis.NewClient(opt)
	if err != nil {
		return fmt.Errorf("redis broker: connect %s: %w", redactURL(b.cfg.URL), err)
	}
	b.client, b.node, b.h = client, node, h
	b.presence = newPresenceWriter(b)
	ready := make(chan error, 1)
	b.wg.Add(3)
	go func() {
		defer b.wg.Done()
		b.dispatch()
	}()
	go func() {
		defer b.wg.Done()
		b.run(ready)
	}()
	go func() {
		defer b.wg.Done()
		b.presence.run()
	}()
	select {
	case err := <-ready:
		if err != nil {
			_ = b.Close()
			return fmt.Errorf("redis broker: pub/sub %s: %w", redactURL(b.cfg.URL), err)
		}
	case <-time.After(10 * time.Second):
		_ = b.Close()
		return fmt.Errorf("redis broker: pub/sub %s: no connection within 10s", redactURL(b.cfg.URL))
	}
	return nil
}

// Close stops the goroutines and disconnects. It is idempotent.
func (b *Broker) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	if b.presence != nil {
		// A graceful stop takes this node's members out at once instead
		// of leaving them to expire.
		b.presence.drain()
	}
	close(b.stop)
	b.mu.Lock()
	if b.sub != nil {
		b.sub.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
	if b.client != nil {
		b.client.Close()
	}
	b.connected.Store(false)
	return nil
}

// Status reports the connection state and counters.
func (b *Broker) Status() wse.BrokerStatus {
	st := wse.BrokerStatus{
		Name:          "redis",
		Connected:     b.connected.Load(),
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

// Key names of a topic (see the package documentation).
func (b *Broker) channel(topic string) string { return b.cfg.Prefix + ":{" + topic + "}" }
func (b *Broker) metaKey(topic string) string { return b.channel(topic) + ":m" }
func (b *Broker) streamKey(topic string) string {
	return b.channel(topic) + ":s"
}

// topicOf returns the topic of a channel name.
func (b *Broker) topicOf(channel string) (string, bool) {
	rest, ok := strings.CutPrefix(channel, b.cfg.Prefix+":{")
	if !ok || !strings.HasSuffix(rest, "}") {
		return "", false
	}
	return rest[:len(rest)-1], true
}

// Publish runs the publish script: with opts.History the publication is
// appended to the topic's stream (creating it with a fresh epoch) and
// published with its position.
func (b *Broker) Publish(ctx context.Context, topic string, body []byte, opts wse.PublishOptions) (wse.Position, error) {
	if b.closed.Load() {
		return wse.Position{}, ErrClosed
	}
	hist := "0"
	if opts.History {
		hist = "1"
	}
	start := time.Now()
	res := publishScript.Exec(ctx, b.client,
		[]string{b.metaKey(topic), b.streamKey(topic), b.channel(topic)},
		[]string{string(body), newEpoch(), hist, strconv.Itoa(b.cfg.HistorySize), strconv.Itoa(int(b.cfg.HistoryTTL / time.Second))})
	arr, err := res.ToArray()
	if err == nil && len(arr) != 2 {
		err = ErrBadReply
	}
	var pos wse.Position
	if err == nil {
		pos.Epoch, err = arr[0].ToString()
	}
	if err == nil {
		var o int64
		o, err = arr[1].AsInt64()
		pos.Offset = uint64(o)
	}
	if err != nil {
		b.publishErrors.Add(1)
		return wse.Position{}, fmt.Errorf("redis broker: publish: %w", err)
	}
	b.published.Add(1)
	b.publishNanos.Add(uint64(time.Since(start)))
	return pos, nil
}

// History reads the topic's position and up to limit publications after
// since.
func (b *Broker) History(ctx context.Context, topic string, since uint64, limit int) (wse.HistoryResult, error) {
	res := historyScript.Exec(ctx, b.client, []string{b.metaKey(topic), b.streamKey(topic)},
		[]string{strconv.FormatUint(since, 10), strconv.Itoa(max(limit, 0))})
	arr, err := res.ToArray()
	if err != nil {
		return wse.HistoryResult{}, fmt.Errorf("redis broker: history: %w", err)
	}
	if len(arr) != 3 {
		return wse.HistoryResult{}, fmt.Errorf("redis broker: history: %w", ErrBadReply)
	}
	var hr wse.HistoryResult
	if hr.Position.Epoch, err = arr[0].ToString(); err != nil {
		return wse.HistoryResult{}, fmt.Errorf("redis broker: history epoch: %w", err)
	}
	o, err := arr[1].AsInt64()
	if err != nil {
		return wse.HistoryResult{}, fmt.Errorf("redis broker: history offset: %w", err)
	}
	hr.Position.Offset = uint64(o)
	entries, err := arr[2].AsXRange()
	if err != nil {
		return wse.HistoryResult{}, fmt.Errorf("redis broker: history entries: %w", err)
	}
	hr.Publications = make([]wse.Publication, 0, len(entries))
	for _, e := range entries {
		_, seq, ok := strings.Cut(e.ID, "-")
		off, perr := strconv.ParseUint(seq, 10, 64)
		if !ok || perr != nil {
			return wse.HistoryResult{}, fmt.Errorf("redis broker: history id %q: %w", e.ID, ErrBadReply)
		}
		hr.Publications = append(hr.Publications, wse.Publication{Epoch: hr.Position.Epoch, Offset: off, Body: []byte(e.FieldValues["d"])})
	}
	return hr, nil
}

// Subscribe adds topic to the node's interest and subscribes its channel.
// A topic already in the interest returns at once.
func (b *Broker) Subscribe(ctx context.Context, topic string) error {
	b.mu.Lock()
	if b.topics[topic] {
		b.mu.Unlock()
		return nil
	}
	b.topics[topic] = true
	sub := b.sub
	b.mu.Unlock()
	if sub == nil {
		return ErrNotConnected
	}
	if err := sub.Do(ctx, sub.B().Ssubscribe().Channel(b.channel(topic)).Build()).Error(); err != nil {
		b.reset(sub)
		return fmt.Errorf("redis broker: ssubscribe %q: %w", topic, err)
	}
	return nil
}

// reset closes the pub/sub connection after a failed (un)subscription,
// whose state on the server is then unknown: the reconnect subscribes the
// whole interest again and catches up.
func (b *Broker) reset(sub rueidis.DedicatedClient) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sub == sub {
		sub.Close()
	}
}

// Unsubscribe removes topic from the node's interest.
func (b *Broker) Unsubscribe(ctx context.Context, topic string) error {
	b.mu.Lock()
	if !b.topics[topic] {
		b.mu.Unlock()
		return nil
	}
	delete(b.topics, topic)
	sub := b.sub
	b.mu.Unlock()
	if sub == nil {
		return nil
	}
	if err := sub.Do(ctx, sub.B().Sunsubscribe().Channel(b.channel(topic)).Build()).Error(); err != nil {
		b.reset(sub)
		return fmt.Errorf("redis broker: sunsubscribe %q: %w", topic, err)
	}
	return nil
}

// run keeps the pub/sub connection up: it subscribes every channel of the
// interest, hands messages to the handler, and on loss reconnects with
// backoff. After a reconnect the handler catches up. ready gets the
// outcome of the first connection.
func (b *Broker) run(ready chan<- error) {
	backoff := minBackoff
	first := true
	for {
		lost, err := b.connect()
		if first {
			ready <- err
			first = false
			if err != nil {
				return
			}
		} else if err == nil {
			b.reconnects.Add(1)
			b.cfg.Logger.Info("redis broker: pub/sub reconnected")
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				b.h.HandleReconnect()
			}()
		}
		if err == nil {
			backoff = minBackoff
			select {
			case err = <-lost:
			case <-b.stop:
				return
			}
			b.cfg.Logger.Warn("redis broker: pub/sub connection lost", "error", err)
		}
		b.connected.Store(false)
		b.mu.Lock()
		if b.sub != nil {
			b.sub.Close()
			b.sub = nil
		}
		b.mu.Unlock()
		select {
		case <-time.After(backoff):
		case <-b.stop:
			return
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// connect opens the pub/sub connection and subscribes the interest. It
// returns the channel that reports the connection's loss.
func (b *Broker) connect() (<-chan error, error) {
	sub, release := b.client.Dedicate()
	lost := sub.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: b.receive})
	b.mu.Lock()
	if b.closed.Load() {
		b.mu.Unlock()
		release()
		return nil, ErrClosed
	}
	b.sub = sub
	channels := make([]string, 0, len(b.topics))
	for t := range b.topics {
		channels = append(channels, b.channel(t))
	}
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A ping proves the connection before it is declared up.
	err := sub.Do(ctx, sub.B().Ping().Build()).Error()
	for i := 0; err == nil && i < len(channels); i += subscribeBatch {
		batch := channels[i:min(i+subscribeBatch, len(channels))]
		err = sub.Do(ctx, sub.B().Ssubscribe().Channel(batch...).Build()).Error()
	}
	if err != nil {
		b.mu.Lock()
		b.sub = nil
		b.mu.Unlock()
		sub.Close()
		release()
		return nil, err
	}
	b.connected.Store(true)
	return lost, nil
}

// receive queues a message for dispatch without blocking the reader.
func (b *Broker) receive(m rueidis.PubSubMessage) {
	n := int64(len(m.Message))
	if b.inboxSize.Add(n) > inboxBytes {
		b.inboxSize.Add(-n)
		b.receiveErrors.Add(1)
		b.dropped.Store(true)
		return
	}
	select {
	case b.inbox <- m:
	default:
		b.inboxSize.Add(-n)
		b.receiveErrors.Add(1)
		b.dropped.Store(true)
	}
}

// dispatch hands queued messages to the handler in order. After a drop it
// has the handler catch up from the streams once the queue is empty.
func (b *Broker) dispatch() {
	for {
		select {
		case <-b.stop:
			return
		case m := <-b.inbox:
			b.inboxSize.Add(-int64(len(m.Message)))
			b.onMessage(m)
			if len(b.inbox) == 0 && b.dropped.Swap(false) {
				b.cfg.Logger.Warn("redis broker: messages dropped for a full inbox; catching up from the streams")
				b.h.HandleReconnect()
			}
		}
	}
}

// onMessage decodes one channel message and hands it to the handler.
// Publications: "p<epoch> <offset> <body>". Presence: "r" + JSON.
func (b *Broker) onMessage(m rueidis.PubSubMessage) {
	topic, ok := b.topicOf(m.Channel)
	if !ok || m.Message == "" {
		b.receiveErrors.Add(1)
		return
	}
	switch m.Message[0] {
	case 'p':
		epoch, rest, ok1 := strings.Cut(m.Message[1:], " ")
		off, body, ok2 := strings.Cut(rest, " ")
		offset, err := strconv.ParseUint(off, 10, 64)
		if !ok1 || !ok2 || err != nil {
			b.receiveErrors.Add(1)
			return
		}
		b.received.Add(1)
		b.h.HandlePublication(topic, wse.Publication{Epoch: epoch, Offset: offset, Body: []byte(body)})
	case 'r':
		var msg presenceMessage
		if err := json.Unmarshal([]byte(m.Message[1:]), &msg); err != nil {
			b.receiveErrors.Add(1)
			return
		}
		if msg.Node != b.node {
			b.h.HandlePresence(topic, msg.PresenceEntry, msg.Leave)
		}
	default:
		b.receiveErrors.Add(1)
	}
}

// newEpoch returns 8 random lower-case hex digits.
func newEpoch() string {
	var v [4]byte
	for i := range v {
		v[i] = byte(rand.Uint32())
	}
	return hex.EncodeToString(v[:])
}

// redactURL removes the password from a Redis URL for messages.
func redactURL(raw string) string {
	if i := strings.Index(raw, "@"); i >= 0 {
		if j := strings.Index(raw, "://"); j >= 0 && j < i {
			return raw[:j+3] + "…" + raw[i:]
		}
	}
	return raw
}
