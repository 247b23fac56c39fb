package wse_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/wse-go/wse"
)

func TestInboundQueueIsBoundedInBytes(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	srv := startServer(t, wse.Config{MaxInboundQueueBytes: limit})
	c := dial(t, wsURL(srv, ""), nil)
	const sent = 100 // 100 × 32 KiB, three times the bound, and nobody reads
	pad := strings.Repeat("x", 32<<10)
	for i := range sent {
		c.send(`{"t":"bulk","p":{"i":` + strconv.Itoa(i) + `,"pad":"` + pad + `"}}`)
	}
	eventually(t, "every message queued or dropped", func() bool {
		return uint64(srv.InboundQueueDepth())+srv.InboundDropped() == sent+1 // + connect
	})
	m := srv.Metrics()
	if m.InboundQueueBytes > limit {
		t.Fatalf("inbound queue holds %d bytes, over its %d bound", m.InboundQueueBytes, limit)
	}
	if srv.InboundDropped() == 0 {
		t.Fatal("nothing dropped with 3 MiB sent to a 1 MiB queue")
	}
	events := srv.DrainInbound(1000, 0)
	var total int
	for _, ev := range events {
		total += ev.Size
	}
	if total > limit || len(events) < 10 {
		t.Fatalf("drained %d events of %d bytes; want at least 10 within %d", len(events), total, limit)
	}
	if b := srv.Metrics().InboundQueueBytes; b != 0 {
		t.Fatalf("drained queue still charges %d bytes", b)
	}
	// The queue takes events again once read.
	c.send(`{"t":"after"}`)
	ev := nextEvent(t, srv, wse.EventMessage)
	if ev.Message["t"] != "after" {
		t.Fatalf("event after the drain = %v", ev)
	}
}

func TestEventSizeCountsDecodedFields(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{})
	c := dial(t, wsURL(srv, ""), nil)
	var b strings.Builder
	b.WriteString(`{"t":"many","p":{`)
	for i := range 1000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + strconv.Itoa(i) + `":1`)
	}
	b.WriteString(`}}`)
	c.send(b.String())
	ev := nextEvent(t, srv, wse.EventMessage)
	// 1,000 small fields cost far more decoded than their ~9 KB of JSON.
	if ev.Size < 40*1000 {
		t.Fatalf("Size = %d for 1,000 decoded fields, want at least 40 bytes each", ev.Size)
	}
}
