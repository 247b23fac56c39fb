package protocol

import "testing"

func TestCategoryClassifiesProtocolTypes(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"pong": "WSE", "client_hello_ack": "WSE", "connection_state_change": "WSE",
		"snapshot_complete": "S", "snapshot_": "S", "a_snapshot": "S", "snapshot": "U",
		"client_hello": "U", "batch": "U", "Ping": "U",
	}
	for typ, want := range cases {
		if got := Category(typ); got != want {
			t.Errorf("Category(%q) = %q, want %q", typ, got, want)
		}
	}
}

func TestInjectCategoryHandlesEdgeCases(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, out string }{
		{"escaped type", `{"t":"\u0070ing"}`, `{"c":"WSE","t":"\u0070ing"}`},
		{"escaped key", `{"\u0074":"user_snapshot"}`, `{"c":"S","\u0074":"user_snapshot"}`},
		{"escaped c key", `{"\u0063":"U","t":"x"}`, `{"\u0063":"U","t":"x"}`},
		{"last t wins", `{"t":"x","t":"error"}`, `{"c":"WSE","t":"x","t":"error"}`},
		{"last t not a string", `{"t":"x","t":null}`, `{"t":"x","t":null}`},
		{"t number", `{"t":5}`, `{"t":5}`},
		{"c after t", `{"t":"x","p":{},"c":"S"}`, `{"t":"x","p":{},"c":"S"}`},
		{"nested c only", `{"p":{"c":"S"},"t":"x"}`, `{"c":"U","p":{"c":"S"},"t":"x"}`},
		{"t in array", `{"a":[{"t":"error"}],"t":"x"}`, `{"c":"U","a":[{"t":"error"}],"t":"x"}`},
		{"newlines", "{\n \"t\" :\n \"error\"\n}\n", "{\"c\":\"WSE\",\n \"t\" :\n \"error\"\n}\n"},
		{"broken", `{"t":"x"`, `{"t":"x"`},
		{"trailing garbage", `{"t":"x"} y`, `{"t":"x"} y`},
		{"two objects", `{"t":"x"}{"t":"y"}`, `{"t":"x"}{"t":"y"}`},
		{"empty", ``, ``},
		{"empty object", `{}`, `{}`},
		{"bad escape", `{"t":"\q"}`, `{"t":"\q"}`},
		{"long escaped type", `{"t":"\u0061bcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz_snapshot"}`,
			`{"c":"S","t":"\u0061bcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz_snapshot"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(InjectCategory([]byte(tc.in))); got != tc.out {
				t.Fatalf("InjectCategory(%q) = %q, want %q", tc.in, got, tc.out)
			}
		})
	}
}

func TestInjectCategoryAllocatesOnlyTheOutput(t *testing.T) {
	in := []byte(`{"t":"chat_message","p":{"room":"general","text":"hello there","n":[1,2,3]}}`)
	if n := testing.AllocsPerRun(100, func() { InjectCategory(in) }); n != 1 {
		t.Fatalf("allocations = %v, want 1", n)
	}
	same := []byte(`{"c":"U","t":"x"}`)
	if n := testing.AllocsPerRun(100, func() { InjectCategory(same) }); n != 0 {
		t.Fatalf("allocations for unchanged text = %v, want 0", n)
	}
}
