package topic

import (
	"fmt"
	"slices"
	"testing"
)

func matching(p *Patterns, topic string) []string {
	var out []string
	p.Each(topic, func(q string) bool {
		out = append(out, q)
		return true
	})
	slices.Sort(out)
	return out
}

func TestPatternsEachFindsEveryMatchingPattern(t *testing.T) {
	t.Parallel()
	var p Patterns
	for _, q := range []string{"prices.*", "prices.AAPL.*", "*", "*.bid", "news.?", "prices.*"} {
		p.Add(q)
	}
	if p.Len() != 5 {
		t.Fatalf("Len = %d, want 5 (duplicate added once)", p.Len())
	}
	tests := []struct {
		topic string
		want  []string
	}{
		{"prices.AAPL.bid", []string{"*", "*.bid", "prices.*", "prices.AAPL.*"}},
		{"prices.MSFT", []string{"*", "prices.*"}},
		{"news.a", []string{"*", "news.?"}},
		{"news.ab", []string{"*"}},
		{"", []string{"*"}},
	}
	for _, tt := range tests {
		if got := matching(&p, tt.topic); !slices.Equal(got, tt.want) {
			t.Errorf("Each(%q) = %v, want %v", tt.topic, got, tt.want)
		}
	}
}

func TestPatternsRemovePrunesAndKeepsTheRest(t *testing.T) {
	t.Parallel()
	var p Patterns
	p.Add("prices.AAPL.*")
	p.Add("prices.*")
	if !p.Remove("prices.AAPL.*") || p.Remove("prices.AAPL.*") || p.Remove("nope*") {
		t.Fatal("Remove reported wrongly")
	}
	if got := matching(&p, "prices.AAPL.bid"); !slices.Equal(got, []string{"prices.*"}) {
		t.Fatalf("after Remove: %v", got)
	}
	if len(p.root.children['p'].children['r'].children['i'].children['c'].children['e'].children['s'].children['.'].children) != 0 {
		t.Fatal("nodes of the removed pattern were not pruned")
	}
	p.Remove("prices.*")
	if p.Len() != 0 || len(p.root.children) != 0 || len(p.All()) != 0 {
		t.Fatal("set not empty")
	}
}

func TestPatternsAgreeWithMatch(t *testing.T) {
	t.Parallel()
	globs := allStrings("ab*?", 3)
	var p Patterns
	for _, g := range globs {
		p.Add(g)
	}
	for _, tp := range allStrings("ab", 5) {
		var want []string
		for _, g := range globs {
			if Match(g, tp) {
				want = append(want, g)
			}
		}
		slices.Sort(want)
		if got := matching(&p, tp); !slices.Equal(got, want) {
			t.Fatalf("Each(%q) = %v, want %v", tp, got, want)
		}
	}
}

func BenchmarkPatternsEach10K(b *testing.B) {
	var p Patterns
	for i := range 10_000 {
		p.Add(fmt.Sprintf("prices.S%05d.*", i))
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		p.Each("prices.S04242.bid", func(string) bool { n++; return true })
		if n != 1 {
			b.Fatal(n)
		}
	}
}

// BenchmarkPatternsScan10K is what Each saves: matching the topic against
// each of the 10,000 patterns in turn.
func BenchmarkPatternsScan10K(b *testing.B) {
	list := make([]string, 10_000)
	for i := range list {
		list[i] = fmt.Sprintf("prices.S%05d.*", i)
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, q := range list {
			if Match(q, "prices.S04242.bid") {
				n++
			}
		}
		if n != 1 {
			b.Fatal(n)
		}
	}
}
