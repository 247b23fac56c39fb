// Command testapp is the WSE application the Python client's benchmark and
// tests run against when they need what the control API cannot do: it runs
// the engine in-process and prints its WebSocket URL on the first line.
//
//	testapp feed -n 200000 -size 100   # the receive benchmark's publisher
//	testapp feed -queue-bytes 65536    # … to a client that becomes a slow consumer
//	testapp echo                       # answers "echo_event" with SendEvent
//
// feed waits for -subscribers subscribers of -topic, publishes -n messages
// of about -size bytes (recovery on, so they are stamped) as fast as the
// engine takes them, then logs "testapp: disconnect <code>" on stderr for
// every connection that closes, until stdin closes or -linger passes. By
// default its outbound queue holds every message, so the publisher is never
// the bottleneck: the receiving client's rate is what is measured.
//
// echo answers every client message {"t":"echo_event","p":P} with
// SendEvent(conn, {"t":"event","p":P}): a binary frame of plain JSON, "C:" +
// zlib above the compression threshold, "M:" + MessagePack on
// format=msgpack connections, "E:" on encrypted ones. It runs until stdin
// closes.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/wse-go/wse"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("testapp: usage: testapp feed|echo [flags]")
	}
	var err error
	switch os.Args[1] {
	case "feed":
		err = feed(os.Args[2:])
	case "echo":
		err = echo(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		log.Fatalf("testapp: %v", err)
	}
}

// start runs an engine on a free loopback port and prints its URL.
func start(cfg wse.Config) (*wse.Server, error) {
	cfg.Port = 0
	srv, err := wse.NewServer(cfg)
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	srv.EnableDrainMode()
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	fmt.Printf("ws://%s/wse\n", srv.Addr())
	return srv, nil
}

// stdinClosed returns a channel closed when stdin reaches EOF.
func stdinClosed() <-chan struct{} {
	done := make(chan struct{})
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString(0)
		close(done)
	}()
	return done
}

// message returns a JSON message of about size bytes whose payload carries
// its sequence number.
func message(i, size int) string {
	head := fmt.Sprintf(`{"t":"tick","p":{"i":%d,"pad":"`, i)
	return head + strings.Repeat("x", max(0, size-len(head)-3)) + `"}}`
}

func feed(args []string) error {
	fs := flag.NewFlagSet("feed", flag.ExitOnError)
	n := fs.Int("n", 200_000, "messages to publish")
	size := fs.Int("size", 100, "approximate bytes of each message before the recovery stamp")
	subs := fs.Int("subscribers", 1, "subscribers to wait for before publishing")
	topic := fs.String("topic", "bench", "topic to publish to")
	wait := fs.Duration("wait", 30*time.Second, "longest wait for the subscribers")
	linger := fs.Duration("linger", 120*time.Second, "longest run after publishing")
	queue := fs.Int("queue-bytes", 1<<30, "outbound queue bound per connection (small: the client becomes a slow consumer)")
	buffer := fs.Int("buffer", 0, "recovery buffer size and largest replay (0 = the engine's defaults)")
	ping := fs.Duration("ping", 0, "ping interval, also the slow-consumer check period (0 = default)")
	_ = fs.Parse(args)
	srv, err := start(wse.Config{
		ClientSubscriptions:   wse.PolicyAny,
		MaxOutboundQueueBytes: *queue,
		PingInterval:          *ping,
		Recovery:              wse.RecoveryConfig{Enabled: true, BufferSize: *buffer, MaxMessages: *buffer},
	})
	if err != nil {
		return err
	}
	defer srv.Stop()
	deadline := time.Now().Add(*wait)
	for srv.TopicSubscriberCount(*topic) < *subs {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d subscribers after %v", srv.TopicSubscriberCount(*topic), *subs, *wait)
		}
		srv.DrainInbound(256, 10*time.Millisecond)
	}
	t0 := time.Now()
	for i := 1; i <= *n; i++ {
		if _, err := srv.Broadcast(*topic, message(i, *size)); err != nil {
			return fmt.Errorf("publish %d: %w", i, err)
		}
	}
	log.Printf("testapp: published %d in %v", *n, time.Since(t0).Round(time.Millisecond))
	done, end := stdinClosed(), time.After(*linger)
	for {
		select {
		case <-done:
			return nil
		case <-end:
			return nil
		default:
		}
		for _, ev := range srv.DrainInbound(256, 100*time.Millisecond) {
			if ev.Type == wse.EventDisconnect {
				log.Printf("testapp: disconnect %d", ev.CloseCode)
			}
		}
	}
}

func echo(args []string) error {
	fs := flag.NewFlagSet("echo", flag.ExitOnError)
	_ = fs.Parse(args)
	srv, err := start(wse.Config{ClientSubscriptions: wse.PolicyAny})
	if err != nil {
		return err
	}
	defer srv.Stop()
	done := stdinClosed()
	for {
		select {
		case <-done:
			return nil
		default:
		}
		for _, ev := range srv.DrainInbound(256, 100*time.Millisecond) {
			if ev.Type != wse.EventMessage || ev.Message["t"] != "echo_event" {
				continue
			}
			_, err := srv.SendEvent(ev.ConnID, map[string]any{"t": "event", "p": ev.Message["p"]})
			if err != nil && !errors.Is(err, wse.ErrUnknownConnection) {
				return fmt.Errorf("send event: %w", err)
			}
		}
	}
}
