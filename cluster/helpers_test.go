package cluster

import (
	"bufio"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testDelegate records everything a node reports.
type testDelegate struct {
	mu        sync.Mutex
	topics    map[string]struct{}
	presence  []Presence
	published []published
	events    []Presence
	syncs     map[string][]Presence
	ups       []string
	downs     []string
}

type published struct {
	from, topic, payload string
}

func newTestDelegate() *testDelegate {
	return &testDelegate{topics: map[string]struct{}{}, syncs: map[string][]Presence{}}
}

func (d *testDelegate) OnPublish(from, topic string, payload []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.published = append(d.published, published{from, topic, string(payload)})
}

func (d *testDelegate) OnPresence(from string, p Presence) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.events = append(d.events, p)
}

func (d *testDelegate) OnPresenceSync(from string, state []Presence) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.syncs[from] = state
}

func (d *testDelegate) OnPeerUp(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ups = append(d.ups, id)
}

func (d *testDelegate) OnPeerDown(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.downs = append(d.downs, id)
}

func (d *testDelegate) LocalTopics() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 0, len(d.topics))
	for t := range d.topics {
		out = append(out, t)
	}
	return out
}

func (d *testDelegate) LocalPresence() []Presence {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.presence)
}

// received returns the messages delivered on topic.
func (d *testDelegate) received(topic string) []published {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []published
	for _, p := range d.published {
		if p.topic == topic {
			out = append(out, p)
		}
	}
	return out
}

func (d *testDelegate) countDowns(id string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, x := range d.downs {
		if x == id {
			n++
		}
	}
	return n
}

func (d *testDelegate) countUps(id string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, x := range d.ups {
		if x == id {
			n++
		}
	}
	return n
}

// subscribe adds a local topic the way the engine does: own state first,
// then Node.Interest.
func subscribe(n *Node, d *testDelegate, topic string, on bool) {
	d.mu.Lock()
	if on {
		d.topics[topic] = struct{}{}
	} else {
		delete(d.topics, topic)
	}
	d.mu.Unlock()
	n.Interest(topic, on)
}

// testConfig returns a fast configuration for loopback tests.
func testConfig(peers ...string) Config {
	return Config{
		ListenAddr:       "127.0.0.1:0",
		Peers:            peers,
		Heartbeat:        50 * time.Millisecond,
		DeadAfter:        400 * time.Millisecond,
		HandshakeTimeout: 2 * time.Second,
		ReconnectMin:     20 * time.Millisecond,
		ReconnectMax:     200 * time.Millisecond,
		Logger:           slog.New(slog.DiscardHandler),
	}
}

// startNode creates and starts a node, stopped at cleanup.
func startNode(t testing.TB, cfg Config, d Delegate) *Node {
	t.Helper()
	n, err := New(cfg, d)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := n.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(n.Stop)
	return n
}

// eventually polls cond every 5 ms until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// peerIDs returns the ids of n's connected peers.
func peerIDs(n *Node) []string {
	var ids []string
	for _, p := range n.Peers() {
		ids = append(ids, p.ID)
	}
	return ids
}

// hasPeers reports whether n's connected peers are exactly ids.
func hasPeers(n *Node, ids ...string) bool {
	got := peerIDs(n)
	want := slices.Clone(ids)
	slices.Sort(want)
	return slices.Equal(got, want)
}

// wantsFrom reports whether from's link to peer to forwards topic.
func wantsFrom(from *Node, to, topic string) bool {
	for _, l := range from.route.Load().links {
		if l.peerID == to && l.ready.Load() && l.wants(topic) {
			return true
		}
	}
	return false
}

// installedLinks returns the number of installed links of n.
func installedLinks(n *Node) int {
	return len(n.route.Load().links)
}

// fakePeer speaks the cluster protocol by hand over a raw connection.
type fakePeer struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
}

// dialFake connects to addr without a handshake.
func dialFake(t testing.TB, addr string) *fakePeer {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &fakePeer{t: t, conn: c, br: bufio.NewReader(c)}
}

// write sends raw bytes.
func (f *fakePeer) write(b []byte) error {
	_ = f.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_, err := f.conn.Write(b)
	return err
}

// read reads one frame within two seconds.
func (f *fakePeer) read() (frame, error) {
	_ = f.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	fr, _, err := readFrame(f.br, DefaultMaxFrameSize)
	return fr, err
}

// handshake sends HELLO as node id and reads the answer.
func (f *fakePeer) handshake(id string) hello {
	f.t.Helper()
	if err := f.write(encodeHello(hello{version: ProtocolVersion, caps: localCaps, maxFrame: DefaultMaxFrameSize, nodeID: id}, 0)); err != nil {
		f.t.Fatalf("write HELLO: %v", err)
	}
	fr, err := f.read()
	if err != nil || fr.typ != frameHello {
		f.t.Fatalf("read HELLO: %v (type %d)", err, fr.typ)
	}
	h, err := decodeHello(fr.payload)
	if err != nil {
		f.t.Fatalf("decode HELLO: %v", err)
	}
	if fr.flags&flagReject != 0 {
		f.t.Fatalf("HELLO rejected")
	}
	return h
}

// closed reports whether the node closed the connection within two seconds,
// discarding any frames it sends first.
func (f *fakePeer) closed() bool {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := f.read(); err != nil {
			return true
		}
	}
	return false
}

// countingDelegate counts deliveries instead of recording them.
type countingDelegate struct {
	*testDelegate
	count atomic.Int64
}

func (d *countingDelegate) OnPublish(string, string, []byte) { d.count.Add(1) }
