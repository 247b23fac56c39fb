// Package peerserver holds the scaffolding shared by the benchmark's
// comparison servers (the Centrifuge peer and the raw floor): the
// loopback-only address check, the -maxtime watchdog, the /stats endpoint and
// the listen-and-serve loop with signal handling. Functions are safe for
// concurrent use; exiting is left to the caller's exit function so that only
// commands end the process.
package peerserver

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/wse-go/wse/bench/internal/wsclient"
)

// Guard refuses a non-loopback addr (exit code 2) and arms a watchdog that
// ends the process with code 3 after maxtime, whatever happens.
func Guard(name, addr string, maxtime time.Duration, exit func(int)) {
	if err := wsclient.CheckHostPort(addr); err != nil {
		fmt.Fprintf(os.Stderr, "%s: -addr: %v\n", name, err)
		exit(2)
		return
	}
	time.AfterFunc(maxtime, func() {
		fmt.Fprintf(os.Stderr, "%s: -maxtime %v reached, exiting\n", name, maxtime)
		exit(3)
	})
}

// WriteStats answers GET /stats: connections, subscribers, goroutines and
// heap/stack in use; ?gc=1 forces a GC and returns memory to the OS first.
func WriteStats(w http.ResponseWriter, r *http.Request, connections, subscribers int) {
	if r.URL.Query().Get("gc") == "1" {
		runtime.GC()
		debug.FreeOSMemory()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"connections": connections,
		"subscribers": subscribers,
		"goroutines":  runtime.NumGoroutine(),
		"heap_inuse":  ms.HeapInuse,
		"stack_inuse": ms.StackInuse,
	})
}

// Serve listens on addr, prints banner(bound address) on stdout, exits with
// code 0 on SIGTERM or SIGINT, and serves h until the listener fails.
func Serve(name, addr string, h http.Handler, banner func(net.Addr) string, exit func(int)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sig
		exit(0)
	}()
	fmt.Println(banner(ln.Addr()))
	if err := http.Serve(ln, h); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
