package wse_test

import (
	"testing"

	"github.com/wse-go/wse"
)

func TestConnectionInfosListNewestFirstWithTopicsAndUser(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{JWT: wse.JWTConfig{Secret: testSecret}})
	_, first := ready(t, wsURL(srv, ""), bearer(token(t, "alice", nil)))
	_, second := ready(t, wsURL(srv, ""), bearer(token(t, "bob", nil)))
	if err := srv.Subscribe(connID(second), []string{"b", "a"}, nil); err != nil {
		t.Fatal(err)
	}
	infos := srv.ConnectionInfos(0)
	if len(infos) != 2 || infos[0].ID != connID(second) || infos[1].ID != connID(first) {
		t.Fatalf("ConnectionInfos = %+v, want bob then alice", infos)
	}
	bob := infos[0]
	if bob.UserID != "bob" || len(bob.Topics) != 2 || bob.Topics[0] != "a" || bob.Topics[1] != "b" || bob.RemoteAddr == "" || bob.LastActivity.IsZero() {
		t.Fatalf("bob = %+v", bob)
	}
	if got := srv.ConnectionInfos(1); len(got) != 1 || got[0].ID != connID(second) {
		t.Fatalf("ConnectionInfos(1) = %+v", got)
	}
}
