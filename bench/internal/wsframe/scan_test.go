package wsframe

import "testing"

func TestNextStampFindsEveryStamp(t *testing.T) {
	t.Parallel()
	type stamp struct{ seq, ts int64 }
	tests := []struct {
		name string
		in   string
		want []stamp
	}{
		{"plain", `{"t":"bench","p":{"seq":7,"ts":1700000000123456789,"b":"xx"}}`, []stamp{{7, 1700000000123456789}}},
		{"wse category", `{"c":"U","t":"bench","p":{"seq":0,"ts":5}}`, []stamp{{0, 5}}},
		{"centrifuge batch", `{"push":{"channel":"bench","pub":{"data":{"p":{"seq":1,"ts":10}}}}}` + "\n" +
			`{"push":{"channel":"bench","pub":{"data":{"p":{"seq":2,"ts":20}}}}}`, []stamp{{1, 10}, {2, 20}}},
		{"negative ts", `{"seq":3,"ts":-4}`, []stamp{{3, -4}}},
		{"no stamp", `{"c":"WSE","t":"ping","p":{"server_time":1}}`, nil},
		{"seq without ts", `{"seq":3}`, nil},
		{"seq not a number", `{"seq":"x","ts":1}`, nil},
		{"truncated ts", `{"seq":1,"ts":`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []stamp
			p := []byte(tt.in)
			for i, pos := 0, 0; i < 10; i++ {
				seq, ts, next, ok := NextStamp(p, pos)
				if !ok {
					break
				}
				got = append(got, stamp{seq, ts})
				pos = next
			}
			if len(got) != len(tt.want) {
				t.Fatalf("stamps = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("stamps = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestNextStampDoesNotAllocate(t *testing.T) {
	p := []byte(`{"c":"U","t":"bench","p":{"seq":12345,"ts":1700000000123456789,"b":"xxxxxxxxxxxxxxxx"}}`)
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, _, ok := NextStamp(p, 0); !ok {
			t.Fatal("no stamp")
		}
	})
	if allocs != 0 {
		t.Fatalf("NextStamp allocates %.1f times per call", allocs)
	}
}
