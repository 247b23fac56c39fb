package wse_test

import (
	"testing"

	"github.com/wse-go/wse"
)

// BenchmarkBroadcastNoSubscribers is the publish path alone (validation,
// category injection, the hub lookup, the metrics it records) with nobody
// to deliver to: what per-publication instrumentation costs shows here
// first.
func BenchmarkBroadcastNoSubscribers(b *testing.B) {
	srv := startServer(b, wse.Config{})
	msg := `{"t":"tick","p":{"px":1}}`
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := srv.Broadcast("bench", msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBroadcastFanout1 publishes to one subscriber over loopback.
func BenchmarkBroadcastFanout1(b *testing.B) { benchFanout(b, 1, false, false) }
