package ring

import "testing"

// TestAppendAtMirrorsAStream feeds positions assigned elsewhere: the next
// offset is stored, older ones are skipped, a jump is a gap unless forced,
// and a new epoch replaces the buffer.
func TestAppendAtMirrorsAStream(t *testing.T) {
	t.Parallel()
	s, err := NewStore(Config{BufferSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	at := func(epoch string, o uint64, jump bool) (MirrorResult, uint64) {
		return s.AppendAt("t", epoch, o, jump, func() []byte { return msg("t", epoch, o, 8) })
	}
	steps := []struct {
		epoch string
		o     uint64
		jump  bool
		want  MirrorResult
		last  uint64
	}{
		{"aaaaaaaa", 5, false, Mirrored, 5}, // no buffer: starts at 5
		{"aaaaaaaa", 6, false, Mirrored, 6},
		{"aaaaaaaa", 6, false, MirrorOld, 6},
		{"aaaaaaaa", 9, false, MirrorGap, 6},
		{"aaaaaaaa", 7, false, Mirrored, 7},
		{"aaaaaaaa", 9, true, Mirrored, 9},  // forced jump
		{"bbbbbbbb", 1, false, Mirrored, 1}, // new epoch
	}
	for i, st := range steps {
		got, last := at(st.epoch, st.o, st.jump)
		if got != st.want || last != st.last {
			t.Fatalf("step %d: %d/%d, want %d/%d", i, got, last, st.want, st.last)
		}
	}
	if r := s.Recover("t", "aaaaaaaa", 7, nil); r.Recovered {
		t.Fatal("recovered a position of the replaced epoch")
	}
	if r := s.Recover("t", "bbbbbbbb", 0, nil); !r.Recovered || len(r.Msgs) != 1 {
		t.Fatalf("recover from 0: %+v", r)
	}
}

// TestAppendAtJumpDropsStoredMessages checks that after a forced jump a
// position from before it is not recovered, and one after it is.
func TestAppendAtJumpDropsStoredMessages(t *testing.T) {
	t.Parallel()
	s, err := NewStore(Config{BufferSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	for o := uint64(1); o <= 3; o++ {
		s.AppendAt("t", "e0000000", o, false, func() []byte { return msg("t", "e0000000", o, 8) })
	}
	s.AppendAt("t", "e0000000", 10, true, func() []byte { return msg("t", "e0000000", 10, 8) })
	if r := s.Recover("t", "e0000000", 2, nil); r.Recovered {
		t.Fatal("recovered across a jump")
	}
	if r := s.Recover("t", "e0000000", 9, nil); !r.Recovered || len(r.Msgs) != 1 {
		t.Fatalf("recover after the jump: %+v", r)
	}
	if st := s.Stats(); st.Bytes != int64(len(msg("t", "e0000000", 10, 8))) {
		t.Fatalf("stored bytes %d after the jump", st.Bytes)
	}
}

// TestSeedAndDrop checks that Seed gives a new mirror the stream's position
// without replacing a buffer, and Drop forgets the topic.
func TestSeedAndDrop(t *testing.T) {
	t.Parallel()
	s, err := NewStore(Config{BufferSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	if s.Seed("t", "", 4) {
		t.Fatal("seeded an empty epoch")
	}
	if !s.Seed("t", "cccccccc", 4) || s.Seed("t", "dddddddd", 9) {
		t.Fatal("Seed created or replaced wrongly")
	}
	if e, o, _ := s.Position("t"); e != "cccccccc" || o != 4 {
		t.Fatalf("position %s/%d", e, o)
	}
	if r := s.Recover("t", "cccccccc", 4, nil); !r.Recovered {
		t.Fatal("seeded position not recovered")
	}
	if res, _ := s.AppendAt("t", "cccccccc", 5, false, func() []byte { return []byte("x") }); res != Mirrored {
		t.Fatalf("append after seed: %d", res)
	}
	if !s.Drop("t") || s.Drop("t") {
		t.Fatal("Drop")
	}
	if _, _, ok := s.Position("t"); ok {
		t.Fatal("position after Drop")
	}
}
