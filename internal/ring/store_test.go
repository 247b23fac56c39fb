package ring

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"testing"
	"time"
)

var epochRE = regexp.MustCompile(`^[0-9a-f]{8}$`)

func TestNewStoreAppliesDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Config
		want Config
	}{
		{"zero", Config{}, Config{BufferSize: 256, TTL: 300 * time.Second, MaxMessages: 500, MemoryBudget: 256 << 20}},
		{"tiny buffer", Config{BufferSize: 1}, Config{BufferSize: 16, TTL: DefaultTTL, MaxMessages: DefaultMaxMessages, MemoryBudget: DefaultMemoryBudget}},
		{"round up", Config{BufferSize: 100}, Config{BufferSize: 128, TTL: DefaultTTL, MaxMessages: DefaultMaxMessages, MemoryBudget: DefaultMemoryBudget}},
		{"power of two", Config{BufferSize: 256}, Config{BufferSize: 256, TTL: DefaultTTL, MaxMessages: DefaultMaxMessages, MemoryBudget: DefaultMemoryBudget}},
		{"just above", Config{BufferSize: 257}, Config{BufferSize: 512, TTL: DefaultTTL, MaxMessages: DefaultMaxMessages, MemoryBudget: DefaultMemoryBudget}},
		{"max", Config{BufferSize: MaxBufferSize, TTL: time.Second, MaxMessages: 7, MemoryBudget: 9}, Config{BufferSize: MaxBufferSize, TTL: time.Second, MaxMessages: 7, MemoryBudget: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewStore(tt.in)
			if err != nil {
				t.Fatalf("NewStore: %v", err)
			}
			if got := s.Config(); got != tt.want {
				t.Errorf("Config() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNewStoreRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Config
	}{
		{"negative buffer", Config{BufferSize: -1}},
		{"huge buffer", Config{BufferSize: MaxBufferSize + 1}},
		{"negative ttl", Config{TTL: -time.Second}},
		{"negative max messages", Config{MaxMessages: -1}},
		{"negative budget", Config{MemoryBudget: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewStore(tt.in); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("NewStore(%+v) error = %v, want ErrInvalidConfig", tt.in, err)
			}
		})
	}
}

func TestAppendAssignsConsecutiveOffsetsFromOne(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Config{BufferSize: 16})
	topics := []string{"a", "b", "c"}
	next := map[string]uint64{}
	epochs := map[string]string{}
	for i := range 100 {
		topic := topics[i%len(topics)]
		if i%7 == 0 {
			topic = "a"
		}
		calls := 0
		var stamped []byte
		data, epoch, offset := s.Append(topic, func(e string, o uint64) []byte {
			calls++
			stamped = msg(topic, e, o, 0)
			return stamped
		})
		next[topic]++
		if calls != 1 {
			t.Fatalf("stamp called %d times, want 1", calls)
		}
		if offset != next[topic] {
			t.Fatalf("append %d to %q: offset %d, want %d", i, topic, offset, next[topic])
		}
		if !bytes.Equal(data, stamped) {
			t.Fatalf("Append returned %q, stamp built %q", data, stamped)
		}
		if _, e, o := parseMsg(t, data); e != epoch || o != offset {
			t.Fatalf("stamp got (%s, %d), Append returned (%s, %d)", e, o, epoch, offset)
		}
		if prev, ok := epochs[topic]; ok && prev != epoch {
			t.Fatalf("epoch of %q changed from %s to %s", topic, prev, epoch)
		}
		epochs[topic] = epoch
	}
	for _, topic := range topics {
		e, o, ok := s.Position(topic)
		if !ok || e != epochs[topic] || o != next[topic] {
			t.Errorf("Position(%q) = (%s, %d, %v), want (%s, %d, true)", topic, e, o, ok, epochs[topic], next[topic])
		}
	}
	if got := s.Stats().Appends; got != 100 {
		t.Errorf("Stats().Appends = %d, want 100", got)
	}
}

func TestAppendGivesDistinctWellFormedEpochs(t *testing.T) {
	t.Parallel()
	s, clk := newTestStore(t, Config{TTL: time.Second})
	seen := map[string]bool{}
	check := func(e string) {
		t.Helper()
		if !epochRE.MatchString(e) {
			t.Fatalf("epoch %q is not 8 lower-case hex digits", e)
		}
		if seen[e] {
			t.Fatalf("epoch %q given twice", e)
		}
		seen[e] = true
	}
	for i := range 1000 {
		check(appendN(t, s, fmt.Sprintf("topic-%d", i), 1, 10))
	}
	// Recreated buffers get new epochs and start again at offset 1.
	for range 3 {
		if n := s.Sweep(clk.Advance(2 * time.Second)); n == 0 {
			t.Fatal("Sweep dropped nothing")
		}
		_, e, o := s.Append("topic-0", func(e string, o uint64) []byte { return msg("topic-0", e, o, 0) })
		if o != 1 {
			t.Fatalf("offset after recreation = %d, want 1", o)
		}
		check(e)
	}
}

func TestPositionDoesNotCreateBuffer(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Config{})
	if e, o, ok := s.Position("none"); e != "" || o != 0 || ok {
		t.Errorf("Position(unknown) = (%q, %d, %v), want (\"\", 0, false)", e, o, ok)
	}
	if st := s.Stats(); st.Topics != 0 {
		t.Errorf("Stats().Topics = %d after Position, want 0", st.Topics)
	}
}

func TestRecover(t *testing.T) {
	t.Parallel()
	type pos int // how the request's epoch is chosen
	const (
		same pos = iota
		other
		empty
	)
	tests := []struct {
		name      string
		cfg       Config
		appends   int // messages appended to the topic first (0: no buffer)
		epoch     pos
		offset    uint64
		recovered bool
		from, to  uint64 // replayed offsets, inclusive; from > to for none
	}{
		{"missing range", Config{}, 8, same, 5, true, 6, 8},
		{"up to date", Config{}, 8, same, 8, true, 1, 0},
		{"one missing", Config{}, 8, same, 7, true, 8, 8},
		{"from zero replays all", Config{}, 8, same, 0, true, 1, 8},
		{"empty position replays all", Config{}, 8, empty, 0, true, 1, 8},
		{"other epoch at zero replays all", Config{}, 8, other, 0, true, 1, 8},
		{"epoch mismatch", Config{}, 8, other, 5, false, 1, 0},
		{"empty epoch with offset", Config{}, 8, empty, 5, false, 1, 0},
		{"offset beyond last", Config{}, 8, same, 9, false, 1, 0},
		{"offset max uint64", Config{}, 8, same, math.MaxUint64, false, 1, 0},
		{"exactly max messages", Config{MaxMessages: 10}, 12, same, 2, true, 3, 12},
		{"more than max messages", Config{MaxMessages: 10}, 12, same, 1, false, 1, 0},
		{"from zero over max messages", Config{MaxMessages: 10}, 12, same, 0, false, 1, 0},
		{"oldest kept", Config{BufferSize: 16}, 20, same, 4, true, 5, 20},
		{"overwritten", Config{BufferSize: 16}, 20, same, 3, false, 1, 0},
		{"from zero overwritten", Config{BufferSize: 16}, 20, same, 0, false, 1, 0},
		{"grown buffer", Config{BufferSize: 64}, 60, same, 0, true, 1, 60},
		{"wrapped grown buffer", Config{BufferSize: 64}, 100, same, 36, true, 37, 100},
		{"no buffer empty position", Config{}, 0, empty, 0, true, 1, 0},
		{"no buffer other epoch at zero", Config{}, 0, other, 0, true, 1, 0},
		{"no buffer with offset", Config{}, 0, other, 3, false, 1, 0},
		{"no buffer empty epoch with offset", Config{}, 0, empty, 3, false, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newTestStore(t, tt.cfg)
			var cur string
			if tt.appends > 0 {
				cur = appendN(t, s, "t", tt.appends, 20)
			}
			epoch := map[pos]string{same: cur, other: "0badbeef", empty: ""}[tt.epoch]
			if epoch == cur && tt.epoch == other {
				epoch = "0badbeee"
			}
			withCalls := 0
			var inWith RecoverResult
			got := s.RecoverWithResult("t", epoch, tt.offset, func(r RecoverResult) { withCalls++; inWith = r })
			if withCalls != 1 {
				t.Fatalf("with called %d times, want 1", withCalls)
			}
			if got.Recovered != tt.recovered {
				t.Fatalf("Recovered = %v, want %v", got.Recovered, tt.recovered)
			}
			if got.Epoch != cur || got.Offset != uint64(tt.appends) {
				t.Errorf("position = (%q, %d), want (%q, %d)", got.Epoch, got.Offset, cur, tt.appends)
			}
			var want []uint64
			for o := tt.from; o <= tt.to; o++ {
				want = append(want, o)
			}
			if len(got.Msgs) != len(want) {
				t.Fatalf("replayed %d messages, want %d", len(got.Msgs), len(want))
			}
			for i, m := range got.Msgs {
				if !bytes.Equal(m, msg("t", cur, want[i], 20)) {
					t.Errorf("message %d = %q, want offset %d", i, m, want[i])
				}
			}
			if inWith.Recovered != got.Recovered || len(inWith.Msgs) != len(got.Msgs) || inWith.Offset != got.Offset {
				t.Errorf("with saw %+v, Recover returned %+v", inWith, got)
			}
			plain := s.Recover("t", epoch, tt.offset, nil)
			if plain.Recovered != got.Recovered || len(plain.Msgs) != len(got.Msgs) {
				t.Errorf("Recover = %+v, RecoverWithResult = %+v", plain, got)
			}
		})
	}
}

func TestRecoverRunsWithOnce(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Config{})
	appendN(t, s, "t", 3, 10)
	for _, topic := range []string{"t", "missing"} {
		calls := 0
		s.Recover(topic, "nope", 99, func() { calls++ })
		if calls != 1 {
			t.Errorf("Recover(%q) ran with %d times, want 1", topic, calls)
		}
	}
}

func TestSweepDropsIdleBuffers(t *testing.T) {
	t.Parallel()
	s, clk := newTestStore(t, Config{TTL: 300 * time.Second})
	start := clk.Now()
	if n := s.Sweep(start.Add(-time.Hour)); n != 0 {
		t.Fatalf("Sweep(before start) = %d, want 0", n)
	}
	oldEpoch := appendN(t, s, "a", 3, 100)
	clk.Advance(200 * time.Second)
	appendN(t, s, "b", 2, 100)
	if n := s.Sweep(start.Add(300 * time.Second)); n != 0 {
		t.Fatalf("Sweep at exactly TTL = %d, want 0", n)
	}
	if n := s.Sweep(start.Add(300*time.Second + 1)); n != 1 {
		t.Fatalf("Sweep after TTL = %d, want 1", n)
	}
	if _, _, ok := s.Position("a"); ok {
		t.Error("a still has a buffer after Sweep")
	}
	if _, _, ok := s.Position("b"); !ok {
		t.Error("b was dropped before its TTL")
	}
	st := s.Stats()
	if st.Topics != 1 || st.Bytes != 200 || st.EvictedTTL != 1 {
		t.Errorf("Stats() = %+v, want 1 topic, 200 bytes, 1 TTL eviction", st)
	}
	r := s.Recover("a", oldEpoch, 2, nil)
	if r.Recovered || r.Epoch != "" || r.Offset != 0 {
		t.Errorf("Recover after drop = %+v, want not recovered at (\"\", 0)", r)
	}
	newEpoch := appendN(t, s, "a", 1, 100)
	if e, o, _ := s.Position("a"); e != newEpoch || e == oldEpoch || o != 1 {
		t.Errorf("Position(a) after recreation = (%s, %d), want new epoch at 1 (old %s)", e, o, oldEpoch)
	}
	if n := s.Sweep(start.Add(time.Hour)); n != 2 {
		t.Errorf("final Sweep = %d, want 2", n)
	}
	if st := s.Stats(); st.Topics != 0 || st.Bytes != 0 {
		t.Errorf("Stats() after dropping everything = %+v", st)
	}
}

func TestBudgetEvictsLeastRecentlyWritten(t *testing.T) {
	t.Parallel()
	s, clk := newTestStore(t, Config{MemoryBudget: 1000})
	for _, topic := range []string{"a", "b", "c", "d"} {
		appendN(t, s, topic, 2, 100)
		clk.Advance(time.Second)
	}
	appendN(t, s, "a", 1, 100) // a is now the most recently written
	clk.Advance(time.Second)
	if st := s.Stats(); st.Bytes != 900 || st.EvictedBudget != 0 {
		t.Fatalf("Stats() = %+v, want 900 bytes and no eviction", st)
	}
	appendN(t, s, "e", 2, 100) // 1100 bytes: b must go
	wantPresent := map[string]bool{"a": true, "b": false, "c": true, "d": true, "e": true}
	for topic, want := range wantPresent {
		if _, _, ok := s.Position(topic); ok != want {
			t.Errorf("Position(%q) ok = %v, want %v", topic, ok, want)
		}
	}
	if st := s.Stats(); st.Bytes != 900 || st.EvictedBudget != 1 || st.Topics != 4 {
		t.Errorf("Stats() = %+v, want 900 bytes, 4 topics, 1 budget eviction", st)
	}
	// One big message evicts several buffers, oldest first: c (200), d (200).
	clk.Advance(time.Second)
	appendN(t, s, "f", 1, 450)
	for topic, want := range map[string]bool{"a": true, "c": false, "d": false, "e": true, "f": true} {
		if _, _, ok := s.Position(topic); ok != want {
			t.Errorf("after big message Position(%q) ok = %v, want %v", topic, ok, want)
		}
	}
	if st := s.Stats(); st.Bytes != 950 || st.EvictedBudget != 3 {
		t.Errorf("Stats() = %+v, want 950 bytes, 3 budget evictions", st)
	}
}

func TestBudgetTrimsSoleBuffer(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Config{MemoryBudget: 1000})
	epoch := appendN(t, s, "a", 15, 100)
	st := s.Stats()
	if st.Bytes != 1000 || st.TrimmedBudget != 5 || st.EvictedBudget != 0 {
		t.Fatalf("Stats() = %+v, want 1000 bytes, 5 trimmed", st)
	}
	if e, o, _ := s.Position("a"); e != epoch || o != 15 {
		t.Errorf("Position = (%s, %d), want (%s, 15)", e, o, epoch)
	}
	if r := s.Recover("a", epoch, 4, nil); r.Recovered {
		t.Errorf("Recover from trimmed offset 4 recovered %d messages", len(r.Msgs))
	}
	if r := s.Recover("a", epoch, 5, nil); !r.Recovered || len(r.Msgs) != 10 {
		t.Errorf("Recover from 5 = recovered %v with %d messages, want 10", r.Recovered, len(r.Msgs))
	}
	// A message larger than the whole budget leaves the buffer empty but
	// keeps its position.
	appendN(t, s, "a", 1, 2000)
	if st := s.Stats(); st.Bytes != 0 || st.Topics != 1 {
		t.Errorf("Stats() after huge message = %+v, want 0 bytes, 1 topic", st)
	}
	if r := s.Recover("a", epoch, 16, nil); !r.Recovered || r.Offset != 16 || r.Epoch != epoch {
		t.Errorf("Recover at last offset = %+v, want recovered at (%s, 16)", r, epoch)
	}
	if r := s.Recover("a", epoch, 15, nil); r.Recovered || r.Offset != 16 {
		t.Errorf("Recover of the trimmed message = %+v, want not recovered at 16", r)
	}
	if _, _, o := s.Append("a", func(e string, o uint64) []byte { return msg("a", e, o, 10) }); o != 17 {
		t.Errorf("offset after trimming = %d, want 17", o)
	}
}

func TestOverwriteFreesBytes(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Config{BufferSize: 16})
	appendN(t, s, "a", 20, 20)
	st := s.Stats()
	want := Stats{Topics: 1, Bytes: 320, Appends: 20, Overwritten: 4}
	if st != want {
		t.Errorf("Stats() = %+v, want %+v", st, want)
	}
}
