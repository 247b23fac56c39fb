// Command goapi is the Go-API counterpart of the binding's benchmark
// (bench.py): the same engine, configured as WSEServer configures it,
// driven from Go. It prints the address it listens on, then runs commands
// read from stdin, answering each with one JSON line:
//
//	depth                  {"depth": N}: events waiting
//	drain N                drain N events with DrainInbound(256, 50ms), reading
//	                       each message's "t": {"events", "seconds", "cpu_seconds"}
//	subscribe TOPIC        subscribe every connection to TOPIC: {"subscribed"}
//	broadcast K TOPIC      K Broadcast calls of a 100-byte message: {"calls", "seconds"}
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wse-go/wse"
)

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: goapi SECRET MAX_INBOUND_QUEUE")
	}
	queue, err := strconv.Atoi(os.Args[2])
	if err != nil {
		log.Fatal(err)
	}
	srv, err := wse.NewServer(wse.Config{
		Host: "127.0.0.1", Port: -1, MaxConnections: 5000, MaxInboundQueueSize: queue,
		JWT:                 wse.JWTConfig{Secret: []byte(os.Args[1])},
		ClientSubscriptions: wse.PolicyApp,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()
	fmt.Println(srv.Addr())
	out := json.NewEncoder(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "depth":
			_ = out.Encode(map[string]int{"depth": srv.InboundQueueDepth()})
		case "drain":
			n, _ := strconv.Atoi(f[1])
			_ = out.Encode(drain(srv, n))
		case "subscribe":
			ids := srv.Connections()
			for _, id := range ids {
				if err := srv.Subscribe(id, []string{f[1]}, nil); err != nil {
					log.Fatal(err)
				}
			}
			_ = out.Encode(map[string]int{"subscribed": len(ids)})
		case "broadcast":
			k, _ := strconv.Atoi(f[1])
			_ = out.Encode(broadcast(srv, k, f[2]))
		}
	}
}

// drain consumes n events as a Go application would, touching each
// message's type.
func drain(srv *wse.Server, n int) map[string]any {
	start, cpu0 := time.Now(), cpuSeconds()
	got, types := 0, 0
	for got < n {
		evs := srv.DrainInbound(256, 50*time.Millisecond)
		if len(evs) == 0 && time.Since(start) > time.Minute {
			break
		}
		for i := range evs {
			if t, ok := evs[i].Message["t"].(string); ok && t != "" {
				types++
			}
		}
		got += len(evs)
	}
	return map[string]any{"events": got, "messages": types, "seconds": time.Since(start).Seconds(),
		"cpu_seconds": cpuSeconds() - cpu0}
}

// cpuSeconds is the CPU time (user + system) of this process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// bench100 is the 100-byte message of the broadcast benchmark.
var bench100 = `{"t":"bench","p":{"b":"` + strings.Repeat("x", 100-26) + `"}}`

func broadcast(srv *wse.Server, k int, topic string) map[string]any {
	start := time.Now()
	for range k {
		if _, err := srv.Broadcast(topic, bench100); err != nil {
			log.Fatal(err)
		}
	}
	return map[string]any{"calls": k, "seconds": time.Since(start).Seconds()}
}
