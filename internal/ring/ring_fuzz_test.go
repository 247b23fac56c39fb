package ring

import (
	"bytes"
	"fmt"
	"math"
	"testing"
	"time"
)

// modelMsg is one stored message of the model.
type modelMsg struct {
	offset uint64
	data   []byte
}

// modelTopic is the model of one buffer: a plain slice of messages.
type modelTopic struct {
	epoch     string
	last      uint64
	msgs      []modelMsg
	lastWrite time.Duration
}

// model is a naive reimplementation of the Store's documented behaviour.
type model struct {
	cfg    Config
	topics map[string]*modelTopic
	// stale remembers every epoch a topic ever had.
	stale  map[string][]string
	epochs map[string]bool
	stats  Stats
}

func (m *model) bytes() int64 {
	var n int64
	for _, mt := range m.topics {
		for _, mm := range mt.msgs {
			n += int64(len(mm.data))
		}
	}
	return n
}

func (m *model) append(topic, epoch string, data []byte, now time.Duration) {
	mt := m.topics[topic]
	if mt == nil {
		mt = &modelTopic{epoch: epoch}
		m.topics[topic] = mt
		m.stale[topic] = append(m.stale[topic], epoch)
	}
	mt.last++
	mt.msgs = append(mt.msgs, modelMsg{mt.last, data})
	mt.lastWrite = now
	m.stats.Appends++
	if len(mt.msgs) > m.cfg.BufferSize {
		mt.msgs = mt.msgs[1:]
		m.stats.Overwritten++
	}
	for m.bytes() > m.cfg.MemoryBudget {
		victim := ""
		for name, other := range m.topics {
			if name != topic && (victim == "" || other.lastWrite < m.topics[victim].lastWrite) {
				victim = name
			}
		}
		if victim == "" {
			break
		}
		delete(m.topics, victim)
		m.stats.EvictedBudget++
	}
	for m.bytes() > m.cfg.MemoryBudget && len(mt.msgs) > 0 {
		mt.msgs = mt.msgs[1:]
		m.stats.TrimmedBudget++
	}
}

func (m *model) recover(topic, epoch string, offset uint64) RecoverResult {
	mt := m.topics[topic]
	if mt == nil {
		return RecoverResult{Recovered: offset == 0}
	}
	res := RecoverResult{Epoch: mt.epoch, Offset: mt.last}
	if offset != 0 && (epoch != mt.epoch || offset > mt.last) {
		return res
	}
	var missing [][]byte
	for _, mm := range mt.msgs {
		if mm.offset > offset {
			missing = append(missing, mm.data)
		}
	}
	if uint64(len(missing)) != mt.last-offset || len(missing) > m.cfg.MaxMessages {
		return res
	}
	if len(missing) > 0 {
		res.Msgs = missing
	}
	res.Recovered = true
	return res
}

func (m *model) sweep(now time.Duration) int {
	n := 0
	for name, mt := range m.topics {
		if now-mt.lastWrite > m.cfg.TTL {
			delete(m.topics, name)
			m.stats.EvictedTTL++
			n++
		}
	}
	return n
}

// fuzzOps reads an operation sequence from a byte string.
type fuzzOps struct{ b []byte }

func (f *fuzzOps) next() (byte, bool) {
	if len(f.b) == 0 {
		return 0, false
	}
	c := f.b[0]
	f.b = f.b[1:]
	return c, true
}

// FuzzRing runs random operation sequences against a Store and the model
// and compares every result and the Stats after each operation.
func FuzzRing(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x05\x00\x00\x05\x00\x01\x05\x02\x00\x00\x03\x02\x00\x01\x01\x03\x00"))
	f.Fuzz(func(t *testing.T, ops []byte) {
		fuzzRing(t, ops)
	})
}

func fuzzRing(t *testing.T, raw []byte) {
	const maxOps = 1024
	configs := []Config{
		{BufferSize: 16, MaxMessages: 12, TTL: 100 * time.Second, MemoryBudget: 600},
		{BufferSize: 64, MaxMessages: 40, TTL: 10 * time.Second, MemoryBudget: 1 << 20},
		{BufferSize: 32, MaxMessages: 100, TTL: time.Hour, MemoryBudget: 8000},
	}
	ops := &fuzzOps{b: raw}
	c, _ := ops.next()
	cfg := configs[int(c)%len(configs)]
	s, clk := newTestStore(t, cfg)
	m := &model{cfg: s.Config(), topics: map[string]*modelTopic{}, stale: map[string][]string{}, epochs: map[string]bool{}}
	topics := []string{"a", "b", "c", "d", "e"}
	now := func() time.Duration { return clk.Now().Sub(s.start) }

	for i := 0; i < maxOps; i++ {
		op, ok := ops.next()
		if !ok {
			break
		}
		arg, _ := ops.next()
		topic := topics[int(arg)%len(topics)]
		clk.Advance(time.Nanosecond) // writes have distinct times, so LRU is exact
		switch op % 6 {
		case 0, 1: // append
			size, _ := ops.next()
			calls := 0
			var built []byte
			data, epoch, offset := s.Append(topic, func(e string, o uint64) []byte {
				calls++
				built = msg(topic, e, o, int(size)*2)
				return built
			})
			if calls != 1 || !bytes.Equal(data, built) {
				t.Fatalf("op %d: stamp called %d times; Append returned %q, stamp built %q", i, calls, data, built)
			}
			if mt := m.topics[topic]; mt != nil {
				if epoch != mt.epoch || offset != mt.last+1 {
					t.Fatalf("op %d: Append(%s) = (%s, %d), model (%s, %d)", i, topic, epoch, offset, mt.epoch, mt.last+1)
				}
			} else {
				if !epochRE.MatchString(epoch) || m.epochs[epoch] || offset != 1 {
					t.Fatalf("op %d: new buffer for %s at (%q, %d); epochs seen %v", i, topic, epoch, offset, m.epochs)
				}
				m.epochs[epoch] = true
			}
			m.append(topic, epoch, data, now())
		case 2: // position
			e, o, ok := s.Position(topic)
			mt := m.topics[topic]
			if (mt != nil) != ok || (mt != nil && (e != mt.epoch || o != mt.last)) || (mt == nil && (e != "" || o != 0)) {
				t.Fatalf("op %d: Position(%s) = (%q, %d, %v), model %+v", i, topic, e, o, ok, mt)
			}
		case 3: // recover
			sel, _ := ops.next()
			epoch, offset := fuzzPosition(m, topic, sel, arg)
			got := s.Recover(topic, epoch, offset, nil)
			want := m.recover(topic, epoch, offset)
			if got.Epoch != want.Epoch || got.Offset != want.Offset || got.Recovered != want.Recovered || !equalMsgs(got.Msgs, want.Msgs) {
				t.Fatalf("op %d: Recover(%s, %q, %d) = %s, model %s", i, topic, epoch, offset, showResult(got), showResult(want))
			}
		case 4: // sweep after some time
			at := clk.Advance(time.Duration(arg) * time.Second)
			if got, want := s.Sweep(at), m.sweep(now()); got != want {
				t.Fatalf("op %d: Sweep dropped %d, model %d", i, got, want)
			}
		case 5: // let time pass
			clk.Advance(time.Duration(arg) * 100 * time.Millisecond)
		}
		want := m.stats
		want.Topics, want.Bytes = len(m.topics), m.bytes()
		if got := s.Stats(); got != want {
			t.Fatalf("op %d: Stats() = %+v, model %+v", i, got, want)
		}
	}
	checkInvariants(t, s)
}

// fuzzPosition picks the client position of a Recover call.
func fuzzPosition(m *model, topic string, sel, arg byte) (string, uint64) {
	var epoch string
	var last uint64
	if mt := m.topics[topic]; mt != nil {
		epoch, last = mt.epoch, mt.last
	}
	switch sel % 4 {
	case 1:
		epoch = ""
	case 2:
		if old := m.stale[topic]; len(old) > 0 {
			epoch = old[int(arg)%len(old)]
		}
	case 3:
		epoch = "0000beef"
	}
	switch (sel / 4) % 6 {
	case 0:
		return epoch, last
	case 1:
		return epoch, 0
	case 2:
		return epoch, last + 1
	case 3:
		return epoch, math.MaxUint64
	default:
		return epoch, last - min(last, uint64(sel/24))
	}
}

func equalMsgs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func showResult(r RecoverResult) string {
	first, last := "-", "-"
	if len(r.Msgs) > 0 {
		first, last = string(r.Msgs[0]), string(r.Msgs[len(r.Msgs)-1])
	}
	return fmt.Sprintf("{%q %d recovered=%v n=%d first=%q last=%q}", r.Epoch, r.Offset, r.Recovered, len(r.Msgs), first, last)
}

// TestRingMatchesModel runs the fuzz body on deterministic pseudo-random
// sequences, so plain `go test` covers more than the seed corpus.
func TestRingMatchesModel(t *testing.T) {
	t.Parallel()
	for seed := range 50 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			ops := make([]byte, 3000)
			x := uint32(seed)*2654435761 + 1
			for i := range ops {
				x ^= x << 13
				x ^= x >> 17
				x ^= x << 5
				ops[i] = byte(x)
			}
			fuzzRing(t, ops)
		})
	}
}
