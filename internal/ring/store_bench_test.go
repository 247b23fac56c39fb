package ring

import (
	"fmt"
	"runtime"
	"testing"
)

// payload100 is a 100-byte message.
var payload100 = func() []byte {
	b := make([]byte, 100)
	for i := range b {
		b[i] = 'x'
	}
	return b
}()

func BenchmarkAppend(b *testing.B) {
	stamp := func(string, uint64) []byte { return payload100 }
	for _, nTopics := range []int{1, 1000} {
		b.Run(fmt.Sprintf("topics=%d", nTopics), func(b *testing.B) {
			s, err := NewStore(Config{})
			if err != nil {
				b.Fatal(err)
			}
			topics := benchTopics(nTopics)
			b.SetBytes(int64(len(payload100)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s.Append(topics[i%nTopics], stamp)
				i++
			}
		})
	}
	b.Run("parallel/topics=64", func(b *testing.B) {
		s, err := NewStore(Config{})
		if err != nil {
			b.Fatal(err)
		}
		topics := benchTopics(64)
		b.SetBytes(int64(len(payload100)))
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				s.Append(topics[i%len(topics)], stamp)
				i++
			}
		})
	})
	b.Run("stamp-allocates", func(b *testing.B) {
		s, err := NewStore(Config{})
		if err != nil {
			b.Fatal(err)
		}
		stampCopy := func(string, uint64) []byte { return append([]byte(nil), payload100...) }
		b.SetBytes(int64(len(payload100)))
		b.ReportAllocs()
		for b.Loop() {
			s.Append("t", stampCopy)
		}
	})
}

func BenchmarkRecover(b *testing.B) {
	s, err := NewStore(Config{})
	if err != nil {
		b.Fatal(err)
	}
	var epoch string
	for range 256 {
		_, epoch, _ = s.Append("t", func(string, uint64) []byte { return payload100 })
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := s.Recover("t", epoch, 156, nil); len(r.Msgs) != 100 {
			b.Fatalf("replayed %d messages, want 100", len(r.Msgs))
		}
	}
}

// BenchmarkStoredBytesPerMessage fills 1000 full buffers of 256 slots with
// 100-byte messages and reports the heap bytes per stored message: "B/msg"
// with every message freshly allocated (as the engine's stamp does), and
// "store-B/msg" for the Store's own overhead (all slots share one payload).
func BenchmarkStoredBytesPerMessage(b *testing.B) {
	const topics, perTopic = 1000, 256
	for _, tc := range []struct {
		name, unit string
		stamp      func(string, uint64) []byte
	}{
		{"fresh-payload", "B/msg", func(string, uint64) []byte { return append([]byte(nil), payload100...) }},
		{"shared-payload", "store-B/msg", func(string, uint64) []byte { return payload100 }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			names := benchTopics(topics)
			var perMsg float64
			for b.Loop() {
				before := heapAlloc()
				s, err := NewStore(Config{BufferSize: perTopic})
				if err != nil {
					b.Fatal(err)
				}
				for _, topic := range names {
					for range perTopic {
						s.Append(topic, tc.stamp)
					}
				}
				perMsg = float64(heapAlloc()-before) / (topics * perTopic)
				runtime.KeepAlive(s)
			}
			b.ReportMetric(perMsg, tc.unit)
		})
	}
}

func heapAlloc() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

func benchTopics(n int) []string {
	topics := make([]string, n)
	for i := range topics {
		topics[i] = fmt.Sprintf("topic-%d", i)
	}
	return topics
}
