package cluster

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestReplacedLinkHandsOverWithoutLoss replaces a ready link while both
// nodes publish to each other: the link dialed by the higher id loses to the
// one the lower id dials later. Every message must arrive once and in order,
// the ones in flight on the old connection included.
func TestReplacedLinkHandsOverWithoutLoss(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	// Only the duplicate rule may replace the link here.
	cfg.DeadAfter = 10 * time.Second
	d1, d2 := newTestDelegate(), newTestDelegate()
	n1, n2 := startNode(t, cfg, d1), startNode(t, cfg, d2)
	lo, hi, dlo, dhi := n1, n2, d1, d2
	if hi.ID() < lo.ID() {
		lo, hi, dlo, dhi = hi, lo, dhi, dlo
	}
	hi.addTarget(lo.Addr(), "", false) // a link the lower id will replace
	subscribe(lo, dlo, "t", true)
	subscribe(hi, dhi, "t", true)
	eventually(t, 5*time.Second, "interest both ways", func() bool {
		return wantsFrom(lo, hi.ID(), "t") && wantsFrom(hi, lo.ID(), "t")
	})
	first := lo.route.Load().links[0]
	if first.preferred {
		t.Fatal("the first link is already the preferred one")
	}

	// Both publish without pause until well after the switch, so that
	// frames are queued and in flight on the old link when it is replaced.
	stop := make(chan struct{})
	var sent [2]atomic.Int64
	var wg sync.WaitGroup
	for k, pair := range []struct {
		from *Node
		to   *testDelegate
	}{{lo, dhi}, {hi, dlo}} {
		wg.Go(func() {
			for i := 0; i < 200_000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if i%500 == 0 { // keep the queue far below SendQueue
					eventually(t, 10*time.Second, "the peer to catch up", func() bool { return len(pair.to.received("t")) >= i-5000 })
				}
				if got := pair.from.Publish("t", []byte(strconv.Itoa(i))); got != 1 {
					t.Errorf("Publish %d queued for %d peers", i, got)
					return
				}
				sent[k].Store(int64(i + 1))
			}
		})
	}
	atLeast := func(n int64) func() bool {
		return func() bool { return sent[0].Load() >= n && sent[1].Load() >= n }
	}
	eventually(t, 10*time.Second, "publishing under way", atLeast(2000))
	// lo already knows hi's address from the first HELLO, and its dial
	// loop parks while linked: dial directly, as a racing dial would.
	if err := lo.dial(&target{addr: hi.Addr(), forget: make(chan struct{})}); err != nil {
		t.Fatalf("second dial: %v", err)
	}
	eventually(t, 5*time.Second, "the preferred link installed on both ends", func() bool {
		a, b := lo.route.Load().links, hi.route.Load().links
		return len(a) == 1 && a[0] != first && a[0].preferred && len(b) == 1 && b[0].preferred
	})
	eventually(t, 10*time.Second, "publishing after the switch", atLeast(max(sent[0].Load(), sent[1].Load())+2000))
	close(stop)
	wg.Wait()
	eventually(t, 10*time.Second, "the preferred link up", func() bool {
		a := lo.route.Load().links
		return len(a) == 1 && a[0].preferred && a[0].ready.Load()
	})

	for k, d := range []*testDelegate{dhi, dlo} {
		total := int(sent[k].Load())
		eventually(t, 10*time.Second, "every message", func() bool { return len(d.received("t")) >= total })
		got := d.received("t")
		if len(got) != total {
			t.Fatalf("%d messages received, %d sent", len(got), total)
		}
		for i, p := range got {
			if p.payload != strconv.Itoa(i) {
				t.Fatalf("message %d is %q (lost, duplicated or reordered)", i, p.payload)
			}
		}
	}
	for _, n := range []*Node{lo, hi} {
		if s := n.Stats(); s.MessagesDropped != 0 || len(n.DLQ()) != 0 {
			t.Fatalf("node %s dropped %d messages (DLQ %d)", n.ID(), s.MessagesDropped, len(n.DLQ()))
		}
	}
	checkOneLinkPerPair(t, lo, hi)
}

// TestStopDuringHandoffDoesNotWaitForIt stops both nodes right after a
// link was replaced: Stop must not sit out the handoff's DeadAfter bound.
func TestStopDuringHandoffDoesNotWaitForIt(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.DeadAfter = time.Minute
	n1, n2 := startNode(t, cfg, newTestDelegate()), startNode(t, cfg, newTestDelegate())
	lo, hi := n1, n2
	if hi.ID() < lo.ID() {
		lo, hi = hi, lo
	}
	hi.addTarget(lo.Addr(), "", false)
	eventually(t, 5*time.Second, "link up", func() bool { return hasPeers(lo, hi.ID()) && hasPeers(hi, lo.ID()) })
	if err := lo.dial(&target{addr: hi.Addr(), forget: make(chan struct{})}); err != nil {
		t.Fatalf("second dial: %v", err)
	}
	for _, n := range []*Node{lo, hi} {
		stopped := make(chan struct{})
		go func() {
			n.Stop()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Fatalf("Stop of %s still waiting after 10 s (DeadAfter is a minute)", n.ID())
		}
	}
}
