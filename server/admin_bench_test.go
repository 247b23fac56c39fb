package server

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// BenchmarkAdminSnapshot measures GET /api/admin/snapshot, what an open
// dashboard costs the server every second, with 5,000 connections in 100
// presence topics.
func BenchmarkAdminSnapshot(b *testing.B) {
	const conns, topics = 5000, 100
	cfg := DefaultConfig()
	cfg.Port, cfg.APIAddr = 0, "127.0.0.1:0"
	cfg.Presence, cfg.MaxConnections = true, conns+10
	srv, err := New(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	for i := range conns {
		c, _, _, err := ws.Dialer{}.Dial(context.Background(), srv.WebSocketURL())
		if err != nil {
			b.Fatalf("dial %d: %v", i, err)
		}
		defer c.Close()
	}
	deadline := time.Now().Add(waitTimeout)
	for srv.Engine().ConnectionCount() < conns {
		if time.Now().After(deadline) {
			b.Fatalf("%d connections registered, want %d", srv.Engine().ConnectionCount(), conns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i, id := range srv.Engine().Connections() {
		if err := srv.Engine().Subscribe(id, []string{fmt.Sprintf("room:%d", i%topics)}, map[string]any{"name": id[:8]}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		srv.adminSnapshot(rec, nil)
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
		b.SetBytes(int64(rec.Body.Len()))
	}
}
