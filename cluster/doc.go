// Package cluster joins WSE nodes into a full mesh over framed TCP links
// (mutual TLS 1.3 when configured). It moves opaque topic messages and
// presence changes between nodes and reports what it learns to a Delegate;
// it never imports the engine.
//
// Links. Each pair of nodes keeps exactly one link: either side may dial,
// and when two links meet, the one dialed by the lower node id wins on both
// ends. A link starts with a HELLO exchange (protocol version, node id,
// capabilities, frame cap, advertised address), then each side sends its
// full interest (RESYNC) and presence state (PRESENCE_SYNC). A PING goes out
// every Config.Heartbeat; a link that receives nothing for Config.DeadAfter
// is closed. Lost links are re-dialed with capped exponential backoff and
// jitter. The wire format is described in docs/cluster-protocol.md.
//
// Routing. Publish sends a message only to peers that announced interest in
// its topic (SUB/UNSUB as local subscriber counts cross zero, a full RESYNC
// on every new link). Receivers hand messages to Delegate.OnPublish and
// never forward them again: one hop.
//
// Discovery. Static Peers and Seeds are dialed forever; every new link
// brings the peer list (PEER_LIST) and is announced to the other peers
// (PEER_ANNOUNCE), so a node that knows one seed links to all members.
//
// Concurrency. All Node methods are safe for concurrent use. Publish,
// Interest, SendPresence, Drain and the read-only methods never block on
// the network and never call the Delegate, so they may be called while the
// caller holds its own locks. Each link runs two goroutines (a reader and
// a writer); the Delegate is called from readers, from a per-peer timer
// (OnPeerDown) and from Stop, with calls about one peer never overlapping.
// Delegate methods must return quickly and must not call Stop. Stop is
// idempotent and waits for every goroutine the node started.
package cluster
