package ring

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// testHub is the subscriber set of one topic, as an engine would keep it.
type testHub struct {
	mu   sync.Mutex
	subs map[*testSub]struct{}
}

// testSub records what one subscription received: the replay, then live
// messages.
type testSub struct {
	topic     string
	baseEpoch string
	base      uint64
	got       [][]byte
}

// TestConcurrentAppendRecoverNoGapNoDuplicate runs publishers and subscribers
// on the same topics at once. Publishers read the subscriber set inside stamp;
// subscribers register inside with. Every subscription must then see each
// offset after its baseline exactly once, in order, up to the topic's last.
func TestConcurrentAppendRecoverNoGapNoDuplicate(t *testing.T) {
	t.Parallel()
	const (
		publishers     = 4
		appendsEach    = 3000
		subscribers    = 4
		subscribesEach = 50
	)
	s, err := NewStore(Config{BufferSize: 128, MaxMessages: 64})
	if err != nil {
		t.Fatal(err)
	}
	topics := []string{"alpha", "beta", "gamma"}
	hubs := map[string]*testHub{}
	for _, topic := range topics {
		hubs[topic] = &testHub{subs: map[*testSub]struct{}{}}
	}

	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(p), 1))
			for range appendsEach {
				topic := topics[rng.IntN(len(topics))]
				h := hubs[topic]
				s.Append(topic, func(e string, o uint64) []byte {
					data := msg(topic, e, o, 32)
					h.mu.Lock()
					for sub := range h.subs {
						sub.got = append(sub.got, data)
					}
					h.mu.Unlock()
					return data
				})
			}
		})
	}

	var (
		allMu              sync.Mutex
		all                []*testSub
		recovered, rebased int
	)
	for g := range subscribers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 2))
			stale := map[string][2]any{}
			for j := range subscribesEach {
				topic := topics[rng.IntN(len(topics))]
				epoch, offset, _ := s.Position(topic)
				if _, ok := stale[topic]; !ok {
					stale[topic] = [2]any{epoch, offset}
				}
				switch j % 4 {
				case 1: // a position from long ago
					epoch, offset = stale[topic][0].(string), stale[topic][1].(uint64)
				case 2: // an epoch the store never gave
					epoch, offset = "zzzzzzzz", max(offset, 1)
				case 3: // a client that has seen nothing
					epoch, offset = "", 0
				}
				sub := &testSub{topic: topic}
				h := hubs[topic]
				res := s.RecoverWithResult(topic, epoch, offset, func(r RecoverResult) {
					if r.Recovered {
						sub.baseEpoch, sub.base = epoch, offset
						sub.got = append(sub.got, r.Msgs...)
					} else {
						sub.baseEpoch, sub.base = r.Epoch, r.Offset
					}
					h.mu.Lock()
					h.subs[sub] = struct{}{}
					h.mu.Unlock()
				})
				allMu.Lock()
				all = append(all, sub)
				if res.Recovered {
					recovered++
				} else {
					rebased++
				}
				allMu.Unlock()
			}
		})
	}
	wg.Wait()

	if recovered == 0 || rebased == 0 {
		t.Errorf("recovered %d, rebased %d subscriptions; want both paths exercised", recovered, rebased)
	}
	var total uint64
	for _, topic := range topics {
		_, last, _ := s.Position(topic)
		total += last
	}
	if total != publishers*appendsEach {
		t.Fatalf("last offsets sum to %d, want %d appends", total, publishers*appendsEach)
	}
	for i, sub := range all {
		finalEpoch, last, _ := s.Position(sub.topic)
		if err := checkStream(sub, finalEpoch, last); err != nil {
			t.Fatalf("subscription %d: %v", i, err)
		}
	}
}

// checkStream verifies that sub received offsets base+1..last of epoch, once
// each and in order.
func checkStream(sub *testSub, epoch string, last uint64) error {
	if sub.base > 0 && sub.baseEpoch != epoch {
		return fmt.Errorf("baseline epoch %q, topic epoch %q", sub.baseEpoch, epoch)
	}
	if want := last - sub.base; uint64(len(sub.got)) != want {
		return fmt.Errorf("%s from %d: got %d messages, want %d", sub.topic, sub.base, len(sub.got), want)
	}
	for i, data := range sub.got {
		topic, e, o, ok := splitMsg(data)
		if !ok || topic != sub.topic || e != epoch || o != sub.base+1+uint64(i) {
			return fmt.Errorf("message %d is %s/%s/%d, want %s/%s/%d", i, topic, e, o, sub.topic, epoch, sub.base+1+uint64(i))
		}
	}
	return nil
}

// TestConcurrentBudgetAndSweepKeepStoreConsistent appends to many topics
// under a tight budget while other goroutines sweep, recover and read
// stats; afterwards the Store's structure must be intact and within budget.
func TestConcurrentBudgetAndSweepKeepStoreConsistent(t *testing.T) {
	t.Parallel()
	const (
		writers     = 4
		appendsEach = 2000
		budget      = 20000
	)
	s, clk := newTestStore(t, Config{BufferSize: 16, MemoryBudget: budget, TTL: time.Second})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 3))
			for range appendsEach {
				topic := fmt.Sprintf("t%d", rng.IntN(200))
				size := 20 + rng.IntN(300)
				s.Append(topic, func(e string, o uint64) []byte { return msg(topic, e, o, size) })
			}
		})
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			s.Sweep(clk.Advance(100 * time.Millisecond))
			topic := fmt.Sprintf("t%d", i%200)
			if e, o, ok := s.Position(topic); ok {
				s.Recover(topic, e, o-min(o, 5), nil)
			}
			s.Stats()
		}
	})
	wg.Wait()
	close(done)
	readers.Wait()
	checkInvariants(t, s)
	st := s.Stats()
	if st.Bytes > budget {
		t.Errorf("Stats().Bytes = %d after all appends, over the budget %d", st.Bytes, budget)
	}
	if st.Appends != writers*appendsEach || st.EvictedBudget == 0 {
		t.Errorf("Stats() = %+v, want %d appends and some budget evictions", st, writers*appendsEach)
	}
}
