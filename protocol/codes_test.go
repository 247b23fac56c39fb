package protocol

import "testing"

func TestShouldReconnectFollowsTheCloseTable(t *testing.T) {
	t.Parallel()
	cases := map[int]bool{
		CloseNormal: false, CloseGoingAway: false, CloseForbidden: false,
		CloseMessageTooBig: true, CloseDrain: true, CloseAuthFailed: true,
		CloseIdleTimeout: true, CloseSlowConsumer: true, CloseBackendUnavailable: true, 1006: true, 4999: true,
	}
	for code, want := range cases {
		if got := ShouldReconnect(code); got != want {
			t.Errorf("ShouldReconnect(%d) = %v, want %v", code, got, want)
		}
	}
}

func TestKindStringNamesEveryKind(t *testing.T) {
	t.Parallel()
	want := []string{"unknown", "msg", "raw", "bin", "ping", "pong", "client_hello", "subscription", "batch", "unknown"}
	for k := range Kind(len(want)) {
		if got := k.String(); got != want[k] {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want[k])
		}
	}
}
