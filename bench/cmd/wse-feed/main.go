// Command wse-feed is the publisher of the Python client benchmark
// (clients/python/bench_recv.py): it runs a WSE engine in-process with
// recovery on, prints its WebSocket URL, waits for -subscribers
// subscribers of -topic, publishes -n messages of about -size bytes as fast
// as the engine takes them, and exits after -linger or when stdin closes.
//
// The engine's outbound queue is large enough to hold every message, so
// the publisher is never the bottleneck: the receiving client's rate is
// what the benchmark measures.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/wse-go/wse"
)

func main() {
	n := flag.Int("n", 200_000, "messages to publish")
	size := flag.Int("size", 100, "approximate bytes of each published message before the recovery stamp")
	subs := flag.Int("subscribers", 1, "subscribers to wait for before publishing")
	topic := flag.String("topic", "bench", "topic to publish to")
	wait := flag.Duration("wait", 30*time.Second, "longest wait for the subscribers")
	linger := flag.Duration("linger", 120*time.Second, "longest run after publishing (stdin EOF ends it sooner)")
	flag.Parse()
	if err := run(*n, *size, *subs, *topic, *wait, *linger); err != nil {
		log.Fatalf("wse-feed: %v", err)
	}
}

// message returns a JSON message of about size bytes whose payload carries
// its sequence number.
func message(i, size int) string {
	head := fmt.Sprintf(`{"t":"tick","p":{"i":%d,"pad":"`, i)
	pad := size - len(head) - 3
	if pad < 0 {
		pad = 0
	}
	return head + strings.Repeat("x", pad) + `"}}`
}

func run(n, size, subs int, topic string, wait, linger time.Duration) error {
	srv, err := wse.NewServer(wse.Config{
		Port:                  0,
		ClientSubscriptions:   wse.PolicyAny,
		MaxOutboundQueueBytes: 1 << 30,
		Recovery:              wse.RecoveryConfig{Enabled: true},
	})
	if err != nil {
		return fmt.Errorf("new server: %w", err)
	}
	srv.EnableDrainMode()
	if err := srv.Start(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	defer srv.Stop()
	fmt.Printf("ws://%s/wse\n", srv.Addr())

	deadline := time.Now().Add(wait)
	for srv.TopicSubscriberCount(topic) < subs {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d subscribers after %v", srv.TopicSubscriberCount(topic), subs, wait)
		}
		srv.DrainInbound(256, 10*time.Millisecond)
	}
	start := time.Now()
	for i := 1; i <= n; i++ {
		if _, err := srv.Broadcast(topic, message(i, size)); err != nil {
			return fmt.Errorf("publish %d: %w", i, err)
		}
	}
	fmt.Printf("published %d in %v\n", n, time.Since(start).Round(time.Millisecond))

	done := make(chan struct{})
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString(0)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(linger):
	}
	return nil
}
