package cluster

import (
	"sync/atomic"
	"testing"
	"time"
)

// gapDelegate records OnLinkGap calls.
type gapDelegate struct {
	*testDelegate
	gaps atomic.Int64
}

func (d *gapDelegate) OnLinkGap(string) { d.gaps.Add(1) }

var _ GapDelegate = (*gapDelegate)(nil)

func TestLostLinkAndItsReturnAreReportedAsGaps(t *testing.T) {
	t.Parallel()
	d := &gapDelegate{testDelegate: newTestDelegate()}
	cfg := testConfig()
	cfg.DeadAfter = 5 * time.Second // the peer comes back before it is declared down
	a := startNode(t, cfg, d)
	resync := encodeFrame(frameResync, 0, "", encodeTopicList([]string{"t"}))
	f := dialFake(t, a.Addr())
	f.handshake("peer")
	if err := f.write(resync); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "link ready", func() bool { return wantsFrom(a, "peer", "t") })
	if n := d.gaps.Load(); n != 0 {
		t.Fatalf("%d gaps before any loss", n)
	}
	// The TCP connection drops without SHUTDOWN: messages may be lost.
	_ = f.conn.Close()
	eventually(t, 2*time.Second, "loss reported", func() bool { return d.gaps.Load() == 1 })
	// The peer relinks: what was published meanwhile did not cross.
	g := dialFake(t, a.Addr())
	g.handshake("peer")
	if err := g.write(resync); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "return reported", func() bool { return d.gaps.Load() == 2 })
	if s := a.Stats(); s.LinkGaps != 2 {
		t.Fatalf("LinkGaps = %d, want 2", s.LinkGaps)
	}
}
