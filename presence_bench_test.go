package wse

import (
	"strconv"
	"testing"
)

// presenceBenchServer returns a server (not started) with presence on and n
// connection states of distinct users subscribed to topic "room". The
// connections have no socket: the benchmarks measure the presence registry.
func presenceBenchServer(b *testing.B, n int) (*Server, []*conn) {
	b.Helper()
	s, err := NewServer(Config{Presence: PresenceConfig{Enabled: true}, MaxInboundQueueSize: 1})
	if err != nil {
		b.Fatal(err)
	}
	conns := make([]*conn, n)
	for i := range conns {
		c := &conn{id: "c" + strconv.Itoa(i), userID: "u" + strconv.Itoa(i), srv: s}
		c.topics = map[string]struct{}{"room": {}}
		conns[i] = c
	}
	return s, conns
}

// BenchmarkPresenceJoinLeaveChurn10K measures one join plus one leave of a
// user in a topic that holds 10,000 users.
func BenchmarkPresenceJoinLeaveChurn10K(b *testing.B) {
	s, conns := presenceBenchServer(b, 10_001)
	data := map[string]any{"status": "online"}
	for _, c := range conns[1:] {
		if err := s.joinPresence(c, []string{"room"}, data); err != nil {
			b.Fatal(err)
		}
	}
	churn := conns[0]
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := s.joinPresence(churn, []string{"room"}, data); err != nil {
			b.Fatal(err)
		}
		s.leavePresence(churn, []string{"room"})
	}
	b.StopTimer()
	if st := s.PresenceStats("room"); st.NumUsers != 10_000 {
		b.Fatalf("users = %d", st.NumUsers)
	}
}

// BenchmarkPresenceStats10K measures PresenceStats on a topic of 10,000 users.
func BenchmarkPresenceStats10K(b *testing.B) {
	s, conns := presenceBenchServer(b, 10_000)
	for _, c := range conns {
		if err := s.joinPresence(c, []string{"room"}, map[string]any{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if s.PresenceStats("room").NumUsers != 10_000 {
			b.Fatal("wrong count")
		}
	}
}
