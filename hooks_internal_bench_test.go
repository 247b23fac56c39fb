package wse

import "testing"

// BenchmarkHookTypeCheck isolates what the inbound path adds for a client
// message that no hook handles: a nil check without a Message hook, a type
// lookup with one set for other types.
func BenchmarkHookTypeCheck(b *testing.B) {
	msg := map[string]any{"t": "note", "p": map[string]any{"text": "hello"}}
	for _, tc := range []struct {
		name  string
		hooks Hooks
	}{
		{"no-hooks", Hooks{}},
		{"hooks-for-other-types", Hooks{
			MessageTypes: []string{"rpc_call", "chat_send", "order_place"},
			Message:      func(_ MessageRequest, done func(MessageResult)) { done(MessageResult{}) },
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := NewServer(Config{Hooks: tc.hooks, MaxInboundQueueSize: 1})
			if err != nil {
				b.Fatal(err)
			}
			c := &conn{id: "c1", srv: s}
			b.ReportAllocs()
			for b.Loop() {
				if s.hookTypes != nil && s.hookMessage(c, msg) {
					b.Fatal("a message of another type was hooked")
				}
			}
		})
	}
}
