package wsconn

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

func TestBackpressureDeliversEverythingInOrder(t *testing.T) {
	t.Parallel()
	s := startServer(t, Config{}, newRecorder(false), AdoptOptions{})
	cl := s.dial(t)
	c := s.nextConn(t)
	const n, size = 1500, 8 << 10
	payload := make([]byte, size)
	for i := range n {
		copy(payload, strconv.Itoa(i)+":")
		if err := c.Enqueue(BuildFrame(OpBinary, payload)); err != nil {
			t.Fatalf("enqueue %d: %v", i, err)
		}
	}
	eventually(t, testTimeout, "a full socket", func() bool { return waitingForOutput(c) })
	for i := range n {
		f := cl.readFrame(t)
		if want := strconv.Itoa(i) + ":"; len(f.Payload) != size || string(f.Payload[:len(want)]) != want {
			t.Fatalf("frame %d: %d bytes starting %q", i, len(f.Payload), f.Payload[:8])
		}
	}
	if q := c.QueuedBytes(); q != 0 {
		t.Fatalf("QueuedBytes = %d after delivery", q)
	}
}

// TestConcurrentClosesAndWritesAreSafe races writes, echoes and every kind
// of close against each other; run it with -race.
func TestConcurrentClosesAndWritesAreSafe(t *testing.T) {
	t.Parallel()
	const conns = 40
	rec := newRecorder(true)
	s := startServer(t, Config{Pollers: 2, Flushers: 3, CloseTimeout: 500 * time.Millisecond, MaxQueueBytes: 64 << 10}, rec, AdoptOptions{})
	var wg sync.WaitGroup
	servers := make([]*Conn, conns)
	for i := range servers {
		cl := s.dial(t)
		servers[i] = s.nextConn(t)
		wg.Go(func() { // client: writes and reads until the connection ends
			for k := range 200 {
				if err := wsutil.WriteClientMessage(cl, ws.OpText, []byte("m"+strconv.Itoa(k))); err != nil {
					return
				}
				if _, _, err := wsutil.ReadServerData(cl); err != nil {
					return
				}
			}
			_ = cl.Close()
		})
	}
	frame := BuildFrame(OpText, []byte("broadcast"))
	for i, c := range servers {
		r := rand.New(rand.NewPCG(uint64(i), 1))
		wg.Go(func() {
			for k := range 300 {
				if err := c.Enqueue(frame); err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrQueueFull) {
					t.Error(err)
					return
				}
				if k == 100+r.IntN(200) {
					switch r.IntN(3) {
					case 0:
						c.Close(CloseNormal, "bye")
					case 1:
						c.CloseNow(ClosePolicyViolation, "slow")
					default:
						c.Abort()
					}
				}
			}
		})
	}
	wg.Wait()
	eventually(t, testTimeout, "every OnClose", func() bool { return s.e.Stats().Conns == 0 })
	s.e.Stop()
	for i, c := range servers {
		if n := rec.closeCount(c); n != 1 {
			t.Fatalf("conn %d: OnClose ran %d times", i, n)
		}
	}
}
