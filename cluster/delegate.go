package cluster

import "time"

// Presence kinds carried in Presence.Kind. The values are wire format:
// append-only.
const (
	// PresenceJoin: the user joined the topic on the origin node (or, in a
	// full sync, is present there).
	PresenceJoin uint8 = 1
	// PresenceLeave: the user's last connection left the topic on the origin node.
	PresenceLeave uint8 = 2
	// PresenceUpdate: the user's presence data changed.
	PresenceUpdate uint8 = 3
)

// Presence is one presence change, or one entry of a node's full presence
// state. The cluster moves it verbatim; the engine applies last-write-wins on TS.
type Presence struct {
	// Kind is PresenceJoin, PresenceLeave or PresenceUpdate.
	Kind uint8
	// Topic and UserID name the presence entry.
	Topic, UserID string
	// Data is the user's presence data as JSON (may be nil).
	Data []byte
	// Conns is the origin node's number of connections of that user in the topic.
	Conns int
	// TS is the time of the change on its origin node, in Unix nanoseconds.
	TS int64
}

// Delegate is implemented by the engine and receives everything the mesh
// learns. Calls come from link goroutines (and one timer per peer for
// OnPeerDown); calls about one peer never overlap, calls about different
// peers may run concurrently. A method must not block for long (a slow
// delegate stalls that peer's link) and must not call Node.Stop. It may call
// Publish, Interest, SendPresence and the read-only Node methods.
type Delegate interface {
	// OnPublish delivers a message a peer published. payload is the original
	// unstamped text and is owned by the delegate. The delegate must not hand
	// it back to Node.Publish: receivers never re-forward.
	OnPublish(from, topic string, payload []byte)
	// OnPresence delivers one presence change of peer from.
	OnPresence(from string, p Presence)
	// OnPresenceSync delivers the full presence state of peer from; it
	// replaces whatever the engine held for that peer. It follows OnPeerUp,
	// and again after every re-established link.
	OnPresenceSync(from string, state []Presence)
	// OnPeerUp reports that a peer link is established and the peer's
	// interest is known. It is not repeated when a lost link comes back
	// within DeadAfter.
	OnPeerUp(nodeID string)
	// OnPeerDown reports a peer gone: it sent SHUTDOWN, or its link was lost
	// and not back within DeadAfter of its last frame, or this node stops.
	// The engine drops the peer's presence.
	OnPeerDown(nodeID string)
	// LocalTopics returns the topics and patterns with local subscribers,
	// sent as RESYNC on every new link. The engine must update its own set
	// before it calls Node.Interest, so that the two never disagree.
	LocalTopics() []string
	// LocalPresence returns this node's full presence state (only entries
	// with Kind PresenceJoin), sent on every new link.
	LocalPresence() []Presence
}

// GapDelegate is an optional interface of a Delegate: a Delegate that
// implements it learns when messages between this node and a peer may have
// been lost, which a receiver cannot see from the messages themselves
// (links carry no sequence numbers and messages are not retried).
type GapDelegate interface {
	// OnLinkGap reports that messages from or to nodeID may have been
	// lost: a ready link to it ended without SHUTDOWN, or a link is ready
	// again after such an end (what was published in between did not
	// cross). It is called without locks held, from the link's goroutine,
	// and must not block.
	OnLinkGap(nodeID string)
}

// PeerInfo describes one connected peer.
type PeerInfo struct {
	// ID is the peer's node id.
	ID string
	// Address is the peer's advertised address, or the remote address of the
	// link when the peer advertises none.
	Address string
	// Capabilities is the set of Cap* bits both sides support.
	Capabilities uint32
	// ConnectedAt is when the current link came up.
	ConnectedAt time.Time
	// Inbound reports whether the peer dialed this node.
	Inbound bool
	// RTT is the last measured ping round trip (0 before the first pong).
	RTT time.Duration
	// Queued is the number of frames waiting in the peer's send queue.
	Queued int
}
