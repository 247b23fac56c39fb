// Command raw-floor is the benchmark's floor: the least a WebSocket server
// can do on this machine. It upgrades with gobwas/ws, keeps every connection
// in a slice, and on POST /api/publish frames the body once and writes the
// same bytes straight to every socket (split over GOMAXPROCS goroutines),
// answering only after every write returned. There is no queue, no protocol,
// no authentication. Each connection has one goroutine with a small read
// buffer that answers pings, echoes data frames (the p2p scenario) and
// detects close.
//
// Endpoints: GET /ws (upgrade; the first frame is {"t":"ready"}, sent once
// the connection is registered), POST /api/publish (body = message),
// GET /stats (?gc=1 forces a GC first). It listens on loopback only and exits
// by itself after -maxtime.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/wse-go/wse/bench/internal/peerserver"
	"github.com/wse-go/wse/bench/internal/wsframe"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:19300", "listen address (loopback only)")
	maxtime := flag.Duration("maxtime", 10*time.Minute, "exit after this long, whatever happens")
	readBuf := flag.Int("read-buf", 512, "per-connection read buffer (bytes)")
	flag.Parse()
	peerserver.Guard("raw-floor", *addr, *maxtime, os.Exit)
	s := &floor{readBuf: *readBuf}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", s.upgrade)
	mux.HandleFunc("POST /api/publish", s.publish)
	mux.HandleFunc("GET /stats", s.stats)
	banner := func(a net.Addr) string {
		return fmt.Sprintf("raw-floor: ws://%s/ws, publish http://%s/api/publish", a, a)
	}
	if err := peerserver.Serve("raw-floor", *addr, mux, banner, os.Exit); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// rconn is one upgraded connection.
type rconn struct {
	nc net.Conn
	// mu serializes writes (broadcast and echo) and guards dead.
	mu   sync.Mutex
	dead bool
	idx  int // position in floor.conns, guarded by floor.mu
}

// floor is the server state.
type floor struct {
	readBuf int

	// mu guards conns and each rconn.idx.
	mu    sync.Mutex
	conns []*rconn

	// pubMu makes broadcasts sequential and guards snap.
	pubMu sync.Mutex
	snap  []*rconn
}

var readyFrame = wsframe.AppendFrame(nil, wsframe.OpText, nil, []byte(`{"t":"ready"}`))

func (s *floor) upgrade(w http.ResponseWriter, r *http.Request) {
	nc, rw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return
	}
	c := &rconn{nc: nc}
	s.mu.Lock()
	c.idx = len(s.conns)
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	if _, err := nc.Write(readyFrame); err != nil {
		s.drop(c)
		return
	}
	// Bytes the client sent right after the handshake may sit in rw's buffer.
	pending := make([]byte, rw.Reader.Buffered())
	_, _ = io.ReadFull(rw.Reader, pending)
	go s.readLoop(c, pending)
}

// drop closes c and removes it from the registry (O(1), order not kept).
func (s *floor) drop(c *rconn) {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	c.dead = true
	_ = c.nc.Close()
	c.mu.Unlock()
	s.mu.Lock()
	last := s.conns[len(s.conns)-1]
	s.conns[c.idx] = last
	last.idx = c.idx
	s.conns[len(s.conns)-1] = nil
	s.conns = s.conns[:len(s.conns)-1]
	s.mu.Unlock()
}

// write sends a pre-built frame to c; it reports false when c is gone.
func (c *rconn) write(frame []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return false
	}
	_, err := c.nc.Write(frame)
	return err == nil
}

// readLoop reads client frames into one small buffer: data frames are echoed,
// pings answered, close ends the connection.
func (s *floor) readLoop(c *rconn, pending []byte) {
	defer s.drop(c)
	buf := make([]byte, max(s.readBuf, len(pending), 64))
	w := copy(buf, pending)
	r := 0
	var out []byte
	for {
		for {
			h, err := wsframe.ParseHeader(buf[r:w])
			if errors.Is(err, wsframe.ErrShort) {
				break
			}
			if err != nil || !h.Masked {
				return
			}
			total := h.Size + int(h.Len)
			if h.Len > 1<<20 {
				return
			}
			if w-r < total {
				if total > len(buf) {
					nb := make([]byte, total)
					w = copy(nb, buf[r:w])
					r = 0
					buf = nb
				}
				break
			}
			p := buf[r+h.Size : r+total]
			r += total
			wsframe.Mask(p, h.Mask, 0)
			switch h.Op {
			case wsframe.OpText, wsframe.OpBinary:
				out = wsframe.AppendFrame(out[:0], h.Op, nil, p)
			case wsframe.OpPing:
				out = wsframe.AppendFrame(out[:0], wsframe.OpPong, nil, p)
			case wsframe.OpClose:
				out = wsframe.AppendFrame(out[:0], wsframe.OpClose, nil, p[:min(len(p), 2)])
				c.write(out)
				return
			default:
				continue
			}
			if !c.write(out) {
				return
			}
		}
		if r == w {
			r, w = 0, 0
		} else if w == len(buf) {
			w = copy(buf, buf[r:w])
			r = 0
		}
		n, err := c.nc.Read(buf[w:])
		w += n
		if err != nil && n == 0 {
			return
		}
	}
}

func (s *floor) publish(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	frame, err := ws.CompileFrame(ws.NewTextFrame(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.pubMu.Lock()
	s.mu.Lock()
	s.snap = append(s.snap[:0], s.conns...)
	s.mu.Unlock()
	conns := s.snap
	shards := min(runtime.GOMAXPROCS(0), max(len(conns), 1))
	var wg sync.WaitGroup
	failed := make([][]*rconn, shards)
	for i := range shards {
		part := conns[i*len(conns)/shards : (i+1)*len(conns)/shards]
		wg.Go(func() {
			for _, c := range part {
				if !c.write(frame) {
					failed[i] = append(failed[i], c)
				}
			}
		})
	}
	wg.Wait()
	delivered := len(conns)
	s.pubMu.Unlock()
	for _, f := range failed {
		for _, c := range f {
			delivered--
			s.drop(c)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"delivered":%d}`, delivered)
}

func (s *floor) stats(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	peerserver.WriteStats(w, r, n, n)
}
