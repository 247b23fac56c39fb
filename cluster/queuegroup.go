package cluster

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
)

// queueKeyPrefix starts an interest entry that announces queue group
// membership rather than a topic. Topic names cannot hold control
// characters, so no topic or pattern starts with it.
const queueKeyPrefix = "\x00q\x00"

// QueueInterestKey is the interest entry a node announces with Interest
// while it has members in queue group group of topic, so that publishing
// nodes can choose one member across the cluster. Peers without CapQueue
// keep it as an exact topic that no publication matches.
func QueueInterestKey(topic, group string) string {
	return queueKeyPrefix + group + "\x00" + topic
}

// parseQueueKey splits a queue interest entry; ok is false for a topic or
// pattern.
func parseQueueKey(key string) (topic, group string, ok bool) {
	rest, ok := strings.CutPrefix(key, queueKeyPrefix)
	if !ok {
		return "", "", false
	}
	group, topic, ok = strings.Cut(rest, "\x00")
	return topic, group, ok && group != "" && topic != ""
}

// GroupDelegate is implemented by a Delegate that serves queue groups. On a
// link where both nodes have CapQueue, the node calls OnPublishGroups
// instead of OnPublish for every message: groups lists the local queue
// groups of the topic the publishing node chose this node to serve (often
// none); the message goes to the topic's normal subscribers either way. On
// a link without CapQueue the node calls OnPublish, and the delegate
// serves every local group itself.
type GroupDelegate interface {
	// OnPublishGroups is OnPublish with the queue groups to serve. groups
	// is owned by the delegate.
	OnPublishGroups(from, topic string, payload []byte, groups []string)
}

// appendGroups appends the group list that opens a MSG payload with
// flagGroups: u16 count, then each name as str16.
func appendGroups(dst []byte, groups []string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(groups)))
	for _, g := range groups {
		dst = appendStr16(dst, g)
	}
	return dst
}

// decodeGroups reads the group list of a MSG payload with flagGroups and
// returns the groups and the message text after them.
func decodeGroups(p []byte) ([]string, []byte, error) {
	if len(p) < 2 {
		return nil, nil, fmt.Errorf("%w: truncated queue group count", ErrBadFrame)
	}
	n := int(binary.BigEndian.Uint16(p))
	p = p[2:]
	if n > maxListEntries {
		return nil, nil, fmt.Errorf("%w: %d queue groups", ErrBadFrame, n)
	}
	groups := make([]string, 0, n)
	for range n {
		g, rest, err := readStr16(p)
		if err != nil {
			return nil, nil, err
		}
		groups = append(groups, g)
		p = rest
	}
	return groups, p, nil
}

// encodeGroupMsg is a MSG frame that asks the peer to serve groups.
func encodeGroupMsg(topic string, payload []byte, groups []string) []byte {
	size := 2 + len(payload)
	for _, g := range groups {
		size += 2 + len(g)
	}
	body := appendGroups(make([]byte, 0, size), groups)
	return encodeFrame(frameMsg, flagGroups, topic, append(body, payload...))
}

// groupsFit reports whether every group name fits a str16.
func groupsFit(groups []string) bool {
	return len(groups) <= maxListEntries && !slices.ContainsFunc(groups, func(g string) bool { return len(g) > math.MaxUint16 })
}

// QueueGroupPeers returns, for each queue group of topic that some peer
// has members in, the ids of those peers (ready links with CapQueue only),
// sorted. It returns nil when no peer announced a member for topic.
func (n *Node) QueueGroupPeers(topic string) map[string][]string {
	var out map[string][]string
	for _, l := range n.route.Load().links {
		if l.caps&CapQueue == 0 || l.nqueue.Load() == 0 || !l.ready.Load() {
			continue
		}
		for _, g := range l.queueGroups(topic) {
			if out == nil {
				out = make(map[string][]string)
			}
			out[g] = append(out[g], l.peerID)
		}
	}
	for _, peers := range out {
		slices.Sort(peers)
	}
	return out
}

// queueGroups returns the groups of topic the peer has members in.
func (l *link) queueGroups(topic string) []string {
	l.imu.RLock()
	defer l.imu.RUnlock()
	if l.drained {
		return nil
	}
	groups := l.queues[topic]
	if len(groups) == 0 {
		return nil
	}
	out := make([]string, 0, len(groups))
	for g := range groups {
		out = append(out, g)
	}
	return out
}

// applyQueueKey adds or removes one queue interest entry in queues and
// returns the change in the number of entries.
func applyQueueKey(queues map[string]map[string]struct{}, topic, group string, on bool) int {
	groups := queues[topic]
	_, had := groups[group]
	switch {
	case on && !had:
		if groups == nil {
			groups = make(map[string]struct{})
			queues[topic] = groups
		}
		groups[group] = struct{}{}
		return 1
	case !on && had:
		delete(groups, group)
		if len(groups) == 0 {
			delete(queues, topic)
		}
		return -1
	}
	return 0
}

// deliverMsg hands a received MSG to the delegate: with its queue groups
// through GroupDelegate on a link where both sides have CapQueue, else
// through OnPublish.
func (l *link) deliverMsg(f frame) error {
	payload, groups := f.payload, []string(nil)
	if f.flags&flagGroups != 0 {
		var err error
		if groups, payload, err = decodeGroups(f.payload); err != nil {
			return err
		}
	}
	l.n.stats.msgsDelivered.Add(1)
	if gd, ok := l.n.d.(GroupDelegate); ok && l.caps&CapQueue != 0 {
		gd.OnPublishGroups(l.peerID, f.topic, payload, groups)
		return nil
	}
	l.n.d.OnPublish(l.peerID, f.topic, payload)
	return nil
}
