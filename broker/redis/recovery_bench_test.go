package redis_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wse-go/wse"
	redisbroker "github.com/wse-go/wse/broker/redis"
	"github.com/wse-go/wse/internal/redistest"
)

// benchNode starts an engine without auth, with recovery, on Redis at url
// ("" = no broker: the local ring alone).
func benchNode(b *testing.B, url string) *wse.Server {
	b.Helper()
	cfg := wse.Config{Port: -1, Recovery: wse.RecoveryConfig{Enabled: true, BufferSize: 1024, MaxMessages: 1000}}
	if url != "" {
		br, err := redisbroker.New(redisbroker.Config{URL: url})
		if err != nil {
			b.Fatal(err)
		}
		cfg.Broker = br
	}
	srv, err := wse.NewServer(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Stop)
	return srv
}

// drainedConn opens one WebSocket connection to srv whose frames are read
// and discarded, and returns its connection id.
func drainedConn(b *testing.B, srv *wse.Server) string {
	b.Helper()
	conn, _, _, err := ws.Dial(context.Background(), "ws://"+srv.Addr()+"/wse")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	go func() { _, _ = io.Copy(io.Discard, conn) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(srv.Connections()) == 0 {
		if time.Now().After(deadline) {
			b.Fatal("connection not registered")
		}
		time.Sleep(time.Millisecond)
	}
	return srv.Connections()[0]
}

// BenchmarkRecover500 measures one recovering subscription that replays
// 500 messages: from the local ring of a single node, and on a node of a
// Redis cluster that has no copy of the topic, from the Redis stream.
// Publishing the 500 messages is outside the timer.
func BenchmarkRecover500(b *testing.B) {
	const missed = 500
	rs := redistest.Start(b)
	for _, tc := range []struct {
		name string
		url  string
	}{{"ring", ""}, {"redis-stream", rs.URL()}} {
		b.Run(tc.name, func(b *testing.B) {
			pub := benchNode(b, tc.url)
			rec := pub
			if tc.url != "" {
				rec = benchNode(b, tc.url) // no subscriber of the topic yet: no copy
			}
			id := drainedConn(b, rec)
			msg := `{"t":"tick","p":{"s":"0123456789012345678901234567890123456789012345678901234567"}}`
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				topic := fmt.Sprintf("r%d-%d", i, time.Now().UnixNano())
				for range missed {
					if _, err := pub.Broadcast(topic, msg); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				res, err := rec.SubscribeWithRecovery(id, []string{topic}, map[string]wse.Position{topic: {Epoch: "-", Offset: 0}}, nil)
				if err != nil {
					b.Fatal(err)
				}
				if r := res[topic]; !r.Recovered || r.Count != missed {
					b.Fatalf("recovery %+v, want %d replayed", r, missed)
				}
				b.StopTimer()
				if err := rec.Unsubscribe(id, []string{topic}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(missed*b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
