package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// caller makes one hook's backend calls: signed JSON POSTs, at most
// Concurrency in flight and Queue waiting for a slot.
type caller struct {
	h       *Hooks
	name    string
	ep      Endpoint
	slots   chan struct{}
	waiting atomic.Int64
	queue   int64
}

func newCaller(h *Hooks, name string, ep Endpoint) *caller {
	if ep.URL == "" {
		return nil
	}
	return &caller{h: h, name: name, ep: ep, slots: make(chan struct{}, max(h.cfg.Concurrency, 1)), queue: int64(h.cfg.Queue)}
}

// acquire takes a call slot, waiting in the bounded queue until ctx ends.
func (c *caller) acquire(ctx context.Context) error {
	select {
	case c.slots <- struct{}{}:
		return nil
	default:
	}
	if c.waiting.Add(1) > c.queue {
		c.waiting.Add(-1)
		return ErrBusy
	}
	defer c.waiting.Add(-1)
	select {
	case c.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting for a free slot: %w", ErrBusy, ctx.Err())
	}
}

// call POSTs req as JSON and decodes the 2xx answer into out (nil: the
// answer is discarded). It blocks until the answer, the endpoint's timeout
// or ctx. Every call is counted, timed and, on failure, logged.
func (c *caller) call(ctx context.Context, req, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.ep.Timeout)
	defer cancel()
	start := time.Now()
	err := c.do(ctx, req, out)
	c.h.metrics.observe(c.name, time.Since(start), err)
	if err != nil {
		c.h.log.Warn("hook call failed", "hook", c.name, "url", c.ep.URL, "elapsed", time.Since(start).Round(time.Millisecond), "error", err)
	}
	return err
}

func (c *caller) do(ctx context.Context, req, out any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("hooks: encode %s request: %w", c.name, err)
	}
	if err := c.acquire(ctx); err != nil {
		return err
	}
	defer func() { <-c.slots }()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.ep.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("hooks: %s request: %w", c.name, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("User-Agent", "wse-server-hooks")
	hr.Header.Set(HeaderHook, c.name)
	if len(c.h.cfg.Secret) > 0 {
		ts := time.Now().Unix()
		hr.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
		hr.Header.Set(HeaderSignature, Sign(c.h.cfg.Secret, ts, body))
	}
	resp, err := c.h.cfg.Client.Do(hr)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBackend, err)
	}
	defer resp.Body.Close()
	limit := c.h.cfg.MaxResponseBytes
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	switch {
	case err != nil:
		return fmt.Errorf("%w: read answer: %w", ErrBackend, err)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return fmt.Errorf("%w: HTTP %d: %s", ErrBackend, resp.StatusCode, snippet(data))
	case int64(len(data)) > limit:
		return fmt.Errorf("%w: answer over %d bytes", ErrBackend, limit)
	case out == nil:
		return nil
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("%w: empty answer, want a JSON object", ErrBackend)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%w: answer is not the expected JSON object: %w", ErrBackend, err)
	}
	return nil
}

// async runs call on a goroutine owned by the Hooks and hands its error
// to done there; when the queue is full or the Hooks closed, done runs at
// once on the caller's goroutine.
func (c *caller) async(req, out any, done func(error)) {
	if !c.h.track() {
		done(ErrClosed)
		return
	}
	if len(c.slots) == cap(c.slots) && c.waiting.Load() >= c.queue {
		c.h.untrack()
		c.h.metrics.observe(c.name, 0, ErrBusy)
		c.h.log.Warn("hook call refused", "hook", c.name, "error", ErrBusy)
		done(ErrBusy)
		return
	}
	go func() {
		defer c.h.untrack()
		done(c.call(c.h.ctx, req, out))
	}()
}

// snippet returns the start of a body for a log line.
func snippet(b []byte) string {
	const n = 200
	if len(b) > n {
		return strconv.Quote(string(b[:n])) + "…"
	}
	return strconv.Quote(string(b))
}

// reason labels an error for the errors metric.
func reason(err error) string {
	switch {
	case errors.Is(err, ErrBusy):
		return "busy"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ErrClosed), errors.Is(err, context.Canceled):
		return "closed"
	}
	return "backend"
}
