// Command feed is the message source of the TypeScript client's receive
// benchmark (clients/ts/bench/throughput.mjs). It runs a WSE engine with
// recovery on, on loopback, and waits for clients. A client that sends
// {"t":"start","p":{"n":N,"size":S,"window":W}} gets N publications of S
// bytes (before the recovery stamp) on topic "bench", published as fast as
// it reads them: at most W messages ahead of the last
// {"t":"ack","p":{"n":received}} it sent. It prints "feed: ws://…" when
// listening and exits after -maxtime whatever happens.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wse-go/wse"
)

// topic is the one topic the feed publishes to.
const topic = "bench"

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only; port 0 = any free port)")
	maxtime := flag.Duration("maxtime", 10*time.Minute, "exit after this long, whatever happens")
	flag.Parse()
	host, portText, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("feed: -addr %q must be a loopback host:port", *addr)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		log.Fatalf("feed: -addr %q: bad port", *addr)
	}
	if port == 0 {
		port = -1 // wse.Config: -1 picks a free port
	}
	srv, err := wse.NewServer(wse.Config{
		Host: host, Port: port,
		ClientSubscriptions: wse.PolicyAny,
		Recovery:            wse.RecoveryConfig{Enabled: true},
	})
	if err != nil {
		log.Fatalf("feed: %v", err)
	}
	srv.EnableDrainMode()
	if err := srv.Start(); err != nil {
		log.Fatalf("feed: start: %v", err)
	}
	defer srv.Stop()
	fmt.Printf("feed: ws://%s/wse\n", srv.Addr())
	time.AfterFunc(*maxtime, func() {
		log.Print("feed: -maxtime reached")
		os.Exit(1)
	})

	var mu sync.Mutex
	acked := map[string]*atomic.Int64{}
	for {
		for _, ev := range srv.DrainInbound(256, 100*time.Millisecond) {
			if ev.Type != wse.EventMessage {
				continue
			}
			p, _ := ev.Message["p"].(map[string]any)
			switch ev.Message["t"] {
			case "ack":
				mu.Lock()
				if a := acked[ev.ConnID]; a != nil {
					a.Store(int64(num(p, "n", 0)))
				}
				mu.Unlock()
			case "start":
				a := new(atomic.Int64)
				mu.Lock()
				acked[ev.ConnID] = a
				mu.Unlock()
				go feed(srv, a, num(p, "n", 100_000), num(p, "size", 100), num(p, "window", 20_000))
			}
		}
	}
}

// num reads a positive integer field of a payload, or def.
func num(p map[string]any, key string, def int) int {
	if v, ok := p[key].(float64); ok && v > 0 && v < 1e9 {
		return int(v)
	}
	return def
}

// feed publishes n messages of about size bytes, at most window ahead of the
// receiver's acknowledgements.
func feed(srv *wse.Server, acked *atomic.Int64, n, size, window int) {
	head := `{"t":"tick","p":{"n":`
	for i := 1; i <= n; i++ {
		for int64(i)-acked.Load() > int64(window) {
			time.Sleep(20 * time.Microsecond)
		}
		body := head + strconv.Itoa(i) + `,"pad":"`
		pad := max(0, size-len(body)-3)
		msg := body + strings.Repeat("x", pad) + `"}}`
		if _, err := srv.Broadcast(topic, msg); err != nil {
			log.Printf("feed: publish %d: %v", i, err)
			return
		}
	}
}
