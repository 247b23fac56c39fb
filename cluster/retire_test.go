package cluster

import (
	"strconv"
	"sync"
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
	first := (*lo.links.Load())[0]
	if first.preferred {
		t.Fatal("the first link is already the preferred one")
	}

	const total = 20000
	switched := make(chan struct{})
	halfway := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, pair := range []struct {
		from *Node
		to   *testDelegate
	}{{lo, dhi}, {hi, dlo}} {
		wg.Go(func() {
			for i := range total {
				if i == total/2 {
					halfway <- struct{}{}
					<-switched
				}
				if i%500 == 0 { // keep the queue far below SendQueue
					eventually(t, 10*time.Second, "the peer to catch up", func() bool { return len(pair.to.received("t")) >= i-5000 })
				}
				if got := pair.from.Publish("t", []byte(strconv.Itoa(i))); got != 1 {
					t.Errorf("Publish %d queued for %d peers", i, got)
					return
				}
			}
		})
	}
	<-halfway
	<-halfway
	// Publishing resumes at once: part of it goes out on the old link
	// while the handoff runs.
	// lo already knows hi's address from the first HELLO, and its dial
	// loop parks while linked: dial directly, as a racing dial would.
	if err := lo.dial(&target{addr: hi.Addr(), forget: make(chan struct{})}); err != nil {
		t.Fatalf("second dial: %v", err)
	}
	eventually(t, 5*time.Second, "the preferred link installed on both ends", func() bool {
		a, b := *lo.links.Load(), *hi.links.Load()
		return len(a) == 1 && a[0] != first && a[0].preferred && len(b) == 1 && b[0].preferred
	})
	close(switched)
	wg.Wait()
	eventually(t, 10*time.Second, "the preferred link up", func() bool {
		a := *lo.links.Load()
		return len(a) == 1 && a[0].preferred && a[0].ready.Load()
	})

	for _, d := range []*testDelegate{dlo, dhi} {
		eventually(t, 10*time.Second, "every message", func() bool { return len(d.received("t")) >= total })
		for i, p := range d.received("t") {
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
