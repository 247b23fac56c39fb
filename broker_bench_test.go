package wse_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wse-go/wse"
)

// BenchmarkBroadcastPath measures the publication path alone, without
// sockets (no subscriber, so nothing is queued): injection, stamping and
// storing with recovery, and the seam's broker check. Comparing it across
// commits shows what the broker seam costs a single node.
func BenchmarkBroadcastPath(b *testing.B) {
	msg := `{"t":"tick","p":{"s":"` + strings.Repeat("x", 60) + `"}}`
	for _, recovery := range []bool{false, true} {
		b.Run(fmt.Sprintf("recovery=%v", recovery), func(b *testing.B) {
			srv := startServer(b, wse.Config{Recovery: wse.RecoveryConfig{Enabled: recovery, BufferSize: 1024}})
			b.ReportAllocs()
			for b.Loop() {
				if _, err := srv.Broadcast("bench", msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
