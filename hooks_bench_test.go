package wse_test

import (
	"context"
	"testing"
	"time"

	"github.com/wse-go/wse"
)

// BenchmarkInboundMessageHooks measures the path of a client message that
// no hook handles, without hooks and with hooks set for other message
// types and for subscriptions: the hooks must cost it nothing measurable.
// Compare the two sub-benchmarks of one run.
func BenchmarkInboundMessageHooks(b *testing.B) {
	never := wse.Hooks{
		Connect: func(context.Context, wse.ConnectRequest) wse.ConnectDecision {
			return wse.ConnectDecision{Allow: true}
		},
		Subscribe:    func(_ wse.SubscribeRequest, done func([]string)) { done(nil) },
		MessageTypes: []string{"rpc_call", "chat_send", "order_place"},
		Message:      func(_ wse.MessageRequest, done func(wse.MessageResult)) { done(wse.MessageResult{}) },
	}
	for _, tc := range []struct {
		name  string
		hooks wse.Hooks
	}{{"no-hooks", wse.Hooks{}}, {"hooks-for-other-types", never}} {
		b.Run(tc.name, func(b *testing.B) {
			srv := startServer(b, wse.Config{Hooks: tc.hooks, RateLimitCapacity: 1e9, RateLimitRefill: 1e9})
			c, _ := ready(b, wsURL(srv, ""), nil)
			nextEvent(b, srv, wse.EventConnect)
			const batch = 256
			b.ReportAllocs()
			b.ResetTimer()
			for sent := 0; sent < b.N; sent += batch {
				n := min(batch, b.N-sent)
				for range n {
					c.send(`{"t":"note","p":{"text":"hello"}}`)
				}
				for got := 0; got < n; {
					got += len(srv.DrainInbound(n-got, 5*time.Second))
				}
			}
		})
	}
}
