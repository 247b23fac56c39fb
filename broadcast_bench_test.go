package wse_test

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wse-go/wse"
)

// countFrames reads server frames from r until it fails, adding one to n per
// data frame. It parses the (unmasked) headers itself and skips payloads
// without copying, so that the benchmark's allocations are the engine's.
func countFrames(r io.Reader, n *atomic.Int64) {
	br := bufio.NewReaderSize(r, 32<<10)
	for {
		h, err := br.Peek(2)
		if err != nil {
			return
		}
		op, size, hlen := ws.OpCode(h[0]&0x0F), int(h[1]&0x7F), 2
		switch size {
		case 126:
			hlen = 4
		case 127:
			hlen = 10
		}
		if hlen > 2 {
			if h, err = br.Peek(hlen); err != nil {
				return
			}
			size = 0
			for _, b := range h[2:hlen] {
				size = size<<8 | int(b)
			}
		}
		if _, err := br.Discard(hlen + size); err != nil {
			return
		}
		if op == ws.OpText || op == ws.OpBinary {
			n.Add(1)
		}
	}
}

// benchFanout publishes b.N messages to subs subscribers and reports
// deliveries per second, with or without recovery stamping, to plaintext or
// end-to-end encrypted connections.
func benchFanout(b *testing.B, subs int, recovery, encrypted bool) {
	srv := startServer(b, wse.Config{
		MaxConnections: subs + 10,
		Recovery:       wse.RecoveryConfig{Enabled: recovery, BufferSize: 1024},
	})
	var got atomic.Int64
	for range subs {
		var c *client
		var id string
		if encrypted {
			e := readyEncrypted(b, srv)
			c, id = e.client, e.id
		} else {
			var m map[string]any
			c, m = ready(b, wsURL(srv, ""), nil)
			id = connID(m)
		}
		if err := srv.Subscribe(id, []string{"bench"}, nil); err != nil {
			b.Fatal(err)
		}
		go countFrames(c.conn, &got)
	}
	msg := `{"t":"tick","p":{"s":"` + strings.Repeat("x", 60) + `"}}` // ~100 bytes on the wire
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := srv.Broadcast("bench", msg); err != nil {
			b.Fatal(err)
		}
	}
	want := int64(b.N) * int64(subs)
	deadline := time.Now().Add(60 * time.Second)
	for got.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("delivered %d of %d", got.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(want)/elapsed.Seconds(), "deliveries/s")
	m := srv.Metrics()
	b.ReportMetric(float64(m.MessagesSent)/float64(max(m.Writes, 1)), "frames/write")
}

// BenchmarkBroadcastFanout1K publishes to 1,000 subscribers over loopback.
func BenchmarkBroadcastFanout1K(b *testing.B) {
	for _, recovery := range []bool{false, true} {
		b.Run(fmt.Sprintf("recovery=%v", recovery), func(b *testing.B) { benchFanout(b, 1000, recovery, false) })
	}
	b.Run("encrypted", func(b *testing.B) { benchFanout(b, 1000, false, true) })
}

// BenchmarkClusterFanout1K publishes on node A to 1,000 subscribers on node
// B (one hop over a loopback cluster link); compare with
// BenchmarkBroadcastFanout1K/recovery=false, the same load on one node.
func BenchmarkClusterFanout1K(b *testing.B) {
	const subs = 1000
	cfg := wse.Config{MaxConnections: subs + 10}
	a, bn := startServer(b, cfg), startServer(b, cfg)
	if err := a.ConnectCluster(wse.ClusterConfig{NodeID: "a"}); err != nil {
		b.Fatal(err)
	}
	if err := bn.ConnectCluster(wse.ClusterConfig{NodeID: "b", Peers: []string{a.ClusterAddr()}}); err != nil {
		b.Fatal(err)
	}
	eventually(b, "link up", func() bool { return a.ClusterPeersCount() == 1 && bn.ClusterPeersCount() == 1 })
	var got atomic.Int64
	for range subs {
		c, m := ready(b, wsURL(bn, ""), nil)
		if err := bn.Subscribe(connID(m), []string{"bench"}, nil); err != nil {
			b.Fatal(err)
		}
		go countFrames(c.conn, &got)
	}
	// Wait until A routes the topic to B.
	eventually(b, "route from A to B", func() bool {
		_, _ = a.Broadcast("bench", `{"t":"warmup"}`)
		time.Sleep(20 * time.Millisecond)
		return got.Load() > 0
	})
	eventually(b, "warmups settled", func() bool {
		n := got.Load()
		time.Sleep(50 * time.Millisecond)
		return n == got.Load() && n%subs == 0
	})
	got.Store(0)
	msg := `{"t":"tick","p":{"s":"` + strings.Repeat("x", 60) + `"}}`
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := a.Broadcast("bench", msg); err != nil {
			b.Fatal(err)
		}
	}
	want := int64(b.N) * subs
	deadline := time.Now().Add(60 * time.Second)
	for got.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("delivered %d of %d (dropped %d)", got.Load(), want, a.HealthSnapshot().ClusterMessagesDropped)
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(want)/elapsed.Seconds(), "deliveries/s")
}

// BenchmarkQueueGroupDispatch publishes to a topic whose only audience is one
// queue group of 100 members over loopback, against a topic with one normal
// subscriber: both deliver one frame per publication, so the difference is
// the cost of choosing the member.
func BenchmarkQueueGroupDispatch(b *testing.B) {
	for _, group := range []bool{false, true} {
		b.Run(fmt.Sprintf("group=%v", group), func(b *testing.B) {
			srv := startServer(b, wse.Config{MaxConnections: 200})
			var got atomic.Int64
			members := 1
			if group {
				members = 100
			}
			for range members {
				c, m := ready(b, wsURL(srv, ""), nil)
				var err error
				if group {
					err = srv.SubscribeQueue(connID(m), []string{"bench"}, "workers")
				} else {
					err = srv.Subscribe(connID(m), []string{"bench"}, nil)
				}
				if err != nil {
					b.Fatal(err)
				}
				go countFrames(c.conn, &got)
			}
			msg := `{"t":"tick","p":{"s":"` + strings.Repeat("x", 60) + `"}}`
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := srv.Broadcast("bench", msg); err != nil {
					b.Fatal(err)
				}
			}
			deadline := time.Now().Add(60 * time.Second)
			for got.Load() < int64(b.N) {
				if time.Now().After(deadline) {
					b.Fatalf("delivered %d of %d", got.Load(), b.N)
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
}
