package hooks

import (
	"sync"
	"time"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/internal/backoff"
)

// DisconnectWebhook is the body of the disconnect webhook: the user's last
// connection closed and the user did not come back within the grace period.
type DisconnectWebhook struct {
	Event  string `json:"event"`
	ConnID string `json:"conn_id"`
	UserID string `json:"user_id"`
	Code   int    `json:"code"`
	// TimeMS is when the connection closed (Unix milliseconds).
	TimeMS int64 `json:"time_ms"`
}

// PresenceLeaveWebhook is the body of the presence_leave webhook: the user
// left a topic's presence and did not rejoin it within the grace period.
type PresenceLeaveWebhook struct {
	Event  string `json:"event"`
	Topic  string `json:"topic"`
	UserID string `json:"user_id"`
	Data   any    `json:"data"`
	// TimeMS is when the user left (Unix milliseconds).
	TimeMS int64 `json:"time_ms"`
}

// webhooks holds the webhooks in their grace period and delivers them.
type webhooks struct {
	h                         *Hooks
	disconnect, presenceLeave *caller
	queue                     chan delivery
	stop                      chan struct{}

	// mu guards the fields below.
	mu sync.Mutex
	// conns counts each user's open connections, from the events.
	conns map[string]int
	// pending are the webhooks in their grace period, by key.
	pending map[string]*time.Timer
	closed  bool
}

// delivery is one webhook to send.
type delivery struct {
	c    *caller
	body any
}

func newWebhooks(h *Hooks) *webhooks {
	w := &webhooks{
		h:             h,
		disconnect:    newCaller(h, hookDisconnect, h.cfg.Disconnect),
		presenceLeave: newCaller(h, hookPresenceLeave, h.cfg.PresenceLeave),
		queue:         make(chan delivery, max(h.cfg.MaxPendingWebhooks, 1)),
		stop:          make(chan struct{}),
		conns:         make(map[string]int),
		pending:       make(map[string]*time.Timer),
	}
	if w.disconnect == nil && w.presenceLeave == nil {
		return w
	}
	for range max(h.cfg.WebhookWorkers, 1) {
		if h.track() {
			go func() {
				defer h.untrack()
				w.deliver()
			}()
		}
	}
	return w
}

// Observe feeds the Hooks an engine event: connects cancel the user's
// pending disconnect webhook, disconnects and presence leaves start one.
// It never blocks.
func (h *Hooks) Observe(ev wse.Event) { h.webhooks.observe(ev) }

func (w *webhooks) observe(ev wse.Event) {
	switch ev.Type {
	case wse.EventConnect, wse.EventAuthConnect:
		if w.disconnect != nil && ev.UserID != "" {
			w.mu.Lock()
			w.conns[ev.UserID]++
			w.mu.Unlock()
			w.cancel(hookDisconnect, "d\x00"+ev.UserID)
		}
	case wse.EventDisconnect:
		if w.disconnect == nil {
			return
		}
		key := "c\x00" + ev.ConnID // an anonymous connection cannot come back
		if ev.UserID != "" {
			key = "d\x00" + ev.UserID
			w.mu.Lock()
			if w.conns[ev.UserID]--; w.conns[ev.UserID] <= 0 {
				delete(w.conns, ev.UserID)
			} else {
				w.mu.Unlock()
				return // the user still has a connection
			}
			w.mu.Unlock()
		}
		w.schedule(key, delivery{w.disconnect, DisconnectWebhook{
			Event: hookDisconnect, ConnID: ev.ConnID, UserID: ev.UserID, Code: ev.CloseCode, TimeMS: time.Now().UnixMilli(),
		}})
	case wse.EventPresenceJoin:
		if w.presenceLeave != nil && ev.Presence != nil {
			w.cancel(hookPresenceLeave, "p\x00"+ev.Presence.Topic+"\x00"+ev.Presence.UserID)
		}
	case wse.EventPresenceLeave:
		if w.presenceLeave == nil || ev.Presence == nil {
			return
		}
		p := ev.Presence
		var data any
		if len(p.Data) > 0 {
			data = p.Data
		}
		w.schedule("p\x00"+p.Topic+"\x00"+p.UserID, delivery{w.presenceLeave, PresenceLeaveWebhook{
			Event: hookPresenceLeave, Topic: p.Topic, UserID: p.UserID, Data: data, TimeMS: time.Now().UnixMilli(),
		}})
	}
}

// cancel drops the pending webhook key, if any.
func (w *webhooks) cancel(hook, key string) {
	w.mu.Lock()
	t, ok := w.pending[key]
	if ok && t.Stop() {
		delete(w.pending, key)
	} else {
		ok = false
	}
	w.mu.Unlock()
	if ok {
		w.h.metrics.webhooks.WithLabelValues(hook, "cancelled").Inc()
	}
}

// schedule holds d for the grace period under key, replacing an older
// webhook of the same key, then queues it for delivery.
func (w *webhooks) schedule(key string, d delivery) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if old, ok := w.pending[key]; ok && old.Stop() {
		delete(w.pending, key)
	}
	if len(w.pending)+len(w.queue) >= w.h.cfg.MaxPendingWebhooks {
		w.h.metrics.webhooks.WithLabelValues(d.c.name, "dropped").Inc()
		w.h.log.Warn("webhook dropped: too many pending", "hook", d.c.name, "limit", w.h.cfg.MaxPendingWebhooks)
		return
	}
	if w.h.cfg.Grace < 0 {
		w.enqueueLocked(d)
		return
	}
	var t *time.Timer
	t = time.AfterFunc(w.h.cfg.Grace, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.pending[key] != t {
			return // replaced or cancelled meanwhile
		}
		delete(w.pending, key)
		w.enqueueLocked(d)
	})
	w.pending[key] = t
}

// enqueueLocked hands d to the delivery workers; w.mu must be held.
func (w *webhooks) enqueueLocked(d delivery) {
	if w.closed {
		return
	}
	select {
	case w.queue <- d:
	default:
		w.h.metrics.webhooks.WithLabelValues(d.c.name, "dropped").Inc()
		w.h.log.Warn("webhook dropped: delivery queue full", "hook", d.c.name)
	}
}

// deliver sends queued webhooks, retrying each with backoff, until close.
func (w *webhooks) deliver() {
	policy := backoff.Policy{Base: w.h.cfg.RetryBase, Factor: 2, Max: 30 * time.Second}
	for {
		select {
		case <-w.stop:
			return
		case d := <-w.queue:
			w.send(d, policy)
		}
	}
}

// send makes one webhook's attempts.
func (w *webhooks) send(d delivery, policy backoff.Policy) {
	for attempt := 0; ; attempt++ {
		err := d.c.call(w.h.ctx, d.body, nil)
		if err == nil {
			w.h.metrics.webhooks.WithLabelValues(d.c.name, "sent").Inc()
			return
		}
		if attempt >= w.h.cfg.Retries {
			w.h.metrics.webhooks.WithLabelValues(d.c.name, "failed").Inc()
			w.h.log.Error("webhook failed, giving up", "hook", d.c.name, "attempts", attempt+1, "error", err)
			return
		}
		t := time.NewTimer(policy.Delay(attempt))
		select {
		case <-t.C:
		case <-w.stop:
			t.Stop()
			return
		}
	}
}

// close stops the grace timers and the workers; webhooks not sent are
// dropped and logged.
func (w *webhooks) close() {
	w.mu.Lock()
	w.closed = true
	n := len(w.queue)
	for k, t := range w.pending {
		if t.Stop() {
			n++
		}
		delete(w.pending, k)
	}
	w.mu.Unlock()
	close(w.stop)
	if n > 0 {
		w.h.log.Warn("webhooks not sent at shutdown", "count", n)
	}
}
