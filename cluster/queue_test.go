package cluster

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestSlowPeerOverflowGoesToDeadLetters(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.SendQueue = 4
	cfg.DLQSize = 50
	cfg.Heartbeat = 200 * time.Millisecond
	cfg.DeadAfter = 3 * time.Second // the first phase must end before the link times out
	a := startNode(t, cfg, newTestDelegate())
	// A peer that asks for everything on "t" and then never reads.
	f := dialFake(t, a.Addr())
	f.handshake("stuck")
	if err := f.write(encodeFrame(frameResync, 0, "", encodeTopicList([]string{"t"}))); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "fake up", func() bool { return wantsFrom(a, "stuck", "t") })
	payload := make([]byte, 256<<10)
	queued, published := 0, 0
	// Publish until the writer is stuck (socket buffers full) and the queue
	// stays full: every Publish has been dropped for 200 ms.
	var dropsSince time.Time
	deadline := time.Now().Add(cfg.DeadAfter / 2)
publish:
	for i := 0; i < 1_000_000 && time.Now().Before(deadline); i++ {
		got := a.Publish("t", payload)
		queued += got
		published++
		switch {
		case got == 1:
			dropsSince = time.Time{}
		case dropsSince.IsZero():
			dropsSince = time.Now()
		case time.Since(dropsSince) > 200*time.Millisecond:
			break publish
		}
	}
	s := a.Stats()
	if s.MessagesDropped == 0 || queued == published {
		t.Fatalf("no overflow: queued %d of %d, stats %+v", queued, published, s)
	}
	if s.DLQSize == 0 || s.DLQSize > cfg.DLQSize {
		t.Fatalf("DLQSize %d, cap %d", s.DLQSize, cfg.DLQSize)
	}
	dlq := a.DLQ()
	if len(dlq) != s.DLQSize {
		t.Fatalf("DLQ returned %d entries, size was %d", len(dlq), s.DLQSize)
	}
	e := dlq[0]
	if e.Topic != "t" || len(e.Payload) != len(payload) || e.Peer != "stuck" || !errors.Is(e.Err, ErrQueueFull) || e.Time.IsZero() {
		t.Fatalf("entry %+v (err %v)", e.Topic, e.Err)
	}
	if len(a.DLQ()) != 0 || a.Stats().DLQSize != 0 {
		t.Fatalf("DLQ not drained")
	}
	// The writer is stuck past DeadAfter: the link closes and the frames
	// still queued are dead-lettered as well.
	eventually(t, 5*time.Second, "link closed", func() bool { return !a.Connected() })
	eventually(t, 5*time.Second, "queued frames dead-lettered", func() bool { return a.Stats().DLQSize > 0 })
	for _, e := range a.DLQ() {
		if errors.Is(e.Err, ErrQueueFull) {
			continue
		}
		if e.Topic != "t" || len(e.Payload) != len(payload) {
			t.Fatalf("entry %q %d bytes: %v", e.Topic, len(e.Payload), e.Err)
		}
	}
}

func TestPublishAbovePeerFrameCapIsDeadLettered(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MaxFrameSize = MinMaxFrameSize
	da, db := newTestDelegate(), newTestDelegate()
	b := startNode(t, cfg, db)
	a := startNode(t, testConfig(b.Addr()), da)
	subscribe(b, db, "big", true)
	eventually(t, 5*time.Second, "interest", func() bool { return wantsFrom(a, b.ID(), "big") })
	if got := a.Publish("big", make([]byte, MinMaxFrameSize)); got != 0 {
		t.Fatalf("oversized message queued for %d", got)
	}
	dlq := a.DLQ()
	if len(dlq) != 1 || !errors.Is(dlq[0].Err, ErrFrameTooLarge) {
		t.Fatalf("DLQ %v", dlq)
	}
	if got := a.Publish("big", make([]byte, MinMaxFrameSize-100)); got != 1 {
		t.Fatalf("message under the cap queued for %d", got)
	}
	eventually(t, 5*time.Second, "delivery", func() bool { return len(db.received("big")) == 1 })
}

func TestDeadLettersKeepNewest(t *testing.T) {
	t.Parallel()
	q := newDeadLetters(3, 1<<20)
	for i := range 5 {
		q.add(DLQEntry{Topic: fmt.Sprint(i)})
	}
	if q.size() != 3 {
		t.Fatalf("size %d", q.size())
	}
	got := q.drain()
	for i, e := range got {
		if e.Topic != fmt.Sprint(i+2) {
			t.Fatalf("entry %d = %q", i, e.Topic)
		}
	}
	q.add(DLQEntry{Topic: "x"})
	if got := q.drain(); len(got) != 1 || got[0].Topic != "x" {
		t.Fatalf("after drain: %v", got)
	}
}

func TestDeadLettersAreBoundedInBytes(t *testing.T) {
	t.Parallel()
	q := newDeadLetters(100, 10<<10)
	for i := range 10 {
		q.add(DLQEntry{Topic: fmt.Sprint(i), Payload: make([]byte, 3<<10)})
	}
	got := q.drain()
	if len(got) != 3 || got[0].Topic != "7" {
		t.Fatalf("kept %d entries from %q, want the newest 3 (10 KiB of 3 KiB payloads)", len(got), got[0].Topic)
	}
	q.add(DLQEntry{Topic: "huge", Payload: make([]byte, 64<<10), Err: ErrQueueFull})
	got = q.drain()
	if len(got) != 1 || got[0].Payload != nil || got[0].Topic != "huge" || !errors.Is(got[0].Err, ErrQueueFull) {
		t.Fatalf("oversized entry kept as %+v, want its record without payload", got)
	}
}

func TestSlowPeerQueueIsBoundedInBytes(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.SendQueueBytes = 1 << 20
	cfg.Heartbeat = 200 * time.Millisecond
	cfg.DeadAfter = 3 * time.Second
	a := startNode(t, cfg, newTestDelegate())
	f := dialFake(t, a.Addr())
	f.handshake("stuck")
	if err := f.write(encodeFrame(frameResync, 0, "", encodeTopicList([]string{"t"}))); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "fake up", func() bool { return wantsFrom(a, "stuck", "t") })
	payload := make([]byte, 256<<10)
	// 200 × 256 KiB = 50 MiB to a peer that never reads: with the count
	// bound (65536 frames) alone the queue would take it all.
	for range 200 {
		a.Publish("t", payload)
	}
	s := a.Stats()
	if s.MessagesDropped == 0 {
		t.Fatalf("no drops after 50 MiB to a stuck peer with a 1 MiB queue: %+v", s)
	}
	for _, p := range a.Peers() {
		// The queue holds at most the bound; the socket buffers and the
		// writer's batch in flight hold the rest that got through.
		if p.Queued*len(payload) > cfg.SendQueueBytes {
			t.Fatalf("peer queue holds %d frames of 256 KiB, over the 1 MiB bound", p.Queued)
		}
	}
}
