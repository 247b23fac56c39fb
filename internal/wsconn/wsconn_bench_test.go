package wsconn

import (
	"bytes"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"
)

// cpuTime returns the CPU time used by this process (server and clients).
func cpuTime() time.Duration {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fanoutClients dials n clients to s and starts a reader per client that
// counts received frames of frameLen bytes in *received, signalling done when
// the count reaches *target. Readers stop when the clients close.
func fanoutClients(b *testing.B, s *testServer, n, frameLen int, received, target *atomic.Int64, done chan<- struct{}) {
	b.Helper()
	for range n {
		cl := s.dial(b)
		_ = cl.SetDeadline(time.Time{})
		go func() {
			buf := make([]byte, 32<<10)
			var carry int
			for {
				k, err := cl.r.Read(buf)
				if err != nil {
					return
				}
				carry += k
				frames := carry / frameLen
				carry -= frames * frameLen
				if frames > 0 && received.Add(int64(frames)) == target.Load() {
					done <- struct{}{}
				}
			}
		}()
	}
}

// BenchmarkFanout1K enqueues one 100-byte frame to 1,000 loopback connections
// per op and waits until every client has received it.
func BenchmarkFanout1K(b *testing.B) { benchFanout(b, 1) }

// BenchmarkFanout1KBurst10 is BenchmarkFanout1K with 10 frames per connection
// per op: the backlog case that coalescing serves.
func BenchmarkFanout1KBurst10(b *testing.B) { benchFanout(b, 10) }

// BenchmarkFanout1KRawWrite is the floor BenchmarkFanout1K is compared with:
// the same clients and frames, written with net.Conn.Write by GOMAXPROCS
// goroutines, one connection after the other (the fan-out of
// goroutine-per-connection servers).
func BenchmarkFanout1KRawWrite(b *testing.B) { benchRawFanout(b, 1) }

// BenchmarkFanout1KRawWriteBurst10 is the floor for BenchmarkFanout1KBurst10.
func BenchmarkFanout1KRawWriteBurst10(b *testing.B) { benchRawFanout(b, 10) }

// benchFanout enqueues burst frames to each of 1,000 connections per op and
// waits until all have arrived.
func benchFanout(b *testing.B, burst int) {
	const n = 1000
	s := startServer(b, Config{}, newRecorder(false), AdoptOptions{})
	frame := BuildFrame(OpText, bytes.Repeat([]byte{'x'}, 100))
	var received, target atomic.Int64
	done := make(chan struct{}, 1)
	fanoutClients(b, s, n, len(frame), &received, &target, done)
	conns := make([]*Conn, n)
	for i := range conns {
		conns[i] = s.nextConn(b)
	}
	before := s.e.Stats()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		target.Store(int64(i+1) * n * int64(burst))
		for range burst {
			for _, c := range conns {
				if err := c.Enqueue(frame); err != nil {
					b.Fatal(err)
				}
			}
		}
		select {
		case <-done:
		case <-time.After(testTimeout):
			b.Fatalf("op %d: %d of %d frames received", i, received.Load(), target.Load())
		}
	}
	b.StopTimer()
	cpu = cpuTime() - cpu
	after := s.e.Stats()
	b.ReportMetric(float64(received.Load())/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(received.Load()), "cpu-µs/delivery")
	if w := after.Writes - before.Writes; w > 0 {
		b.ReportMetric(float64(after.FramesOut-before.FramesOut)/float64(w), "frames/write")
	}
}

// benchRawFanout is benchFanout with net.Conn.Write on plain connections.
func benchRawFanout(b *testing.B, burst int) {
	const n = 1000
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	s := &testServer{addr: ln.Addr().String(), url: "ws://" + ln.Addr().String() + "/"}
	accepted := make(chan net.Conn, n)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	frame := BuildFrame(OpText, bytes.Repeat([]byte{'x'}, 100))
	var received, target atomic.Int64
	done := make(chan struct{}, 1)
	conns := make([]net.Conn, 0, n)
	for range n {
		// Upgrade by hand: the server side is a plain net.Conn.
		errc := make(chan error, 1)
		go func() {
			c := <-accepted
			_, err := ws.Upgrade(c)
			conns = append(conns, c)
			errc <- err
		}()
		fanoutClients(b, s, 1, len(frame), &received, &target, done)
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	shards := runtime.GOMAXPROCS(0)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		target.Store(int64(i+1) * n * int64(burst))
		for range burst {
			var wg sync.WaitGroup
			for k := range shards {
				wg.Go(func() {
					for j := k; j < n; j += shards {
						if _, err := conns[j].Write(frame); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
		}
		select {
		case <-done:
		case <-time.After(testTimeout):
			b.Fatalf("op %d: %d of %d frames received", i, received.Load(), target.Load())
		}
	}
	b.StopTimer()
	cpu = cpuTime() - cpu
	b.ReportMetric(float64(received.Load())/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(received.Load()), "cpu-µs/delivery")
}

// BenchmarkParse measures the frame parser on client traffic.
func BenchmarkParse(b *testing.B) {
	cases := []struct {
		name    string
		op      Opcode
		size    int
		perRead int
	}{
		{name: "binary-100B", op: OpBinary, size: 100, perRead: 500},
		{name: "text-100B", op: OpText, size: 100, perRead: 500},
		{name: "binary-64KiB", op: OpBinary, size: 64 << 10, perRead: 1},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var stream []byte
			for range tc.perRead {
				stream = append(stream, clientFrame(true, tc.op, bytes.Repeat([]byte{'a'}, tc.size), 0, false)...)
			}
			pristine := append([]byte(nil), stream...)
			p := parser{max: DefaultMaxMessageSize}
			s := &countSink{}
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			for b.Loop() {
				if tc.op == OpText {
					copy(stream, pristine) // unmasking in place would break UTF-8
				}
				if fail := p.feed(stream, s); fail != 0 {
					b.Fatalf("close code %d", fail)
				}
			}
			if s.n == 0 {
				b.Fatal("no frames")
			}
		})
	}
}

// countSink counts frames.
type countSink struct{ n int }

func (s *countSink) frame(Opcode, []byte) bool {
	s.n++
	return true
}
