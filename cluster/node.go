package cluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"math"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Node is one member of the mesh. Create it with New, then Start; Stop ends it.
type Node struct {
	cfg Config
	d   Delegate
	log *slog.Logger
	tls *tls.Config
	// tlsState is the TLS material behind tls (nil without TLS).
	tlsState *tlsState
	id       string
	// ctx is canceled by Stop; it bounds dials and handshakes.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	stats  counters
	dlq    *deadLetters

	stopOnce sync.Once
	draining atomic.Bool

	// route holds the copy-on-write list of installed links (ready or
	// not) and the peers Publish cannot reach; replaced under mu and read
	// lock-free by Publish, Interest and SendPresence.
	route atomic.Pointer[routeTable]

	mu sync.Mutex
	// Guarded by mu: the listener and its addresses, the lifecycle flags,
	// the peers by node id, the dial targets by address, the raw
	// connections still in their handshake (closed by Stop), and addresses
	// found to be this node.
	ln        net.Listener
	addr      string
	advertise string
	started   bool
	stopped   bool
	peers     map[string]*peer
	targets   map[string]*target
	pending   map[net.Conn]struct{}
	selfAddrs map[string]struct{}
	// retiring holds replaced links still handing over to their successor
	// (link.retire); Stop flushes and closes them.
	retiring map[*link]struct{}
	// departed holds peers reported down, so that their return counts as
	// a reconnect; at most MaxPeers entries.
	departed map[string]struct{}
}

// routeTable is what Publish reads: the installed links, and the last ready
// link of every peer that is up without a link that routes (its link was
// lost, or a new one is not ready yet), whose interest tells which
// publications that peer misses.
type routeTable struct {
	links []*link
	downs []*link
}

// peer is what the node knows about one other node across its links.
type peer struct {
	id string
	// ev serializes OnPeerUp and OnPeerDown for this peer; taken before Node.mu.
	ev sync.Mutex
	// Guarded by Node.mu: link is the installed link (nil when none); up is
	// the delegate's view (OnPeerUp delivered and no OnPeerDown since); lost
	// says a ready link was lost (not replaced) and none is ready since;
	// timer delivers OnPeerDown when a lost link does not come back in time;
	// last is the last link that was ready while the peer is up; addr is
	// the address of the last link installed, for log lines.
	link  *link
	up    bool
	lost  bool
	timer *time.Timer
	last  *link
	addr  string
}

// New validates cfg, loads the TLS files and returns a Node that is not yet
// listening. An invalid configuration fails with an error wrapping
// ErrInvalidConfig.
func New(cfg Config, d Delegate) (*Node, error) {
	if d == nil {
		return nil, fmt.Errorf("%w: nil Delegate", ErrInvalidConfig)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg:       cfg,
		d:         d,
		log:       cfg.Logger,
		id:        cfg.NodeID,
		dlq:       newDeadLetters(cfg.DLQSize, cfg.DLQBytes),
		peers:     make(map[string]*peer),
		targets:   make(map[string]*target),
		pending:   make(map[net.Conn]struct{}),
		retiring:  make(map[*link]struct{}),
		selfAddrs: make(map[string]struct{}),
		departed:  make(map[string]struct{}),
	}
	if cfg.TLSCA != "" {
		if n.tls, n.tlsState, err = loadTLS(cfg.TLSCA, cfg.TLSCert, cfg.TLSKey); err != nil {
			return nil, err
		}
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.route.Store(&routeTable{})
	return n, nil
}

// Start listens on ListenAddr and starts dialing the static peers and seeds.
// It returns once the listener is bound. It fails with ErrStopped when called
// twice or after Stop.
func (n *Node) Start() error {
	n.mu.Lock()
	if n.started || n.stopped {
		n.mu.Unlock()
		return ErrStopped
	}
	n.started = true
	n.mu.Unlock()

	ln, err := net.Listen("tcp", n.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("cluster: listen %s: %w", n.cfg.ListenAddr, err)
	}
	addr := ln.Addr().String()
	adv := n.cfg.AdvertiseAddr
	if adv == "" {
		if host, _, _ := net.SplitHostPort(addr); !net.ParseIP(host).IsUnspecified() {
			adv = addr
		} else {
			n.log.Warn("cluster: listening on a wildcard address without AdvertiseAddr; peers cannot learn this node from gossip", "addr", addr)
		}
	}
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		_ = ln.Close()
		return ErrStopped
	}
	n.ln, n.addr, n.advertise = ln, addr, adv
	n.mu.Unlock()

	if n.tls == nil {
		n.log.Warn("cluster: no TLS settings; peer links are plain, unauthenticated TCP", "addr", addr)
	}
	n.log.Info("cluster: listening", "node", n.id, "addr", addr, "advertise", adv, "tls", n.tls != nil)
	n.wg.Add(1)
	go n.acceptLoop(ln)
	for _, a := range slices.Concat(n.cfg.Peers, n.cfg.Seeds) {
		n.addTarget(a, "", false)
	}
	return nil
}

// Stop tells every peer SHUTDOWN, flushes and closes the links (waiting at
// most DeadAfter for the flush), stops dialing and listening, waits for all
// goroutines, and reports OnPeerDown for every peer that was up. It is
// idempotent and may be called before Start.
func (n *Node) Stop() {
	n.shutdown(true)
}

// shutdown stops the node; graceful sends SHUTDOWN and reports OnPeerDown,
// otherwise the node vanishes like a killed process (a test hook).
func (n *Node) shutdown(graceful bool) {
	n.stopOnce.Do(func() {
		n.mu.Lock()
		n.stopped = true
		ln := n.ln
		conns := make([]net.Conn, 0, len(n.pending))
		for c := range n.pending {
			conns = append(conns, c)
		}
		for _, p := range n.peers {
			if p.timer != nil {
				p.timer.Stop()
				p.timer = nil
			}
		}
		retiring := make([]*link, 0, len(n.retiring))
		for l := range n.retiring {
			retiring = append(retiring, l)
		}
		n.mu.Unlock()
		n.cancel()
		if ln != nil {
			_ = ln.Close()
		}
		for _, c := range conns {
			_ = c.Close()
		}
		links := n.route.Load().links
		if graceful {
			shutdown := encodeFrame(frameShutdown, 0, "", nil)
			for _, l := range links {
				l.sendFirst(shutdown, frameShutdown)
			}
			flush, cancel := context.WithTimeout(context.Background(), n.cfg.DeadAfter)
			for _, l := range links {
				select {
				case <-l.done:
				case <-flush.Done():
				}
			}
			// A retiring link's frames are older than its successor's:
			// they get the same chance to go out.
			for _, l := range retiring {
				select {
				case <-l.writerDone:
				case <-flush.Done():
				}
			}
			cancel()
		}
		for _, l := range links {
			l.close(ErrStopped)
		}
		for _, l := range retiring {
			l.close(ErrStopped)
		}
		n.wg.Wait()
		if !graceful {
			return
		}
		n.mu.Lock()
		peers := make([]*peer, 0, len(n.peers))
		for _, p := range n.peers {
			peers = append(peers, p)
		}
		n.mu.Unlock()
		for _, p := range peers {
			p.ev.Lock()
			n.mu.Lock()
			up := p.up
			p.up = false
			n.mu.Unlock()
			if up {
				n.d.OnPeerDown(p.id)
			}
			p.ev.Unlock()
		}
		n.log.Info("cluster: stopped", "node", n.id)
	})
}

// Addr returns the bound listen address ("" before Start).
func (n *Node) Addr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addr
}

// ID returns this node's id.
func (n *Node) ID() string {
	return n.id
}

// Publish queues a message for every connected peer that has subscribers for
// topic (interest routing) and returns how many peers it was queued for. It
// never blocks: a full peer queue drops the message into the dead-letter
// queue. An interested peer whose link is down (not yet relinked, not yet
// declared down) misses the message: that is counted and dead-lettered
// too. payload is copied into the frame; the caller keeps it. Call it only
// for messages published on this node, never for ones received through
// Delegate.OnPublish.
func (n *Node) Publish(topic string, payload []byte) int {
	return n.PublishGroups(topic, payload, nil)
}

// PublishGroups is Publish that also tells peers which queue groups of
// topic to serve: assign maps a peer id to the groups it is to give the
// message to one member of (QueueGroupPeers says which peers have members).
// A peer not in assign, on a link with CapQueue, serves none of its groups.
func (n *Node) PublishGroups(topic string, payload []byte, assign map[string][]string) int {
	var b []byte
	queued := 0
	rt := n.route.Load()
	// Peers routed below; a peer can be both in rt.downs and routed when
	// its new link became ready after rt was built.
	var routedBuf [8]string
	routed := routedBuf[:0]
	for _, l := range rt.links {
		if !l.routes(topic) {
			continue
		}
		if len(rt.downs) > 0 {
			routed = append(routed, l.peerID)
		}
		if b == nil {
			if len(topic) > math.MaxUint16 {
				n.deadLetter(l.peerID, topic, payload, fmt.Errorf("%w: topic of %d bytes", ErrFrameTooLarge, len(topic)))
				continue
			}
			b = encodeFrame(frameMsg, 0, topic, payload)
		}
		fb := b
		if groups := assign[l.peerID]; len(groups) > 0 && l.caps&CapQueue != 0 && groupsFit(groups) {
			fb = encodeGroupMsg(topic, payload, groups)
		}
		if len(fb) > l.maxOut {
			n.deadLetter(l.peerID, topic, payload, fmt.Errorf("%w: %d bytes, peer cap %d", ErrFrameTooLarge, len(fb), l.maxOut))
			continue
		}
		if err := l.sendMsg(fb); err != nil {
			n.deadLetter(l.peerID, topic, payload, err)
			continue
		}
		queued++
	}
	for _, l := range rt.downs {
		if !slices.Contains(routed, l.peerID) && l.wants(topic) {
			n.deadLetter(l.peerID, topic, payload, ErrLinkDown)
		}
	}
	return queued
}

// Interest reports a change of local interest: on is a topic's (or
// pattern's) subscriber count going 0→1, !on going 1→0. Peers then forward
// (or stop forwarding) that topic to this node. The engine updates the set
// LocalTopics returns before calling it. It never blocks.
func (n *Node) Interest(topic string, on bool) {
	n.InterestMany([]string{topic}, on)
}

// InterestMany is Interest for many topics at once, sent in as few frames
// as the frame cap allows. Topics longer than 65535 bytes are skipped.
func (n *Node) InterestMany(topics []string, on bool) {
	typ := frameUnsub
	if on {
		typ = frameSub
	}
	var frames [][]byte
	for _, l := range n.route.Load().links {
		if l.caps&CapInterest == 0 {
			continue
		}
		if frames == nil {
			// Chunk for the smallest frame cap any peer may have.
			for _, c := range chunkTopics(topics, MinMaxFrameSize-frameOverhead) {
				if len(c) > 0 {
					frames = append(frames, encodeFrame(typ, 0, "", c))
				}
			}
		}
		for _, b := range frames {
			l.sendControl(b, typ)
		}
	}
}

// SendPresence sends one local presence change to every peer. It never blocks.
func (n *Node) SendPresence(p Presence) {
	if len(p.Topic) > math.MaxUint16 || len(p.UserID) > math.MaxUint16 {
		return
	}
	var b []byte
	for _, l := range n.route.Load().links {
		if l.caps&CapPresence == 0 {
			continue
		}
		if b == nil {
			b = encodePresence(p)
		}
		if len(b) <= l.maxOut {
			l.sendControl(b, framePresence)
		}
	}
}

// Drain tells every peer (and every later one) to stop forwarding messages
// to this node, ahead of Stop; links, presence and interest updates stay.
func (n *Node) Drain() {
	if n.draining.Swap(true) {
		return
	}
	b := encodeFrame(frameDrain, 0, "", nil)
	for _, l := range n.route.Load().links {
		l.sendControl(b, frameDrain)
	}
}

// Connected reports whether at least one peer link is up.
func (n *Node) Connected() bool {
	for _, l := range n.route.Load().links {
		if l.ready.Load() {
			return true
		}
	}
	return false
}

// Peers describes the peers whose link is up, sorted by id.
func (n *Node) Peers() []PeerInfo {
	var out []PeerInfo
	for _, l := range n.route.Load().links {
		if !l.ready.Load() {
			continue
		}
		out = append(out, PeerInfo{
			ID:           l.peerID,
			Address:      l.address(),
			Capabilities: l.caps,
			ConnectedAt:  l.connectedAt,
			Inbound:      l.inbound,
			RTT:          time.Duration(l.rtt.Load()),
			Queued:       l.queued(),
		})
	}
	slices.SortFunc(out, func(a, b PeerInfo) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// Stats returns a snapshot of the node's counters.
func (n *Node) Stats() Stats {
	st := &n.stats
	s := Stats{
		MessagesSent:      st.msgsSent.Load(),
		MessagesDelivered: st.msgsDelivered.Load(),
		MessagesDropped:   st.msgsDropped.Load(),
		BytesSent:         st.bytesSent.Load(),
		BytesReceived:     st.bytesReceived.Load(),
		FramesSent:        st.framesSent.Load(),
		FramesReceived:    st.framesReceived.Load(),
		Reconnects:        st.reconnects.Load(),
		UnknownFrames:     st.unknownFrames.Load(),
		BadFrames:         st.badFrames.Load(),
		HandshakeFailures: st.handshakeFailures.Load(),
		TLSRefused:        st.tlsRefused.Load(),
		TLSReloads:        st.tlsReloads.Load(),
		LinkGaps:          st.linkGaps.Load(),
		DLQSize:           n.dlq.size(),
	}
	for _, l := range n.route.Load().links {
		if l.ready.Load() {
			s.PeersConnected++
		}
	}
	return s
}

// DLQ removes and returns the dead-letter entries, oldest first.
func (n *Node) DLQ() []DLQEntry {
	return n.dlq.drain()
}

// deadLetter records a message that could not be sent to peer.
func (n *Node) deadLetter(peer, topic string, payload []byte, err error) {
	n.stats.msgsDropped.Add(1)
	n.dlq.add(DLQEntry{Topic: topic, Payload: slices.Clone(payload), Peer: peer, Err: err, Time: time.Now()})
}

// failFrames dead-letters the MSG frames of a batch that was not written.
func (n *Node) failFrames(l *link, frames []outFrame, err error) {
	for _, f := range frames {
		if f.typ != frameMsg {
			continue
		}
		n.stats.msgsDropped.Add(1)
		if d, _, derr := decodeFrame(f.b, math.MaxInt); derr == nil {
			n.dlq.add(DLQEntry{Topic: d.topic, Payload: d.payload, Peer: l.peerID, Err: err, Time: time.Now()})
		}
	}
}

// publishRouteLocked rebuilds the lock-free route table from the peers.
// n.mu must be held; call it whenever a peer's link, its readiness or the
// peer's up state changes.
func (n *Node) publishRouteLocked() {
	ls := make([]*link, 0, len(n.peers))
	var downs []*link
	for _, p := range n.peers {
		if p.link != nil {
			ls = append(ls, p.link)
		}
		routable := p.link != nil && (p.link.ready.Load() || p.link.inherit.Load() != nil)
		if p.up && p.last != nil && !routable {
			downs = append(downs, p.last)
		}
	}
	n.route.Store(&routeTable{links: ls, downs: downs})
}

// install makes l the link to its peer. A second link to the same peer
// replaces the first unless the first is preferred (dialed by the lower
// node id) and the second is not, in which case it fails with
// ErrDuplicateLink. Both ends apply the same rule, so exactly one link per
// pair of nodes survives. The replaced link retires (its frames in flight
// are delivered before l's) when the peer supports it, else it closes.
func (n *Node) install(l *link) error {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return ErrStopped
	}
	p := n.peers[l.peerID]
	if p == nil {
		p = &peer{id: l.peerID}
		n.peers[l.peerID] = p
	}
	old := p.link
	if old != nil && old.preferred && !l.preferred {
		n.mu.Unlock()
		return ErrDuplicateLink
	}
	live := old != nil && !old.isClosed()
	if old != nil && !live && old.ready.Load() {
		p.lost = true // lost before its teardown reached detach
	}
	if live {
		if old.ready.Load() {
			l.inherit.Store(old)
		} else if prev := old.inherit.Load(); prev != nil {
			l.inherit.Store(prev)
		}
	}
	retire := live && old.caps&CapRetire != 0
	if retire {
		n.retiring[old] = struct{}{}
	}
	p.link = l
	l.replaced = old
	n.publishRouteLocked()
	n.mu.Unlock()
	switch {
	case retire:
		n.log.Debug("cluster: link replaced by a preferred one; retiring it", "peer", l.peerID, "addr", l.address())
		old.retire(l)
	case old != nil:
		n.log.Debug("cluster: link replaced by a preferred one", "peer", l.peerID, "addr", l.address())
		old.close(ErrDuplicateLink)
	}
	return nil
}

// linkReady marks l ready once the peer's interest is known, and reports
// OnPeerUp if the peer was down. Called from l's reader.
func (n *Node) linkReady(l *link) {
	n.mu.Lock()
	p := n.peers[l.peerID]
	n.mu.Unlock()
	if p == nil {
		return
	}
	p.ev.Lock()
	defer p.ev.Unlock()
	n.mu.Lock()
	if p.link != l || n.stopped {
		n.mu.Unlock()
		return
	}
	l.ready.Store(true)
	l.inherit.Store(nil)
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	regained := false
	if _, ok := n.departed[p.id]; ok || p.lost {
		delete(n.departed, p.id)
		p.lost = false
		n.stats.reconnects.Add(1)
		regained = true
	}
	wasUp := p.up
	p.up = true
	p.last = l
	p.addr = l.address()
	n.publishRouteLocked()
	n.mu.Unlock()
	n.log.Info("cluster: peer link up", "peer", l.peerID, "addr", l.address(), "inbound", l.inbound)
	if !wasUp {
		n.d.OnPeerUp(l.peerID)
	}
	if regained {
		n.linkGap(l.peerID)
	}
	n.gossip(l)
}

// linkGap tells a GapDelegate that messages with peer may have been lost.
func (n *Node) linkGap(peer string) {
	n.stats.linkGaps.Add(1)
	if g, ok := n.d.(GapDelegate); ok {
		g.OnLinkGap(peer)
	}
}

// detach removes a finished link. If it was the peer's link and the peer
// was up, OnPeerDown follows at once for a SHUTDOWN, or DeadAfter after the
// link's last frame unless a new link is ready by then.
func (n *Node) detach(l *link) {
	gap := false
	defer func() { // after the unlock below
		if gap {
			n.linkGap(l.peerID)
		}
	}()
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.retiring, l)
	p := n.peers[l.peerID]
	if p == nil || p.link != l {
		return
	}
	p.link = nil
	if l.graceful.Load() {
		p.last = nil // a peer that said SHUTDOWN is leaving, not missing messages
	}
	n.publishRouteLocked()
	if n.stopped {
		return
	}
	if l.graceful.Load() {
		n.forgetLocked(l.peerID)
	}
	if l.ready.Load() {
		p.lost = true
		gap = !l.graceful.Load()
	}
	if !p.up {
		if p.timer == nil {
			delete(n.peers, p.id)
		}
		return
	}
	delay := time.Duration(0)
	if !l.graceful.Load() {
		delay = time.Until(time.Unix(0, l.lastSeen.Load()).Add(n.cfg.DeadAfter))
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	p.timer = time.AfterFunc(max(delay, 0), func() { n.peerTimeout(p) })
}

// peerTimeout reports OnPeerDown for a peer whose link did not come back.
func (n *Node) peerTimeout(p *peer) {
	p.ev.Lock()
	defer p.ev.Unlock()
	n.mu.Lock()
	if n.stopped || !p.up || (p.link != nil && p.link.ready.Load()) {
		n.mu.Unlock()
		return
	}
	p.up = false
	p.timer = nil
	p.last = nil
	addr := p.addr
	n.publishRouteLocked()
	n.mu.Unlock()
	n.log.Info("cluster: peer down", "peer", p.id, "addr", addr)
	n.d.OnPeerDown(p.id)
	n.mu.Lock()
	if p.link == nil && !p.up && n.peers[p.id] == p {
		delete(n.peers, p.id)
		if len(n.departed) >= n.cfg.MaxPeers {
			clear(n.departed)
		}
		n.departed[p.id] = struct{}{}
	}
	n.mu.Unlock()
}

// trackConn registers a connection in its handshake so Stop can close it;
// it fails once the node is stopped.
func (n *Node) trackConn(c net.Conn) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return false
	}
	n.pending[c] = struct{}{}
	return true
}

// untrackConn ends the tracking started by trackConn.
func (n *Node) untrackConn(c net.Conn) {
	n.mu.Lock()
	delete(n.pending, c)
	n.mu.Unlock()
}

// startLink runs the writer and reader of an installed link.
func (n *Node) startLink(l *link) {
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		l.writeLoop()
	}()
	go func() {
		defer n.wg.Done()
		l.run()
	}()
}
