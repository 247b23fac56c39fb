package monitor_test

import (
	"testing"
	"time"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/monitor"
)

func TestStatusFollowsTheEngineLifecycle(t *testing.T) {
	t.Parallel()
	srv, err := wse.NewServer(wse.Config{Host: "127.0.0.1", Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	if got := monitor.Status(srv); got != monitor.StatusStopped {
		t.Errorf("before Start: %q", got)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	if got := monitor.Status(srv); got != monitor.StatusOK {
		t.Errorf("running: %q", got)
	}
	srv.Drain(0, "", time.Second)
	if got := monitor.Status(srv); got != monitor.StatusDraining {
		t.Errorf("drained, not stopped: %q", got)
	}
	srv.Stop()
	if got := monitor.Status(srv); got != monitor.StatusStopped {
		t.Errorf("stopped: %q", got)
	}
	// A Source that cannot say whether it accepts is reported ok.
	if got := monitor.Status(newFake()); got != monitor.StatusOK {
		t.Errorf("fake source: %q", got)
	}
}
