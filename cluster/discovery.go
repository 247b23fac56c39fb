package cluster

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/wse-go/wse/internal/backoff"
)

// forgetFactor times DeadAfter is how long a learned address may fail to
// answer before it is forgotten.
const forgetFactor = 20

// target is an address this node keeps a link to: a static peer, a seed,
// or an address learned from gossip or from a peer's HELLO. Each target has
// one dial loop.
type target struct {
	addr string
	// learned targets are forgotten when they fail for forgetFactor·DeadAfter
	// or their node shuts down; static peers and seeds are dialed forever.
	learned bool
	// forget is closed to end the dial loop.
	forget chan struct{}
	// id is the node id last seen at addr ("" before the first HELLO);
	// guarded by Node.mu.
	id string
}

// addTarget starts a dial loop for addr unless it is known, our own, or
// over MaxPeers. id, when known, lets the loop park while that node is linked.
func (n *Node) addTarget(addr, id string, learned bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped || addr == n.addr || addr == n.advertise {
		return
	}
	if t, ok := n.targets[addr]; ok {
		if t.id == "" {
			t.id = id
		}
		return
	}
	if len(n.targets) >= n.cfg.MaxPeers {
		n.log.Debug("cluster: MaxPeers reached; address ignored", "addr", addr, "max", n.cfg.MaxPeers)
		return
	}
	t := &target{addr: addr, learned: learned, id: id, forget: make(chan struct{})}
	n.targets[addr] = t
	n.wg.Add(1)
	go n.dialLoop(t)
}

// forgetLocked ends the dial loops of learned targets of node id. n.mu must be held.
func (n *Node) forgetLocked(id string) {
	for addr, t := range n.targets {
		if t.learned && t.id == id {
			close(t.forget)
			delete(n.targets, addr)
		}
	}
}

// removeTarget drops t from the targets (its loop is ending).
func (n *Node) removeTarget(t *target) {
	n.mu.Lock()
	if n.targets[t.addr] == t {
		delete(n.targets, t.addr)
	}
	n.mu.Unlock()
}

// linkOf returns the installed link to the node at t, if any.
func (n *Node) linkOf(t *target) *link {
	n.mu.Lock()
	defer n.mu.Unlock()
	if t.id == "" {
		return nil
	}
	if p := n.peers[t.id]; p != nil {
		return p.link
	}
	return nil
}

// headStart is how long the node with the higher id waits before dialing a
// node that will also dial it, so that the preferred link usually comes first.
func (n *Node) headStart() time.Duration {
	d := n.cfg.ReconnectMin
	return d + rand.N(d+1)
}

// dialLoop keeps one link to the node at t: it parks while a link to that
// node exists (whoever dialed it) and otherwise dials with capped
// exponential backoff and jitter.
func (n *Node) dialLoop(t *target) {
	defer n.wg.Done()
	bo := backoff.Policy{Base: n.cfg.ReconnectMin, Factor: 2, Max: n.cfg.ReconnectMax, Jitter: 0.5}
	attempt := 0
	var failingSince time.Time
	var delay time.Duration
	n.mu.Lock()
	if t.learned && t.id != "" && n.id > t.id {
		delay = n.headStart()
	}
	n.mu.Unlock()
	for {
		if delay > 0 {
			if !n.sleep(t, delay) {
				return
			}
			delay = 0
		}
		if l := n.linkOf(t); l != nil {
			select {
			case <-l.gone:
			case <-n.ctx.Done():
				return
			case <-t.forget:
				return
			}
			attempt = 0
			failingSince = time.Time{}
			if n.id > l.peerID {
				delay = n.headStart()
			}
			continue
		}
		err := n.dial(t)
		switch {
		case err == nil:
			attempt = 0
			failingSince = time.Time{}
			continue
		case errors.Is(err, ErrStopped):
			return
		case errors.Is(err, ErrSelf):
			n.mu.Lock()
			n.selfAddrs[t.addr] = struct{}{}
			n.mu.Unlock()
			n.removeTarget(t)
			n.log.Debug("cluster: peer address is this node", "addr", t.addr)
			return
		}
		if failingSince.IsZero() {
			failingSince = time.Now()
			n.log.Info("cluster: dial failed; retrying with backoff", "addr", t.addr, "err", err)
		} else {
			n.log.Debug("cluster: dial failed", "addr", t.addr, "err", err)
		}
		if t.learned && time.Since(failingSince) > forgetFactor*n.cfg.DeadAfter {
			n.removeTarget(t)
			n.log.Info("cluster: forgetting unreachable learned peer", "addr", t.addr)
			return
		}
		if !n.sleep(t, bo.Delay(attempt)) {
			return
		}
		attempt = min(attempt+1, 64)
	}
}

// sleep waits d and reports false if the node stops or t is forgotten first.
func (n *Node) sleep(t *target, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-n.ctx.Done():
		return false
	case <-t.forget:
		return false
	}
}

// dial connects to t, runs the handshake and starts the link.
func (n *Node) dial(t *target) error {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.HandshakeTimeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		if n.ctx.Err() != nil {
			return ErrStopped
		}
		return err
	}
	if !n.trackConn(raw) {
		_ = raw.Close()
		return ErrStopped
	}
	l, id, err := n.handshake(ctx, raw, false)
	n.untrackConn(raw)
	if id != "" {
		n.mu.Lock()
		t.id = id
		n.mu.Unlock()
	}
	if err != nil {
		_ = raw.Close()
		return err
	}
	n.startLink(l)
	return nil
}

// acceptLoop accepts peer links until the listener closes, with at most
// maxPendingHandshakes handshakes in flight.
func (n *Node) acceptLoop(ln net.Listener) {
	defer n.wg.Done()
	sem := make(chan struct{}, maxPendingHandshakes)
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if n.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			n.log.Warn("cluster: accept failed", "err", err)
			timer := time.NewTimer(delay)
			select {
			case <-timer.C:
			case <-n.ctx.Done():
				timer.Stop()
				return
			}
			continue
		}
		delay = 0
		select {
		case sem <- struct{}{}:
		default:
			_ = c.Close()
			n.stats.handshakeFailures.Add(1)
			continue
		}
		if !n.trackConn(c) {
			_ = c.Close()
			return
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			ctx, cancel := context.WithTimeout(n.ctx, n.cfg.HandshakeTimeout)
			l, _, err := n.handshake(ctx, c, true)
			cancel()
			n.untrackConn(c)
			<-sem
			if err != nil {
				_ = c.Close()
				n.log.Debug("cluster: inbound link refused", "remote", c.RemoteAddr().String(), "err", err)
				return
			}
			if l.peerAddr != "" && checkHostPort(l.peerAddr) == nil {
				n.addTarget(l.peerAddr, l.peerID, true)
			}
			n.startLink(l)
		}()
	}
}

// handshake runs TLS (if configured) and the HELLO exchange on raw, and
// installs the link. The dialer speaks first; the acceptor decides (self,
// duplicate, version) and answers with its HELLO, flagged flagReject when
// it refuses. It returns the peer's node id whenever it learned it.
func (n *Node) handshake(ctx context.Context, raw net.Conn, inbound bool) (*link, string, error) {
	l, id, err := n.handshakeSteps(ctx, raw, inbound)
	if err != nil {
		n.stats.handshakeFailures.Add(1)
		return nil, id, err
	}
	return l, id, nil
}

// handshakeSteps does the work of handshake.
func (n *Node) handshakeSteps(ctx context.Context, raw net.Conn, inbound bool) (*link, string, error) {
	if deadline, ok := ctx.Deadline(); ok {
		if err := raw.SetDeadline(deadline); err != nil {
			return nil, "", err
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	conn := raw
	if n.tls != nil {
		var tc *tls.Conn
		if inbound {
			tc = tls.Server(raw, n.tls)
		} else {
			tc = tls.Client(raw, n.tls)
		}
		if err := tc.HandshakeContext(ctx); err != nil {
			n.stats.tlsRefused.Add(1)
			n.log.Warn("cluster: TLS handshake refused", "remote", raw.RemoteAddr().String(), "inbound", inbound, "err", err)
			return nil, "", fmt.Errorf("%w: tls: %w", ErrHandshake, err)
		}
		conn = tc
	}
	br := bufio.NewReaderSize(conn, ioBufferSize)
	n.mu.Lock()
	me := hello{version: ProtocolVersion, caps: localCaps, maxFrame: uint32(n.cfg.MaxFrameSize), nodeID: n.id, addr: n.advertise}
	n.mu.Unlock()
	if !inbound {
		if _, err := conn.Write(encodeHello(me, 0)); err != nil {
			return nil, "", fmt.Errorf("%w: %w", ErrHandshake, err)
		}
	}
	f, _, err := readFrame(br, maxHelloFrame)
	if err != nil {
		return nil, "", fmt.Errorf("%w: reading HELLO: %w", ErrHandshake, err)
	}
	if f.typ != frameHello {
		return nil, "", fmt.Errorf("%w: first frame type %d, want HELLO", ErrHandshake, f.typ)
	}
	h, err := decodeHello(f.payload)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	reject := func(err error) (*link, string, error) {
		if inbound {
			_, _ = conn.Write(encodeHello(me, flagReject))
		}
		return nil, h.nodeID, err
	}
	switch {
	case h.version < minProtocolVersion:
		return reject(fmt.Errorf("%w: peer protocol version %d, need %d", ErrHandshake, h.version, minProtocolVersion))
	case h.nodeID == n.id:
		return reject(ErrSelf)
	case !inbound && f.flags&flagReject != 0:
		return nil, h.nodeID, fmt.Errorf("%w: refused by %s", ErrDuplicateLink, h.nodeID)
	case h.maxFrame < MinMaxFrameSize:
		return reject(fmt.Errorf("%w: peer frame cap %d below %d", ErrHandshake, h.maxFrame, MinMaxFrameSize))
	}
	l := newLink(n, raw, conn, br, inbound, h)
	if err := n.install(l); err != nil {
		return reject(err)
	}
	if inbound {
		// A failed write shows up in the link's reader, which tears it down.
		_, _ = conn.Write(encodeHello(me, 0))
	}
	// The handshake deadline ends here. If the timeout fired meanwhile it has
	// poisoned the connection's deadline: the link closes at once and is
	// torn down by its reader like any failed link.
	if !stop() {
		l.close(fmt.Errorf("%w: timed out", ErrHandshake))
	} else if err := raw.SetDeadline(time.Time{}); err != nil {
		l.close(err)
	}
	return l, h.nodeID, nil
}

// learn starts dialing gossiped members that are neither us, linked, nor known.
func (n *Node) learn(ms []member) {
	for _, m := range ms {
		if m.id == n.id || m.addr == "" || checkHostPort(m.addr) != nil {
			continue
		}
		n.mu.Lock()
		p := n.peers[m.id]
		_, self := n.selfAddrs[m.addr]
		skip := self || (p != nil && p.link != nil)
		n.mu.Unlock()
		if !skip {
			n.addTarget(m.addr, m.id, true)
		}
	}
}

// gossip tells l about the other ready peers (PEER_LIST) and the other
// ready peers about l (PEER_ANNOUNCE), so a node that knows one seed ends up
// linked to all.
func (n *Node) gossip(l *link) {
	if l.caps&CapGossip == 0 {
		return
	}
	var others []member
	var tell []*link
	for _, o := range n.route.Load().links {
		if o == l || !o.ready.Load() || o.caps&CapGossip == 0 {
			continue
		}
		tell = append(tell, o)
		if o.peerAddr != "" {
			others = append(others, member{id: o.peerID, addr: o.peerAddr})
		}
	}
	for len(others) > 0 {
		chunk := others[:min(len(others), maxMembersPerFrame)]
		others = others[len(chunk):]
		l.sendControl(encodeFrame(framePeerList, 0, "", encodeMembers(chunk)), framePeerList)
	}
	if l.peerAddr == "" {
		return
	}
	b := encodeFrame(framePeerAnnounce, 0, "", encodeMembers([]member{{id: l.peerID, addr: l.peerAddr}}))
	for _, o := range tell {
		o.sendControl(b, framePeerAnnounce)
	}
}
