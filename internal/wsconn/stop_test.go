package wsconn

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// engineGoroutines counts goroutines running Engine loops.
func engineGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "wsconn.(*poller).run") || strings.Contains(g, "wsconn.(*flusher).run") ||
			strings.Contains(g, "wsconn.(*closeTimer).run") {
			n++
		}
	}
	return n
}

// TestStopLeavesNoGoroutines is not parallel: it counts goroutines.
func TestStopLeavesNoGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	e, err := NewEngine(Config{Pollers: 2, Flushers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "engine goroutines to start", func() bool { return engineGoroutines() == 2+3+1 })
	rec := newRecorder(false)
	s := serveEngine(t, e, rec, AdoptOptions{})
	const n = 20
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = s.dial(t)
		_ = s.nextConn(t)
	}
	_ = s.srv.Close()
	e.Stop()
	e.Stop() // idempotent
	if got := engineGoroutines(); got != 0 {
		t.Fatalf("%d engine goroutines after Stop", got)
	}
	for range n {
		if ev := rec.waitClose(t); ev.code != CloseAbnormal {
			t.Fatalf("OnClose code %d, want 1006", ev.code)
		}
	}
	for _, cl := range clients {
		cl.expectEOF(t)
		_ = cl.Close()
	}
	if st := e.Stats(); st.Conns != 0 || st.Closed != n {
		t.Fatalf("Conns %d Closed %d after Stop", st.Conns, st.Closed)
	}
	eventually(t, 5*time.Second, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= base })
}
