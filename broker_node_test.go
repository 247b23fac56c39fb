package wse

import "testing"

// TestFullReplay checks when a stream read holds exactly what a client
// at pos missed.
func TestFullReplay(t *testing.T) {
	t.Parallel()
	pubs := func(from, to uint64) []Publication {
		var out []Publication
		for o := from; o <= to; o++ {
			out = append(out, Publication{Epoch: "e", Offset: o})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		hr   HistoryResult
		pos  Position
		max  int
		want bool
	}{
		{"nothing missing", HistoryResult{Position: Position{"e", 5}}, Position{"e", 5}, 10, true},
		{"all after pos", HistoryResult{Position: Position{"e", 5}, Publications: pubs(3, 5)}, Position{"e", 2}, 10, true},
		{"trimmed", HistoryResult{Position: Position{"e", 5}, Publications: pubs(4, 5)}, Position{"e", 2}, 10, false},
		{"too many", HistoryResult{Position: Position{"e", 5}, Publications: pubs(3, 5)}, Position{"e", 2}, 2, false},
		{"other epoch", HistoryResult{Position: Position{"f", 5}, Publications: pubs(3, 5)}, Position{"e", 2}, 10, false},
		{"beyond the stream", HistoryResult{Position: Position{"e", 5}}, Position{"e", 7}, 10, false},
		{"seen nothing", HistoryResult{Position: Position{"e", 3}, Publications: pubs(1, 3)}, Position{"", 0}, 10, true},
		{"seen nothing, trimmed", HistoryResult{Position: Position{"e", 3}, Publications: pubs(2, 3)}, Position{"", 0}, 10, false},
		{"empty stream", HistoryResult{}, Position{"", 0}, 10, true},
	} {
		if got := fullReplay(tc.hr, tc.pos, tc.max); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
