package hooks

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/protocol"
)

// Hooks calls the backend for the engine's decisions and sends the
// webhooks. Create it with New, give Engine() to the engine's
// Config.Hooks, feed it the engine's events with Observe, and Close it
// after the engine stopped.
type Hooks struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics

	connect, subscribe, publish, rpc *caller
	cache                            *subscribeCache
	webhooks                         *webhooks

	// ctx ends the calls in flight on Close.
	ctx    context.Context
	cancel context.CancelFunc
	// mu guards closed and orders track's wg.Add against Close's Wait.
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// New validates cfg, applies its defaults and starts the webhook workers.
func New(cfg Config) (*Hooks, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	h := &Hooks{cfg: cfg, log: cfg.Logger, metrics: newMetrics()}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.connect = newCaller(h, hookConnect, cfg.Connect)
	h.subscribe = newCaller(h, hookSubscribe, cfg.Subscribe)
	h.publish = newCaller(h, hookPublish, cfg.Publish)
	h.rpc = newCaller(h, hookRPC, cfg.RPC)
	if cfg.SubscribeCacheTTL > 0 {
		h.cache = newSubscribeCache(cfg.SubscribeCacheTTL, cfg.SubscribeCacheSize)
	}
	h.webhooks = newWebhooks(h)
	return h, nil
}

// track counts a goroutine Close waits for; false once closed.
func (h *Hooks) track() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(1)
	return true
}

func (h *Hooks) untrack() { h.wg.Done() }

// Close cancels the calls in flight, drops the webhooks not sent yet
// (logging how many) and waits for the Hooks' goroutines. Idempotent.
func (h *Hooks) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	h.mu.Unlock()
	h.cancel()
	h.webhooks.close()
	h.wg.Wait()
}

// Engine returns the engine seam for the configured proxies; unset hooks
// stay nil so the engine keeps its own decision for them.
func (h *Hooks) Engine() wse.Hooks {
	var e wse.Hooks
	if h.connect != nil {
		e.Connect = h.decideConnect
	}
	if h.subscribe != nil {
		e.Subscribe = h.decideSubscribe
	}
	if h.publish != nil || h.rpc != nil {
		e.Message = h.handleMessage
		if h.publish != nil {
			e.MessageTypes = append(e.MessageTypes, h.cfg.PublishTypes...)
		}
		if h.rpc != nil {
			e.MessageTypes = append(e.MessageTypes, h.cfg.RPCTypes...)
		}
	}
	return e
}

// CodeBackendUnavailable is the error code a client gets when a hook's
// backend failed under the deny policy (protocol.CodeBackendUnavailable).
const CodeBackendUnavailable = protocol.CodeBackendUnavailable

// CloseBackendUnavailable closes a connection whose connect hook failed
// under the deny policy; clients reconnect (protocol.CloseBackendUnavailable).
const CloseBackendUnavailable = protocol.CloseBackendUnavailable

// ConnectRequest is the body of the connect hook.
type ConnectRequest struct {
	ConnID     string              `json:"conn_id"`
	RemoteAddr string              `json:"remote_addr"`
	Path       string              `json:"path"`
	Query      map[string][]string `json:"query"`
	Headers    map[string]string   `json:"headers"`
	Cookies    map[string]string   `json:"cookies"`
}

// ConnectResponse is the connect hook's answer.
type ConnectResponse struct {
	// Allow lets the connection in; false (or absent) refuses it.
	Allow bool `json:"allow"`
	// UserID is the connection's user; empty keeps it anonymous.
	UserID string `json:"user_id"`
	// Topics are subscribed at once; Presence is the user's data in them.
	Topics   []string       `json:"topics"`
	Presence map[string]any `json:"presence"`
	// ACL is the connection's topic rules, as the JWT wse_topics claim.
	ACL *struct {
		Allow []string `json:"allow"`
		Deny  []string `json:"deny"`
	} `json:"acl"`
	// Code (default 4403) and Reason close a refused connection.
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// skippedHeaders are upgrade mechanics not passed to the connect hook;
// the Cookie header goes as cookies.
var skippedHeaders = map[string]bool{
	"Connection": true, "Upgrade": true, "Cookie": true,
	"Sec-Websocket-Key": true, "Sec-Websocket-Version": true, "Sec-Websocket-Extensions": true,
}

// connectRequestOf describes an upgrade for the backend.
func connectRequestOf(id string, r *http.Request) ConnectRequest {
	req := ConnectRequest{
		ConnID: id, RemoteAddr: r.RemoteAddr, Path: r.URL.Path, Query: r.URL.Query(),
		Headers: make(map[string]string, len(r.Header)), Cookies: map[string]string{},
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		req.RemoteAddr = host
	}
	for k, v := range r.Header {
		if !skippedHeaders[k] {
			req.Headers[k] = strings.Join(v, ", ")
		}
	}
	if r.Host != "" {
		req.Headers["Host"] = r.Host
	}
	for _, c := range r.Cookies() {
		req.Cookies[c.Name] = c.Value
	}
	return req
}

// decideConnect is the engine's Connect hook.
func (h *Hooks) decideConnect(ctx context.Context, r wse.ConnectRequest) wse.ConnectDecision {
	var resp ConnectResponse
	if err := h.connect.call(ctx, connectRequestOf(r.ConnID, r.Request), &resp); err != nil {
		if h.cfg.Connect.OnFailure == Allow {
			return wse.ConnectDecision{Allow: true}
		}
		return wse.ConnectDecision{CloseCode: CloseBackendUnavailable, ErrorCode: CodeBackendUnavailable, Reason: "authorization backend unavailable"}
	}
	d := wse.ConnectDecision{
		Allow: resp.Allow, UserID: resp.UserID, Topics: resp.Topics, Presence: resp.Presence,
		CloseCode: resp.Code, Reason: resp.Reason,
	}
	if resp.ACL != nil {
		d.AllowTopics, d.DenyTopics = resp.ACL.Allow, resp.ACL.Deny
		if d.AllowTopics == nil {
			d.AllowTopics = []string{}
		}
	}
	return d
}

// SubscribeRequest is the body of the subscribe hook.
type SubscribeRequest struct {
	ConnID string   `json:"conn_id"`
	UserID string   `json:"user_id"`
	Topics []string `json:"topics"`
}

// SubscribeResponse is the subscribe hook's answer: the topics granted;
// every other topic of the request is refused.
type SubscribeResponse struct {
	Granted []string `json:"granted"`
}

// decideSubscribe is the engine's Subscribe hook: cached answers first,
// the backend for the rest.
func (h *Hooks) decideSubscribe(r wse.SubscribeRequest, done func([]string)) {
	who := r.UserID
	if who == "" {
		who = "\x00" + r.ConnID
	}
	granted, ask := h.cache.lookup(who, r.Topics)
	h.metrics.cacheHits.Add(float64(len(r.Topics) - len(ask)))
	if len(ask) == 0 {
		done(granted)
		return
	}
	var resp SubscribeResponse
	h.subscribe.async(SubscribeRequest{ConnID: r.ConnID, UserID: r.UserID, Topics: ask}, &resp, func(err error) {
		if err != nil {
			if h.cfg.Subscribe.OnFailure == Allow {
				granted = append(granted, ask...)
			}
			done(granted)
			return
		}
		yes := make(map[string]bool, len(resp.Granted))
		for _, t := range resp.Granted {
			yes[t] = true
		}
		for _, t := range ask {
			h.cache.store(who, t, yes[t])
			if yes[t] {
				granted = append(granted, t)
			}
		}
		done(granted)
	})
}

// MessageRequest is the body of the publish and rpc hooks.
type MessageRequest struct {
	ConnID  string         `json:"conn_id"`
	UserID  string         `json:"user_id"`
	Type    string         `json:"type"`
	Message map[string]any `json:"message"`
}

// MessageResponse is the publish and rpc hooks' answer; any of its parts
// may be set.
type MessageResponse struct {
	// Topic and Data publish Data (a JSON object) to Topic across the
	// cluster; Data absent publishes the client's message.
	Topic string          `json:"topic"`
	Data  *map[string]any `json:"data"`
	// Reply is sent to the client; without "t" it gets the request's
	// type with "_result" appended.
	Reply map[string]any `json:"reply"`
	// Error sends the client an error message.
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// handleMessage is the engine's Message hook.
func (h *Hooks) handleMessage(r wse.MessageRequest, done func(wse.MessageResult)) {
	c := h.rpc
	policy := h.cfg.RPC.OnFailure
	if h.publish != nil && contains(h.cfg.PublishTypes, r.Type) {
		c, policy = h.publish, h.cfg.Publish.OnFailure
	}
	var resp MessageResponse
	c.async(MessageRequest{ConnID: r.ConnID, UserID: r.UserID, Type: r.Type, Message: r.Message}, &resp, func(err error) {
		if err != nil {
			if policy == Allow {
				done(wse.MessageResult{Pass: true})
				return
			}
			done(wse.MessageResult{ErrorCode: CodeBackendUnavailable, ErrorMessage: r.Type + ": backend unavailable"})
			return
		}
		done(resp.result(r))
	})
}

// result turns the answer into the engine's MessageResult.
func (m MessageResponse) result(r wse.MessageRequest) wse.MessageResult {
	var res wse.MessageResult
	if m.Topic != "" {
		data := r.Message
		if m.Data != nil {
			data = *m.Data
		}
		if text, err := jsonText(data); err == nil {
			res.Topic, res.Publish = m.Topic, text
		}
	}
	if m.Reply != nil {
		if _, ok := m.Reply["t"]; !ok {
			m.Reply["t"] = r.Type + "_result"
		}
		res.Reply = m.Reply
	}
	if m.Error != nil {
		res.ErrorCode, res.ErrorMessage = m.Error.Code, m.Error.Message
		if res.ErrorCode == "" {
			res.ErrorCode = "REFUSED"
		}
	}
	return res
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
