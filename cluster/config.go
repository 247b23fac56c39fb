package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"
)

// Defaults and limits applied by New to a Config.
const (
	// DefaultHeartbeat is the ping interval when Config.Heartbeat is 0.
	DefaultHeartbeat = time.Second
	// DefaultDeadAfter is the silence after which a peer is dead when Config.DeadAfter is 0.
	DefaultDeadAfter = 3 * time.Second
	// DefaultMaxFrameSize is the frame size cap when Config.MaxFrameSize is 0.
	DefaultMaxFrameSize = 16 << 20
	// MinMaxFrameSize is the smallest accepted Config.MaxFrameSize.
	MinMaxFrameSize = 128 << 10
	// MaxMaxFrameSize is the largest accepted Config.MaxFrameSize.
	MaxMaxFrameSize = 1 << 30
	// DefaultSendQueue is the per-peer queue length in message frames when Config.SendQueue is 0.
	DefaultSendQueue = 65536
	// DefaultSendQueueBytes is the per-peer queue size in message bytes when Config.SendQueueBytes is 0.
	DefaultSendQueueBytes = 64 << 20
	// DefaultDLQSize is the dead-letter queue length when Config.DLQSize is 0.
	DefaultDLQSize = 1000
	// DefaultDLQBytes bounds the payload bytes the dead-letter queue keeps when Config.DLQBytes is 0.
	DefaultDLQBytes = 16 << 20
	// DefaultHandshakeTimeout bounds dial, TLS and HELLO exchange when Config.HandshakeTimeout is 0.
	DefaultHandshakeTimeout = 5 * time.Second
	// DefaultReconnectMin is the first reconnect delay when Config.ReconnectMin is 0.
	DefaultReconnectMin = 200 * time.Millisecond
	// DefaultReconnectMax caps the reconnect delay when Config.ReconnectMax is 0.
	DefaultReconnectMax = 10 * time.Second
	// DefaultMaxPeers caps the number of known peer addresses when Config.MaxPeers is 0.
	DefaultMaxPeers = 256
	// MaxNodeIDLen is the longest accepted node id, in bytes.
	MaxNodeIDLen = 256
	// maxAddrLen is the longest address accepted in HELLO and gossip.
	maxAddrLen = 256
	// maxPendingHandshakes caps inbound connections that have not finished their handshake.
	maxPendingHandshakes = 128
)

// Config configures a Node. A zero field means its default.
type Config struct {
	// NodeID names this node in the cluster; it must be unique among the
	// nodes and at most MaxNodeIDLen bytes (default: 16 random hex characters).
	NodeID string
	// ListenAddr is the host:port the node listens on for peer links; port 0
	// picks a free port, and Node.Addr reports the bound address. Required.
	ListenAddr string
	// AdvertiseAddr is the address peers dial to reach this node, sent in
	// HELLO and gossip (default: the bound listen address, unless it is a
	// wildcard such as ":7946", in which case the node is not advertised and
	// only links it dials itself or static peers reach it).
	AdvertiseAddr string
	// Peers are static peer addresses (host:port), dialed and re-dialed forever.
	Peers []string
	// Seeds are discovery seeds (host:port): dialed forever like Peers, and the
	// peers they report are dialed too, so a new node needs a single seed.
	Seeds []string
	// TLSCA, TLSCert and TLSKey are PEM file paths: the cluster CA, and this
	// node's certificate and key, used for both the dialing and the accepting
	// role (mutual TLS 1.3). All three or none; none means plain TCP.
	TLSCA, TLSCert, TLSKey string
	// Heartbeat is the interval between pings on an idle-or-busy link
	// (default DefaultHeartbeat, 1 s). It must be below DeadAfter.
	Heartbeat time.Duration
	// DeadAfter is how long a link may stay silent before it is closed, and
	// how long a lost peer may stay away before Delegate.OnPeerDown
	// (default DefaultDeadAfter, 3 s).
	DeadAfter time.Duration
	// MaxFrameSize caps one frame (header included), inbound and outbound,
	// between MinMaxFrameSize and MaxMaxFrameSize (default DefaultMaxFrameSize, 16 MiB).
	MaxFrameSize int
	// SendQueue is the number of message frames queued per peer before
	// further messages are dropped into the dead-letter queue
	// (default DefaultSendQueue, 65536).
	SendQueue int
	// SendQueueBytes bounds the bytes of the message frames queued per peer
	// the same way (default DefaultSendQueueBytes, 64 MiB). The writer's
	// batch in flight holds as much again at most.
	SendQueueBytes int
	// DLQSize is the number of failed sends kept for DLQ; older entries are
	// discarded first (default DefaultDLQSize, 1000).
	DLQSize int
	// DLQBytes bounds the payload bytes the dead-letter queue keeps; older
	// entries are discarded first, and an entry whose payload alone is
	// bigger keeps its topic and error but not its payload (default
	// DefaultDLQBytes, 16 MiB).
	DLQBytes int
	// HandshakeTimeout bounds a dial, the TLS handshake and the HELLO exchange
	// (default DefaultHandshakeTimeout, 5 s).
	HandshakeTimeout time.Duration
	// ReconnectMin and ReconnectMax bound the jittered exponential delay
	// between dial attempts to one address (defaults DefaultReconnectMin,
	// 200 ms, and DefaultReconnectMax, 10 s).
	ReconnectMin, ReconnectMax time.Duration
	// MaxPeers caps the number of peer addresses the node knows, static and
	// learned (default DefaultMaxPeers, 256).
	MaxPeers int
	// Logger receives link and discovery events (default slog.Default()).
	Logger *slog.Logger
}

// withDefaults validates c and returns it with defaults applied.
func (c Config) withDefaults() (Config, error) {
	switch {
	case len(c.NodeID) > MaxNodeIDLen:
		return c, fmt.Errorf("%w: NodeID longer than %d bytes", ErrInvalidConfig, MaxNodeIDLen)
	case c.Heartbeat < 0 || c.DeadAfter < 0 || c.HandshakeTimeout < 0:
		return c, fmt.Errorf("%w: negative duration", ErrInvalidConfig)
	case c.ReconnectMin < 0 || c.ReconnectMax < 0:
		return c, fmt.Errorf("%w: negative reconnect delay", ErrInvalidConfig)
	case c.MaxFrameSize != 0 && (c.MaxFrameSize < MinMaxFrameSize || c.MaxFrameSize > MaxMaxFrameSize):
		return c, fmt.Errorf("%w: MaxFrameSize %d not in [%d, %d]", ErrInvalidConfig, c.MaxFrameSize, MinMaxFrameSize, MaxMaxFrameSize)
	case c.SendQueue < 0 || c.DLQSize < 0 || c.MaxPeers < 0 || c.SendQueueBytes < 0 || c.DLQBytes < 0:
		return c, fmt.Errorf("%w: negative SendQueue, DLQSize or MaxPeers", ErrInvalidConfig)
	}
	if c.NodeID == "" {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return c, fmt.Errorf("%w: node id: %w", ErrInvalidConfig, err)
		}
		c.NodeID = hex.EncodeToString(b[:])
	}
	if err := checkHostPort(c.ListenAddr); err != nil {
		return c, fmt.Errorf("%w: ListenAddr: %w", ErrInvalidConfig, err)
	}
	if c.AdvertiseAddr != "" {
		if err := checkHostPort(c.AdvertiseAddr); err != nil {
			return c, fmt.Errorf("%w: AdvertiseAddr: %w", ErrInvalidConfig, err)
		}
		if len(c.AdvertiseAddr) > maxAddrLen {
			return c, fmt.Errorf("%w: AdvertiseAddr longer than %d bytes", ErrInvalidConfig, maxAddrLen)
		}
	}
	for _, list := range [][]string{c.Peers, c.Seeds} {
		for _, a := range list {
			if err := checkHostPort(a); err != nil {
				return c, fmt.Errorf("%w: peer %q: %w", ErrInvalidConfig, a, err)
			}
		}
	}
	if (c.TLSCA != "" || c.TLSCert != "" || c.TLSKey != "") && (c.TLSCA == "" || c.TLSCert == "" || c.TLSKey == "") {
		return c, fmt.Errorf("%w: TLSCA, TLSCert and TLSKey must be set together", ErrInvalidConfig)
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.DeadAfter == 0 {
		c.DeadAfter = DefaultDeadAfter
	}
	if c.Heartbeat >= c.DeadAfter {
		return c, fmt.Errorf("%w: Heartbeat %v must be below DeadAfter %v", ErrInvalidConfig, c.Heartbeat, c.DeadAfter)
	}
	if c.MaxFrameSize == 0 {
		c.MaxFrameSize = DefaultMaxFrameSize
	}
	if c.SendQueue == 0 {
		c.SendQueue = DefaultSendQueue
	}
	if c.DLQSize == 0 {
		c.DLQSize = DefaultDLQSize
	}
	if c.SendQueueBytes == 0 {
		c.SendQueueBytes = DefaultSendQueueBytes
	}
	if c.DLQBytes == 0 {
		c.DLQBytes = DefaultDLQBytes
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.ReconnectMin == 0 {
		c.ReconnectMin = DefaultReconnectMin
	}
	if c.ReconnectMax == 0 {
		c.ReconnectMax = DefaultReconnectMax
	}
	if c.ReconnectMax < c.ReconnectMin {
		return c, fmt.Errorf("%w: ReconnectMax %v below ReconnectMin %v", ErrInvalidConfig, c.ReconnectMax, c.ReconnectMin)
	}
	if c.MaxPeers == 0 {
		c.MaxPeers = DefaultMaxPeers
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// checkHostPort reports whether addr is host:port with a numeric port.
func checkHostPort(addr string) error {
	if addr == "" {
		return fmt.Errorf("empty address")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}
