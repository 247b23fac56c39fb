//go:build integration

package wsconn

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// Environment of the idle memory test.
const (
	idleChildEnv = "WSE_IDLE_CHILD" // set in the child: its serving mode
	idleConnsEnv = "WSE_IDLE_CONNS" // connections to open; default 10000
	idleLifetime = 10 * time.Minute // the child exits after this whatever happens
)

// idleStats is the child's /stats answer.
type idleStats struct {
	Conns      int64  `json:"conns"`
	Goroutines int    `json:"goroutines"`
	HeapInuse  uint64 `json:"heap_inuse"`
	StackInuse uint64 `json:"stack_inuse"`
}

// noopHandler ignores input.
type noopHandler struct{}

func (noopHandler) OnMessage(*Conn, Opcode, []byte) {}
func (noopHandler) OnClose(*Conn, int, string)      {}

// TestIdleMemoryPerConnection measures the server's resident memory per idle
// connection: the test binary re-executes itself as a child server process,
// the parent opens WSE_IDLE_CONNS connections to it and reads the child's
// VmRSS before and after, with and without a forced GC. Run it with
// go test -tags integration -run Idle -v ./internal/wsconn/
func TestIdleMemoryPerConnection(t *testing.T) {
	if mode := os.Getenv(idleChildEnv); mode != "" {
		runIdleChild(t, mode)
		return
	}
	n := 10000
	if v := os.Getenv(idleConnsEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("bad %s=%q", idleConnsEnv, v)
		}
	}
	for _, mode := range []string{"epoll", "goroutine"} {
		t.Run(mode, func(t *testing.T) { measureIdle(t, mode, n) })
	}
}

// measureIdle runs one child in mode and logs its memory per connection.
func measureIdle(t *testing.T, mode string, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), idleLifetime)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestIdleMemoryPerConnection$", "-test.count=1")
	cmd.Env = append(os.Environ(), idleChildEnv+"="+mode)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = stdin.Close() // the child exits on EOF
		_ = cmd.Wait()
	}()
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
				addrc <- a
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(30 * time.Second):
		t.Fatal("child did not report its address")
	}
	pid := cmd.Process.Pid
	hc := &http.Client{Timeout: 30 * time.Second}
	stats := func(gc bool) idleStats {
		t.Helper()
		url := "http://" + addr + "/stats"
		if gc {
			url += "?gc=1"
		}
		resp, err := hc.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var s idleStats
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	stats(true)
	base := vmRSS(t, pid)

	start := time.Now()
	conns := dialIdle(t, "ws://"+addr+"/ws", n)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for stats(false).Conns < int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("child holds %d of %d connections", stats(false).Conns, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	connected := time.Since(start)
	// Let the handshake garbage settle as the bake-off did (5 s) before the
	// first sample; this is a measurement method, not synchronization.
	time.Sleep(5 * time.Second)
	before := vmRSS(t, pid)
	s := stats(true)
	after := vmRSS(t, pid)
	perConn := func(rss uint64) float64 { return float64(rss-base) / float64(n) / 1024 }
	t.Logf("%s: %d conns in %v; baseline RSS %.1f MiB; RSS/conn %.2f KiB, after forced GC %.2f KiB; "+
		"goroutines %d; Go heap+stack/conn %.2f KiB",
		mode, n, connected.Round(time.Millisecond), float64(base)/(1<<20), perConn(before), perConn(after),
		s.Goroutines, float64(s.HeapInuse+s.StackInuse)/float64(n)/1024)
}

// dialIdle opens n WebSocket connections to url with 64 dialers.
func dialIdle(t *testing.T, url string, n int) []net.Conn {
	conns := make([]net.Conn, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || firstErr.Load() != nil {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				c, br, _, err := ws.Dialer{}.Dial(ctx, url)
				cancel()
				if err != nil {
					firstErr.CompareAndSwap(nil, fmt.Errorf("dial %d: %w", i, err))
					return
				}
				if br != nil {
					ws.PutReader(br)
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
		t.Fatal(err)
	}
	return conns
}

// vmRSS returns the resident set size of process pid in bytes.
func vmRSS(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb * 1024
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// runIdleChild is the child server: it serves /ws (upgrade, then an Engine in
// mode "epoll", or a detached reader goroutine per connection in mode
// "goroutine") and /stats, prints its address, and exits when stdin closes.
func runIdleChild(t *testing.T, mode string) {
	e, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	var goConns atomic.Int64
	ready := BuildFrame(OpText, []byte(`{"t":"server_ready"}`))
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		nc, buf, err := Upgrade(w, r)
		if err != nil {
			return
		}
		if mode == "epoll" {
			_, _ = e.Adopt(nc, noopHandler{}, AdoptOptions{Buffered: buf, Initial: ready})
			return
		}
		goConns.Add(1)
		go func() { // the bake-off's "raw + detach" floor
			defer goConns.Add(-1)
			defer nc.Close()
			if _, err := nc.Write(ready); err != nil {
				return
			}
			b := make([]byte, 128)
			for {
				if _, err := nc.Read(b); err != nil {
					return
				}
			}
		}()
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") == "1" {
			runtime.GC()
			debug.FreeOSMemory()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		_ = json.NewEncoder(w).Encode(idleStats{
			Conns:      e.Stats().Conns + goConns.Load(),
			Goroutines: runtime.NumGoroutine(),
			HeapInuse:  ms.HeapInuse,
			StackInuse: ms.StackInuse,
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	fmt.Printf("ADDR %s\n", ln.Addr())
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(idleLifetime):
	}
}
