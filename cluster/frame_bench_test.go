package cluster

import (
	"bufio"
	"bytes"
	"fmt"
	"testing"
	"time"
)

func BenchmarkFrameEncode(b *testing.B) {
	payload := bytes.Repeat([]byte("x"), 256)
	b.ReportAllocs()
	b.SetBytes(int64(frameOverhead + len("chat.room.42") + len(payload)))
	buf := make([]byte, 0, 512)
	for b.Loop() {
		buf = appendFrame(buf[:0], frameMsg, 0, "chat.room.42", payload)
	}
}

func BenchmarkFrameDecode(b *testing.B) {
	frame := encodeFrame(frameMsg, 0, "chat.room.42", bytes.Repeat([]byte("x"), 256))
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	r := bytes.NewReader(frame)
	br := bufio.NewReader(r)
	for b.Loop() {
		r.Reset(frame)
		br.Reset(r)
		if _, _, err := readFrame(br, DefaultMaxFrameSize); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublishLoopback measures Publish throughput over one loopback
// link: frames per second delivered to the peer's delegate.
func BenchmarkPublishLoopback(b *testing.B) {
	for _, size := range []int{64, 1024} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			cfg := testConfig()
			cfg.Heartbeat, cfg.DeadAfter = time.Second, 10*time.Second
			da, db := newTestDelegate(), &countingDelegate{testDelegate: newTestDelegate()}
			a := startNode(b, cfg, da)
			cfg.Peers = []string{a.Addr()}
			n := startNode(b, cfg, db)
			subscribe(n, db.testDelegate, "bench", true)
			eventually(b, 5*time.Second, "interest", func() bool { return wantsFrom(a, n.ID(), "bench") })
			payload := bytes.Repeat([]byte("x"), size)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			sent := 0
			start := time.Now()
			for b.Loop() {
				for try := 0; a.Publish("bench", payload) == 0; try++ {
					// Queue full: let the writer catch up (counted as dropped).
					if try == 100000 {
						b.Fatal("queue stays full")
					}
					time.Sleep(10 * time.Microsecond)
				}
				sent++
			}
			eventually(b, 30*time.Second, "all delivered", func() bool { return db.count.Load() >= int64(sent) })
			b.ReportMetric(float64(sent)/time.Since(start).Seconds(), "frames/s")
			b.ReportMetric(float64(a.Stats().MessagesDropped), "dropped")
			db.count.Store(0)
		})
	}
}
