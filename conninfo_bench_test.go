package wse

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"
)

// BenchmarkNewestConns compares picking the dashboard's 200 newest of
// 100,000 connections with the bounded heap against a full sort.
func BenchmarkNewestConns(b *testing.B) {
	all := make([]*conn, 100_000)
	for i := range all {
		all[i] = &conn{id: uuid.Must(uuid.NewV7()).String()}
	}
	// The registry hands connections over in map order: shuffled.
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	want := slices.Clone(all)
	slices.SortFunc(want, func(x, y *conn) int { return cmp.Compare(y.id, x.id) })
	for _, bc := range []struct {
		name string
		pick func([]*conn) []*conn
	}{
		{"heap", func(cs []*conn) []*conn { return newestConns(cs, 200) }},
		{"sort", func(cs []*conn) []*conn {
			slices.SortFunc(cs, func(x, y *conn) int { return cmp.Compare(y.id, x.id) })
			return cs[:200]
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cs := make([]*conn, len(all))
			for b.Loop() {
				b.StopTimer()
				copy(cs, all)
				b.StartTimer()
				got := bc.pick(cs)
				if got[0] != want[0] || got[199] != want[199] {
					b.Fatalf("%s picked the wrong connections", bc.name)
				}
			}
		})
	}
}
