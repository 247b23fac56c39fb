package hooks

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultTimeout bounds one backend call, queue wait included.
	DefaultTimeout = 3 * time.Second
	// DefaultConcurrency is the number of calls in flight per hook.
	DefaultConcurrency = 64
	// DefaultQueue is the number of calls per hook that may wait for a
	// free slot; more fail at once with ErrBusy.
	DefaultQueue = 1024
	// DefaultGrace delays the disconnect and presence_leave webhooks.
	DefaultGrace = 5 * time.Second
	// DefaultSubscribeCacheTTL is how long a subscribe answer is reused.
	DefaultSubscribeCacheTTL = 60 * time.Second
	// DefaultSubscribeCacheSize bounds the subscribe cache's entries.
	DefaultSubscribeCacheSize = 100000
	// DefaultRetries is the number of retries of a failed webhook.
	DefaultRetries = 5
	// DefaultRetryBase is the delay before a webhook's first retry.
	DefaultRetryBase = 500 * time.Millisecond
	// DefaultMaxPendingWebhooks bounds webhooks waiting for their grace
	// period or a delivery worker.
	DefaultMaxPendingWebhooks = 10000
	// DefaultWebhookWorkers is the number of webhook delivery goroutines.
	DefaultWebhookWorkers = 4
	// DefaultMaxResponseBytes bounds a backend answer.
	DefaultMaxResponseBytes = 1 << 20
)

// Policy is what a proxy hook does when its backend fails (timeout,
// connection refused, non-2xx answer, malformed JSON, busy).
type Policy string

// Failure policies.
const (
	// Deny refuses: the connection is closed with 4503, the topics fail
	// with FORBIDDEN, the message gets a BACKEND_UNAVAILABLE error.
	Deny Policy = "deny"
	// Allow lets it through: an anonymous connection, every topic
	// granted, the message handed to the application as if no hook were set.
	Allow Policy = "allow"
)

// Endpoint is one hook's backend.
type Endpoint struct {
	// URL receives the POSTs; empty disables the hook.
	URL string
	// Timeout bounds one call, waiting for a slot included (default
	// Config.Timeout).
	Timeout time.Duration
	// OnFailure is the proxy's failure policy (default Deny); webhooks
	// ignore it.
	OnFailure Policy
}

// Config configures the hooks. A zero field means the default in its comment.
type Config struct {
	// Secret keys the HMAC-SHA256 signature of every request. Empty sends
	// no signature header (only for trusted networks).
	Secret []byte
	// Connect decides upgrades without a JWT.
	Connect Endpoint
	// Subscribe decides client subscription requests the policy refuses.
	Subscribe Endpoint
	// SubscribeCacheTTL is how long a granted or refused topic is reused
	// for the same user (default 60s; negative disables the cache).
	SubscribeCacheTTL time.Duration
	// SubscribeCacheSize bounds the cache's entries (default 100000).
	SubscribeCacheSize int
	// Publish receives client messages whose "t" is in PublishTypes; its
	// answer names a topic and the data published there.
	Publish      Endpoint
	PublishTypes []string
	// RPC receives client messages whose "t" is in RPCTypes; its answer is
	// sent back to the client.
	RPC      Endpoint
	RPCTypes []string
	// Disconnect is told when a user's last connection closed and the
	// user did not come back within Grace.
	Disconnect Endpoint
	// PresenceLeave is told when a user left a topic's presence and did
	// not rejoin it within Grace.
	PresenceLeave Endpoint
	// Grace delays both webhooks (default 5s; negative sends at once).
	Grace time.Duration
	// Timeout is the default Endpoint.Timeout (default 3s).
	Timeout time.Duration
	// Concurrency is the number of calls in flight per hook (default 64).
	Concurrency int
	// Queue is the number of calls per hook waiting for a slot (default 1024).
	Queue int
	// Retries is the number of retries of a failed webhook (default 5;
	// negative = none); RetryBase the first delay, growing 2x up to 30s
	// (default 500ms).
	Retries   int
	RetryBase time.Duration
	// MaxPendingWebhooks bounds the webhooks held for their grace period
	// or waiting for delivery; over it they are dropped, counted and
	// logged (default 10000).
	MaxPendingWebhooks int
	// WebhookWorkers is the number of delivery goroutines (default 4).
	WebhookWorkers int
	// MaxResponseBytes bounds a backend answer (default 1 MiB).
	MaxResponseBytes int64
	// Client makes the requests (default: a client with no redirects).
	Client *http.Client
	// Logger receives the failure lines (default: discarded).
	Logger *slog.Logger
}

// Enabled reports whether any hook has a URL.
func (c Config) Enabled() bool {
	for _, e := range c.endpoints() {
		if e.URL != "" {
			return true
		}
	}
	return false
}

// endpoints returns every endpoint by hook name.
func (c Config) endpoints() map[string]Endpoint {
	return map[string]Endpoint{
		hookConnect: c.Connect, hookSubscribe: c.Subscribe, hookPublish: c.Publish, hookRPC: c.RPC,
		hookDisconnect: c.Disconnect, hookPresenceLeave: c.PresenceLeave,
	}
}

// Hook names: the X-WSE-Hook header and the metrics' hook label.
const (
	hookConnect       = "connect"
	hookSubscribe     = "subscribe"
	hookPublish       = "publish"
	hookRPC           = "rpc"
	hookDisconnect    = "disconnect"
	hookPresenceLeave = "presence_leave"
)

// withDefaults applies the defaults and validates.
func (c Config) withDefaults() (Config, error) {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Queue == 0 {
		c.Queue = DefaultQueue
	}
	if c.Grace == 0 {
		c.Grace = DefaultGrace
	}
	if c.SubscribeCacheTTL == 0 {
		c.SubscribeCacheTTL = DefaultSubscribeCacheTTL
	}
	if c.SubscribeCacheSize == 0 {
		c.SubscribeCacheSize = DefaultSubscribeCacheSize
	}
	if c.Retries == 0 {
		c.Retries = DefaultRetries
	}
	if c.RetryBase == 0 {
		c.RetryBase = DefaultRetryBase
	}
	if c.MaxPendingWebhooks == 0 {
		c.MaxPendingWebhooks = DefaultMaxPendingWebhooks
	}
	if c.WebhookWorkers == 0 {
		c.WebhookWorkers = DefaultWebhookWorkers
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Client == nil {
		c.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	for _, e := range []*Endpoint{&c.Connect, &c.Subscribe, &c.Publish, &c.RPC, &c.Disconnect, &c.PresenceLeave} {
		if e.Timeout == 0 {
			e.Timeout = c.Timeout
		}
		if e.OnFailure == "" {
			e.OnFailure = Deny
		}
	}
	return c, c.validate()
}

// validate checks a Config that has its defaults.
func (c Config) validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
	}
	for name, e := range c.endpoints() {
		if e.URL != "" {
			u, err := url.Parse(e.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return bad(name, "URL %q is not an http(s) URL", e.URL)
			}
		}
		if e.Timeout < 0 {
			return bad(name, "negative timeout")
		}
		if e.OnFailure != Deny && e.OnFailure != Allow {
			return bad(name, "failure policy %q is not deny or allow", e.OnFailure)
		}
	}
	switch {
	case c.Concurrency < 0 || c.Queue < 0 || c.WebhookWorkers < 0 || c.MaxPendingWebhooks < 0 || c.SubscribeCacheSize < 0:
		return bad("Concurrency", "limits must not be negative")
	case c.MaxResponseBytes < 0:
		return bad("MaxResponseBytes", "must not be negative")
	case c.Publish.URL != "" && len(c.PublishTypes) == 0:
		return bad("PublishTypes", "the publish hook needs at least one message type")
	case c.RPC.URL != "" && len(c.RPCTypes) == 0:
		return bad("RPCTypes", "the rpc hook needs at least one message type")
	}
	seen := map[string]string{}
	for _, t := range c.PublishTypes {
		seen[t] = hookPublish
	}
	for _, t := range c.RPCTypes {
		if seen[t] != "" {
			return bad("RPCTypes", "type %q is also a publish type", t)
		}
	}
	return nil
}
