package wse

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/wse-go/wse/cluster"
)

// ClusterConfig joins the server to a mesh of WSE nodes.
type ClusterConfig struct {
	// NodeID names this node (default: random).
	NodeID string
	// ClusterPort is the port peers connect to (0 picks a free one; see
	// ClusterAddr). The listener binds Config.Host unless ListenHost is set.
	ClusterPort int
	// ListenHost overrides the host the cluster listener binds.
	ListenHost string
	// ClusterAddr is the host:port other nodes dial to reach this one
	// (default: the bound listen address).
	ClusterAddr string
	// Peers are static peer addresses; Seeds are discovery seeds whose
	// member lists are learned, so a new node needs only one.
	Peers []string
	Seeds []string
	// TLSCA, TLSCert and TLSKey are PEM files for mutual TLS 1.3 between
	// nodes: all three or none (none = plain TCP, with a warning).
	TLSCA, TLSCert, TLSKey string
	// Heartbeat and DeadAfter tune failure detection (defaults 1 s and 3 s).
	Heartbeat time.Duration
	DeadAfter time.Duration
}

// ClusterPeer describes one connected peer.
type ClusterPeer struct {
	ID           string    `json:"instance_id"`
	Address      string    `json:"address"`
	Capabilities uint32    `json:"capabilities"`
	ConnectedAt  time.Time `json:"connected_at"`
	// Inbound reports that the peer dialed this node; RTTMillis is the last
	// measured link round trip (0 before the first pong); Queued the frames
	// waiting in the link's send queue.
	Inbound   bool    `json:"inbound"`
	RTTMillis float64 `json:"rtt_ms"`
	Queued    int     `json:"queued"`
}

// DLQEntry is a cluster message that could not be sent to a peer.
type DLQEntry struct {
	Topic   string `json:"topic"`
	Payload string `json:"payload"`
	Peer    string `json:"peer_addr"`
	Error   string `json:"error"`
}

// ConnectCluster starts this node's cluster link layer: it listens for
// peers, dials the static peers and seeds, routes topic publications to
// peers that have subscribers (one hop), and keeps presence in sync. It
// fails if a cluster is already connected or the configuration is invalid.
func (s *Server) ConnectCluster(cc ClusterConfig) error {
	if !s.running.Load() {
		return ErrServerStopped
	}
	if s.broker != nil {
		return fmt.Errorf("%w: a server with a Broker cannot join a mesh", ErrInvalidConfig)
	}
	host := cc.ListenHost
	if host == "" {
		host = s.cfg.Host
	}
	node, err := cluster.New(cluster.Config{
		NodeID:        cc.NodeID,
		ListenAddr:    net.JoinHostPort(host, strconv.Itoa(cc.ClusterPort)),
		AdvertiseAddr: cc.ClusterAddr,
		Peers:         cc.Peers,
		Seeds:         cc.Seeds,
		TLSCA:         cc.TLSCA,
		TLSCert:       cc.TLSCert,
		TLSKey:        cc.TLSKey,
		Heartbeat:     cc.Heartbeat,
		DeadAfter:     cc.DeadAfter,
		Logger:        s.cfg.Logger,
	}, (*clusterDelegate)(s))
	if err != nil {
		return fmt.Errorf("%w: cluster: %w", ErrInvalidConfig, err)
	}
	s.clusterMu.Lock()
	defer s.clusterMu.Unlock()
	if s.node != nil {
		return ErrClusterConnected
	}
	if err := node.Start(); err != nil {
		return fmt.Errorf("wse: start cluster: %w", err)
	}
	s.node = node
	return nil
}

// ReloadClusterTLS replaces the cluster's mutual-TLS material with the
// current contents of the given PEM files (the original's
// reload_cluster_tls(cert, key, ca)). Peer links that are up stay up;
// every link made afterwards, dialed or accepted, presents the new
// certificate and verifies peers against the new CA bundle. Rotate a CA in
// two steps across the cluster: first a bundle with the old and the new CA
// on every node, then certificates signed by the new CA. Nothing changes on
// error. It fails without a cluster (ErrNoCluster) or on a cluster
// started without TLS (wrapping cluster.ErrNoTLS).
func (s *Server) ReloadClusterTLS(certFile, keyFile, caFile string) error {
	n := s.clusterNode()
	if n == nil {
		return ErrNoCluster
	}
	if err := n.ReloadTLS(caFile, certFile, keyFile); err != nil {
		return fmt.Errorf("wse: reload cluster TLS: %w", err)
	}
	return nil
}

// clusterNode returns the cluster node, or nil without a cluster.
func (s *Server) clusterNode() *cluster.Node {
	s.clusterMu.Lock()
	defer s.clusterMu.Unlock()
	return s.node
}

// ClusterConnected reports whether at least one peer link is up.
func (s *Server) ClusterConnected() bool {
	n := s.clusterNode()
	return n != nil && n.Connected()
}

// ClusterPeersCount returns the number of connected peers.
func (s *Server) ClusterPeersCount() int {
	if n := s.clusterNode(); n != nil {
		return len(n.Peers())
	}
	return 0
}

// ClusterAddr returns the bound cluster listen address, or "".
func (s *Server) ClusterAddr() string {
	if n := s.clusterNode(); n != nil {
		return n.Addr()
	}
	return ""
}

// ClusterInfo describes the connected peers.
func (s *Server) ClusterInfo() []ClusterPeer {
	n := s.clusterNode()
	if n == nil {
		return nil
	}
	peers := n.Peers()
	out := make([]ClusterPeer, len(peers))
	for i, p := range peers {
		out[i] = ClusterPeer{ID: p.ID, Address: p.Address, Capabilities: p.Capabilities, ConnectedAt: p.ConnectedAt,
			Inbound: p.Inbound, RTTMillis: float64(p.RTT) / float64(time.Millisecond), Queued: p.Queued}
	}
	return out
}

// ClusterDLQ returns and clears the dead-letter queue of messages that could
// not be sent to a peer.
func (s *Server) ClusterDLQ() []DLQEntry {
	n := s.clusterNode()
	if n == nil {
		return nil
	}
	entries := n.DLQ()
	out := make([]DLQEntry, len(entries))
	for i, e := range entries {
		msg := ""
		if e.Err != nil {
			msg = e.Err.Error()
		}
		out[i] = DLQEntry{Topic: e.Topic, Payload: string(e.Payload), Peer: e.Peer, Error: msg}
	}
	return out
}

// stopCluster stops the node (SHUTDOWN to peers) if there is one.
func (s *Server) stopCluster() {
	s.clusterMu.Lock()
	n := s.node
	s.node = nil
	s.clusterMu.Unlock()
	if n != nil {
		n.Stop()
	}
}

// interestChanged tells the peers whether this node has subscribers for
// topic after its local subscriber count went 0→1 or 1→0. The decision is
// made from the current count under interestMu, so concurrent changes
// settle on the true state.
func (s *Server) interestChanged(topic string) {
	n := s.clusterNode()
	if n == nil && s.broker == nil {
		return
	}
	s.interestMu.Lock()
	defer s.interestMu.Unlock()
	on := s.hub.count(topic) > 0 || s.queues.has(topic) || s.pins[topic] > 0
	if s.broker != nil {
		if s.interest[topic] == on {
			return
		}
		if on {
			s.interest[topic] = true
		} else {
			delete(s.interest, topic)
		}
		s.brokerInterest(topic, on)
		return
	}
	s.setInterestLocked(n, topic, on)
}

// queueInterestChanged tells the peers whether this node has members in
// queue group group of topic, after its first joined or its last left.
// With a broker there is nothing to tell: each node serves its own members.
func (s *Server) queueInterestChanged(topic, group string) {
	n := s.clusterNode()
	if n == nil {
		return
	}
	s.interestMu.Lock()
	defer s.interestMu.Unlock()
	s.setInterestLocked(n, cluster.QueueInterestKey(topic, group), s.queues.hasGroup(topic, group))
}

// setInterestLocked records and announces the mesh interest entry key when
// it changed; s.interestMu is held.
func (s *Server) setInterestLocked(n *cluster.Node, key string, on bool) {
	if s.interest[key] == on {
		return
	}
	if on {
		s.interest[key] = true
	} else {
		delete(s.interest, key)
	}
	n.Interest(key, on)
}

// clusterDelegate receives the cluster node's callbacks.
type clusterDelegate Server

var _ cluster.Delegate = (*clusterDelegate)(nil)

// OnPublish fans a peer's publication out to local subscribers, stamped
// with this node's own recovery position, and to one member of each local
// queue group: the peer cannot choose members across nodes. It is never
// forwarded again.
func (d *clusterDelegate) OnPublish(_, topic string, payload []byte) {
	(*Server)(d).publishLocal(topic, payload, allGroups)
}

var _ cluster.GroupDelegate = (*clusterDelegate)(nil)

// OnPublishGroups is OnPublish from a peer that chose the queue groups this
// node serves for the message.
func (d *clusterDelegate) OnPublishGroups(_, topic string, payload []byte, groups []string) {
	(*Server)(d).publishLocal(topic, payload, groupSel{names: groups})
}

// OnPresence merges a peer's presence change.
func (d *clusterDelegate) OnPresence(from string, p cluster.Presence) {
	(*Server)(d).applyRemotePresence(from, p)
}

// OnPresenceSync replaces what is known of a peer's presence.
func (d *clusterDelegate) OnPresenceSync(from string, state []cluster.Presence) {
	(*Server)(d).replaceRemotePresence(from, state)
}

// OnPeerUp is informational: the node resyncs interest and presence itself,
// and logs the event (with the peer's address) once.
func (d *clusterDelegate) OnPeerUp(string) {}

// OnPeerDown removes the dead peer's users from presence; the node has
// logged the event.
func (d *clusterDelegate) OnPeerDown(id string) {
	(*Server)(d).dropRemotePresence(id, nil)
}

var _ cluster.GapDelegate = (*clusterDelegate)(nil)

// OnLinkGap starts a new recovery epoch for every topic: messages from the
// peer may have been lost on the way, and this node's offsets would run on
// over the hole. Subscribers see their epoch end and report missed data
// (EventMissedData in the clients) rather than lose messages silently.
func (d *clusterDelegate) OnLinkGap(id string) {
	s := (*Server)(d)
	if s.ring == nil {
		return
	}
	n := s.ring.Renew()
	s.stats.clusterEpochRenewals.Add(1)
	s.cfg.Logger.Warn("wse: cluster link to a peer lost or regained: recovery epochs renewed, subscribers will see a gap",
		"peer", id, "buffers", n)
}

// LocalTopics lists topics with local subscribers, for a RESYNC.
func (d *clusterDelegate) LocalTopics() []string {
	s := (*Server)(d)
	return slices.Concat(s.hub.topicNames(), s.queues.names(), s.queues.interestKeys())
}

// LocalPresence lists local presence, for a peer's full sync.
func (d *clusterDelegate) LocalPresence() []cluster.Presence { return (*Server)(d).localPresence() }
