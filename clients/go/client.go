package wseclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/wse-go/wse/internal/backoff"
)

// Client is a WSE client: one logical connection to a WSE server that
// reconnects and recovers missed topic messages by itself. Create it with
// Dial; its methods are safe for concurrent use.
type Client struct {
	url    string
	opts   Options
	policy backoff.Policy
	dialer ws.Dialer

	ctx     context.Context // canceled by Close
	cancel  context.CancelFunc
	runDone chan struct{} // closed when the supervisor has returned
	done    chan struct{} // closed when the dispatcher has returned

	queue  chan item    // reader → dispatcher
	msgs   chan Message // nil unless Options.MessageBuffer > 0
	events chan Event   // nil unless Options.EventBuffer > 0

	rtt             atomic.Int64  // last measured round trip, in nanoseconds
	decryptFailures atomic.Uint64 // "E:" frames that could not be decrypted

	hmu           sync.RWMutex
	handlers      map[string][]Handler
	anyHandlers   []Handler
	eventHandlers []func(Event)

	mu sync.Mutex
	// sess is the ready connection, nil between connections.
	sess *session
	// ready is closed while sess is not nil; a new one is made when sess
	// is cleared.
	ready chan struct{}
	// token is the bearer token of the next handshake.
	token string
	// topics are the wanted topics, each with its presence data as JSON
	// ("" for none); they are subscribed again on every connection.
	topics map[string]string
	// queues are the wanted queue group memberships, joined again on every
	// connection.
	queues map[queueWant]struct{}
	// connID, userID, features and encrypted describe the latest
	// connection.
	connID, userID string
	features       Features
	encrypted      bool
	// err is why the client stopped; nil while it runs.
	err error
	// rec tracks recovery positions.
	rec *tracker
}

// Dial connects to the WSE server at rawURL (ws:// or wss://, e.g.
// ws://host:5007/wse), waits for server_ready, sends client_hello and
// subscribes Options.Topics, and returns once the server replied. When the
// server refuses the token with 4401 and Options.RefreshToken is set, it
// refreshes the token and tries once more; a final 4401 is an error wrapping
// both ErrAuthFailed and the *CloseError. With Options.WaitForServer it
// retries while the server is unreachable. ctx bounds the whole call; the
// returned client lives until Close or a close code that stops it.
func Dial(ctx context.Context, rawURL string, opts Options) (*Client, error) {
	c, err := newClient(rawURL, opts)
	if err != nil {
		return nil, err
	}
	s, waiters, err := c.connect(ctx)
	for attempt := 0; err != nil && c.opts.WaitForServer && unreachable(ctx, err); attempt++ {
		if gerr := c.giveUp(attempt+1, err); gerr != nil {
			err = gerr
			break
		}
		t := time.NewTimer(c.policy.Delay(attempt))
		select {
		case <-t.C:
			s, waiters, err = c.connect(ctx)
		case <-ctx.Done():
			t.Stop()
		}
		if cerr := ctx.Err(); cerr != nil && err != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w; last attempt: %w", cerr, err)
		}
	}
	if isAuthClose(err) && c.opts.RefreshToken != nil {
		if err = c.refresh(ctx); err == nil {
			s, waiters, err = c.connect(ctx)
		}
	}
	if isAuthClose(err) {
		err = fmt.Errorf("%w: %w", ErrAuthFailed, err)
	}
	for _, w := range waiters {
		if err != nil {
			break
		}
		select {
		case r := <-w.ch:
			err = r.err
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		if s != nil {
			_ = s.conn.Close()
			<-s.done
			s.wg.Wait()
		}
		c.cancel()
		close(c.runDone)
		close(c.queue)
		return nil, err
	}
	go c.run(s)
	return c, nil
}

// unreachable reports whether a failed first connection may succeed when
// tried again: not when ctx ended, the server closed it with a code, or
// the key exchange failed.
func unreachable(ctx context.Context, err error) bool {
	var ce *CloseError
	return ctx.Err() == nil && !errors.As(err, &ce) && !errors.Is(err, ErrKeyExchange)
}

// isAuthClose reports whether err is the server's close with 4401.
func isAuthClose(err error) bool {
	var ce *CloseError
	return errors.As(err, &ce) && ce.Code == CloseAuthFailed
}

// newClient returns a client that is not connected yet, with its dispatcher
// running.
func newClient(rawURL string, opts Options) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return nil, fmt.Errorf("%w: scheme %q, want ws or wss", ErrInvalidURL, u.Scheme)
	}
	if opts.MsgPack {
		q := u.Query()
		q.Set("format", "msgpack")
		u.RawQuery = q.Encode()
	}
	opts = opts.withDefaults()
	c := &Client{
		url:      u.String(),
		opts:     opts,
		policy:   opts.Reconnect.policy(),
		dialer:   ws.Dialer{NetDial: opts.NetDial, TLSConfig: opts.TLSConfig},
		runDone:  make(chan struct{}),
		done:     make(chan struct{}),
		queue:    make(chan item, opts.QueueSize),
		handlers: make(map[string][]Handler),
		ready:    make(chan struct{}),
		token:    opts.Token,
		topics:   make(map[string]string),
		queues:   make(map[queueWant]struct{}),
		rec:      newTracker(opts.RecoveryTimeout),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if opts.MessageBuffer > 0 {
		c.msgs = make(chan Message, opts.MessageBuffer)
	}
	if opts.EventBuffer > 0 {
		c.events = make(chan Event, opts.EventBuffer)
	}
	for t, h := range opts.Handlers {
		c.On(t, h)
	}
	c.OnAny(opts.OnMessage)
	for _, t := range opts.Topics {
		c.topics[t] = ""
	}
	go c.dispatchLoop()
	return c, nil
}

// header returns the handshake headers for token.
func (c *Client) header(token string) http.Header {
	h := c.opts.Header.Clone()
	if h == nil {
		h = make(http.Header)
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	if c.opts.Cookie != "" {
		h.Set("Cookie", c.opts.Cookie)
	}
	return h
}

// connect opens one connection and waits, within ctx and ConnectTimeout,
// until it is ready. It returns the session and the waiters of its first
// subscription requests.
func (c *Client) connect(ctx context.Context) (*session, []*waiter, error) {
	c.mu.Lock()
	token := c.token
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, c.opts.ConnectTimeout)
	defer cancel()
	d := c.dialer
	d.Header = ws.HandshakeHeaderHTTP(c.header(token))
	conn, br, _, err := d.Dial(ctx, c.url)
	if err != nil {
		return nil, nil, fmt.Errorf("wseclient: dial: %w", err)
	}
	s := newSession(c, conn, br)
	select {
	case r := <-s.readyCh:
		if r.err != nil {
			<-s.done
			s.wg.Wait()
			return nil, nil, r.err
		}
		return s, r.waiters, nil
	case <-ctx.Done():
		_ = conn.Close()
		<-s.done
		s.wg.Wait()
		return nil, nil, fmt.Errorf("%w: %w", ErrNoServerReady, ctx.Err())
	}
}

// refresh gets a new token from Options.RefreshToken.
func (c *Client) refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	token, err := c.opts.RefreshToken(ctx)
	if err != nil {
		return fmt.Errorf("%w: refresh token: %w", ErrAuthFailed, err)
	}
	c.mu.Lock()
	c.token = token
	c.mu.Unlock()
	return nil
}

// run supervises the connections: it waits for the current one to end,
// then reconnects with backoff until a close code, an exhausted policy or
// Close stops the client.
func (c *Client) run(s *session) {
	defer close(c.runDone)
	attempt, refreshed := 0, false
	for {
		err := c.watch(s)
		if c.ctx.Err() != nil {
			c.finish(ErrClosed)
			return
		}
		c.push(item{ev: &Event{Kind: EventDisconnected, Err: err}})
		for s = nil; s == nil; {
			delay, stop := c.plan(err, attempt, &refreshed)
			if c.ctx.Err() != nil {
				c.finish(ErrClosed)
				return
			}
			if stop != nil {
				c.finish(stop)
				return
			}
			attempt++
			c.push(item{ev: &Event{Kind: EventReconnecting, Attempt: attempt, Delay: delay}})
			if !c.sleep(delay) {
				c.finish(ErrClosed)
				return
			}
			s, _, err = c.connect(c.ctx)
			if c.ctx.Err() != nil && s == nil {
				c.finish(ErrClosed)
				return
			}
		}
		attempt, refreshed = 0, false
	}
}

// watch waits until s ends, closing it first when the client is closed, and
// returns why it ended.
func (c *Client) watch(s *session) error {
	select {
	case <-s.done:
	case <-c.ctx.Done():
		s.closeGracefully()
		t := time.NewTimer(closeWait)
		select {
		case <-s.done:
		case <-t.C:
			_ = s.conn.Close()
			<-s.done
		}
		t.Stop()
	}
	s.wg.Wait()
	return s.err
}

// plan decides what follows a connection that ended (or an attempt that
// failed) with err: a delay before the next attempt, or the error that
// stops the client. After 4401 it refreshes the token; the first attempt
// after a refresh is made at once.
func (c *Client) plan(err error, attempt int, refreshed *bool) (time.Duration, error) {
	if c.opts.Reconnect.Disabled {
		return 0, err
	}
	var ce *CloseError
	if errors.As(err, &ce) {
		if !ce.Code.Reconnect() {
			return 0, err
		}
		if ce.Code == CloseAuthFailed {
			if c.opts.RefreshToken == nil {
				return 0, fmt.Errorf("%w: %w", ErrAuthFailed, err)
			}
			if rerr := c.refresh(c.ctx); rerr != nil {
				return 0, rerr
			}
			if !*refreshed {
				*refreshed = true
				return 0, nil
			}
		}
	}
	if gerr := c.giveUp(attempt, err); gerr != nil {
		return 0, gerr
	}
	return c.policy.Delay(attempt), nil
}

// giveUp returns the ErrGaveUp error once failed attempts in a row reach
// Reconnect.MaxAttempts (err is the last one's), else nil.
func (c *Client) giveUp(failed int, err error) error {
	if limit := c.opts.Reconnect.MaxAttempts; limit > 0 && failed >= limit {
		return fmt.Errorf("%w after %d attempts: %w", ErrGaveUp, failed, err)
	}
	return nil
}

// sleep waits d; it reports false when the client was closed meanwhile.
func (c *Client) sleep(d time.Duration) bool {
	if d <= 0 {
		return c.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// finish records why the client stopped, queues EventClosed and ends the
// dispatcher once it has delivered what is queued.
func (c *Client) finish(err error) {
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	c.push(item{ev: &Event{Kind: EventClosed, Err: err}})
	close(c.queue)
}

// push queues it for the dispatcher; it reports false when the client was
// closed before there was room.
func (c *Client) push(it item) bool {
	select {
	case c.queue <- it:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// session returns the ready connection, waiting for one within ctx while
// the client reconnects. It runs locked, if not nil, with c.mu held and the
// session still current, so that what locked records is seen by the
// session's successors.
func (c *Client) session(ctx context.Context, locked func()) (*session, error) {
	for {
		c.mu.Lock()
		s, ready := c.sess, c.ready
		if s != nil {
			if locked != nil {
				locked()
			}
			c.mu.Unlock()
			return s, nil
		}
		c.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.runDone:
			return nil, c.Err()
		}
	}
}

// Close closes the connection with code 1000 and stops the client. Handlers
// already running finish; queued messages and events are dropped, and
// EventClosed is not delivered. Done is closed once the dispatcher returned.
// Close is idempotent and may be called from a handler.
func (c *Client) Close() error {
	c.cancel()
	<-c.runDone
	return nil
}

// Done returns a channel closed when the client has stopped for good and
// its dispatcher has returned.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the client stopped: ErrClosed after Close, a *CloseError
// for a close code that stops it (1000, 1001, 4403), or an error wrapping
// ErrAuthFailed or ErrGaveUp. It is nil while the client runs.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// ConnID returns the id of the latest connection (server_ready's
// connection_id).
func (c *Client) ConnID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connID
}

// UserID returns the user id the server authenticated (the JWT sub) on the
// latest connection.
func (c *Client) UserID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.userID
}

// Features returns the features the server announced on the latest
// connection.
func (c *Client) Features() Features {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.features
}

// Encrypted reports whether the latest connection negotiated end-to-end
// encryption (Options.Encryption). It is final once the connection is ready:
// false then means the server refused and the connection is in plaintext
// (see EventEncryptionRefused).
func (c *Client) Encrypted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.encrypted
}

// DecryptFailures returns how many binary frames starting with "E:" could
// not be decrypted since Dial (only with Options.Encryption): tampered or
// truncated frames, frames sealed with another key, or raw binary data that
// happens to start with "E:". Such frames are delivered as they are, like
// any frame that is not a WSE message.
func (c *Client) DecryptFailures() uint64 { return c.decryptFailures.Load() }

// Connected reports whether a connection is ready now.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess != nil
}

// RTT returns the round trip time measured by the latest answered client
// ping; zero before the first.
func (c *Client) RTT() time.Duration { return time.Duration(c.rtt.Load()) }

// Positions returns the last position of every topic the client tracks.
func (c *Client) Positions() map[string]Position {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec.positions()
}

// Topics returns the topics the client subscribes on every connection,
// sorted.
func (c *Client) Topics() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := make([]string, 0, len(c.topics))
	for t := range c.topics {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

// Send sends a message of type typ with payload (marshaled to JSON; nil
// sends an empty object) as a text frame: {"c","t","p","id","ts","v"}, or
// sealed in an "E:" binary frame on an encrypted connection. It fails with
// ErrNotConnected between connections: messages are not queued.
func (c *Client) Send(typ string, payload any) error {
	c.mu.Lock()
	s, stopped := c.sess, c.err != nil
	c.mu.Unlock()
	if s == nil {
		// c.err is set before EventClosed is queued and Done is closed, so
		// a caller that saw either gets ErrClosed, never ErrNotConnected.
		if stopped {
			return ErrClosed
		}
		return ErrNotConnected
	}
	text, err := envelope(typ, payload, time.Now())
	if err != nil {
		return fmt.Errorf("wseclient: send %q: %w", typ, err)
	}
	if err := s.writeMessage(text); err != nil {
		return fmt.Errorf("%w: %w", ErrConnectionLost, err)
	}
	return nil
}

// SubscribeOptions are per-call options of Subscribe.
type SubscribeOptions struct {
	// Presence, when set, joins the topics' presence with this data (the
	// server must have presence enabled).
	Presence map[string]any
}

// Subscribe asks the server to subscribe the client to topics and returns
// its reply. Topics are wanted from the call on: they are subscribed again
// after every reconnect, with recovery, until Unsubscribe or until the server
// refuses them. With recovery on, topics the client already tracks recover
// from their last position. While the client reconnects, Subscribe waits for
// the connection within ctx; ErrConnectionLost means the connection ended
// before the reply: the topics are then subscribed, with recovery, on the
// next connection, and its failures are reported by EventSubscribeFailed.
//
// Do not wait for Subscribe inside a handler when the queue may be full:
// the reply is read by the goroutine that feeds the handlers.
func (c *Client) Subscribe(ctx context.Context, topics []string, opts SubscribeOptions) (SubscribeResult, error) {
	var presence json.RawMessage
	if opts.Presence != nil {
		b, err := json.Marshal(opts.Presence)
		if err != nil {
			return SubscribeResult{}, fmt.Errorf("wseclient: presence data: %w", err)
		}
		presence = b
	}
	topics = unique(topics)
	now := time.Now()
	var from map[string]Position
	var recoverable bool
	s, err := c.session(ctx, func() {
		for _, t := range topics {
			c.topics[t] = string(presence)
		}
		from = c.rec.prepare(topics, now)
		recoverable = c.rec.recoverable
	})
	if err != nil {
		return SubscribeResult{}, err
	}
	w := newWaiter(actionSubscribe, topics, waitApp, time.Time{})
	return s.await(ctx, w, subscriptionRequest(actionSubscribe, topics, presence, recoverable, from, now))
}

// Unsubscribe asks the server to unsubscribe the client from topics and
// returns its reply. The topics are no longer wanted from the call on, so
// after ErrConnectionLost they are not subscribed on the next connection.
func (c *Client) Unsubscribe(ctx context.Context, topics []string) (SubscribeResult, error) {
	topics = unique(topics)
	s, err := c.session(ctx, func() {
		for _, t := range topics {
			delete(c.topics, t)
		}
	})
	if err != nil {
		return SubscribeResult{}, err
	}
	w := newWaiter(actionUnsubscribe, topics, waitApp, time.Time{})
	return s.await(ctx, w, subscriptionRequest(actionUnsubscribe, topics, nil, false, nil, time.Now()))
}

// queueWant is one wanted queue group membership.
type queueWant struct{ topic, group string }

// SubscribeQueue asks the server to make the client a member of queue
// group group of each topic and returns its reply: each publication to a
// topic then goes to one member of the group, across the cluster, besides
// the topic's normal subscribers (docs/subscriptions.md). Memberships are
// joined again after every reconnect, until UnsubscribeQueue or until the
// server refuses them; they have no recovery and no presence. Waiting
// behaves as for Subscribe.
func (c *Client) SubscribeQueue(ctx context.Context, topics []string, group string) (SubscribeResult, error) {
	return c.queueRequest(ctx, actionSubscribe, topics, group)
}

// UnsubscribeQueue takes the client out of queue group group of topics.
// What the server queued to it before it left still arrives, before the
// reply.
func (c *Client) UnsubscribeQueue(ctx context.Context, topics []string, group string) (SubscribeResult, error) {
	return c.queueRequest(ctx, actionUnsubscribe, topics, group)
}

// queueRequest records the wanted memberships and sends a queue request.
func (c *Client) queueRequest(ctx context.Context, action string, topics []string, group string) (SubscribeResult, error) {
	if group == "" {
		return SubscribeResult{}, ErrEmptyQueueGroup
	}
	topics = unique(topics)
	s, err := c.session(ctx, func() {
		for _, t := range topics {
			if action == actionSubscribe {
				c.queues[queueWant{t, group}] = struct{}{}
			} else {
				delete(c.queues, queueWant{t, group})
			}
		}
	})
	if err != nil {
		return SubscribeResult{}, err
	}
	w := newWaiter(action, topics, waitApp, time.Time{})
	w.group = group
	return s.await(ctx, w, queueRequest(action, topics, group, time.Now()))
}

// await sends a request and waits for its reply within ctx.
func (s *session) await(ctx context.Context, w *waiter, text []byte) (SubscribeResult, error) {
	if err := s.request(text, w); err != nil && !errors.Is(err, ErrConnectionLost) {
		return SubscribeResult{}, fmt.Errorf("%w: %w", ErrConnectionLost, err)
	}
	select {
	case r := <-w.ch:
		return r.res, r.err
	case <-ctx.Done():
		s.drop(w)
		return SubscribeResult{}, ctx.Err()
	}
}

// unique returns topics without duplicates, in first-seen order.
func unique(topics []string) []string {
	out := make([]string, 0, len(topics))
	seen := make(map[string]bool, len(topics))
	for _, t := range topics {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}
