package wse

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/wse-go/wse/cluster"
	"github.com/wse-go/wse/internal/topic"
)

// QueueGroup describes one queue group of a topic, as QueueGroupInfo
// returns it.
type QueueGroup struct {
	// Name is the group's name.
	Name string `json:"name"`
	// Members is the number of connections in the group on this node.
	Members int `json:"members"`
	// Delivered counts the publications handed to a member of the group.
	Delivered uint64 `json:"delivered"`
	// Dropped counts the publications no member could take: every member's
	// outbound queue was over MaxOutboundQueueBytes.
	Dropped uint64 `json:"dropped"`
	// Peers lists the cluster peers that announced members of the group,
	// by node id; a group with members only on peers has Members 0.
	Peers []string `json:"peers,omitempty"`
}

// groupSel selects the local queue groups a publication is given to: all
// of them, or the named ones (none when names is empty).
type groupSel struct {
	all   bool
	names []string
}

// allGroups selects every local queue group.
var allGroups = groupSel{all: true}

// has reports whether sel selects group.
func (sel groupSel) has(group string) bool { return sel.all || slices.Contains(sel.names, group) }

// queueKey names one queue group membership of a connection.
type queueKey struct{ topic, group string }

// queueGroup is a group's members on this node. members is guarded by the
// registry's mu; next, delivered and dropped are atomic so that concurrent
// publications share the read lock.
type queueGroup struct {
	members   []*conn
	next      atomic.Uint64
	delivered atomic.Uint64
	dropped   atomic.Uint64
}

// queues is the queue group registry: per topic, the groups and their
// members. A publication to a topic with groups goes, besides its normal
// subscribers, to exactly one member of each group.
type queues struct {
	// mu guards topics.
	mu     sync.RWMutex
	topics map[string]map[string]*queueGroup
	// ntopics is len(topics), read without mu on the publish path so that
	// a server without queue groups pays one atomic load per publication.
	ntopics atomic.Int64
}

func newQueues() *queues { return &queues{topics: make(map[string]map[string]*queueGroup)} }

// join adds c to group of topicName and reports whether the topic got its
// first member of any group, and whether the group got its first member.
func (q *queues) join(topicName, group string, c *conn) (firstInTopic, firstInGroup bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	groups := q.topics[topicName]
	firstInTopic = groups == nil
	if firstInTopic {
		groups = make(map[string]*queueGroup)
		q.topics[topicName] = groups
		q.ntopics.Store(int64(len(q.topics)))
	}
	g := groups[group]
	if g == nil {
		g = &queueGroup{}
		groups[group] = g
		firstInGroup = true
	}
	if !slices.Contains(g.members, c) {
		g.members = append(g.members, c)
	}
	return firstInTopic, firstInGroup
}

// leave removes c from group of topicName and reports whether the topic
// lost its last member of any group, and whether the group lost its last.
func (q *queues) leave(topicName, group string, c *conn) (lastInTopic, lastInGroup bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	groups := q.topics[topicName]
	g := groups[group]
	if g == nil {
		return false, false
	}
	i := slices.Index(g.members, c)
	if i < 0 {
		return false, false
	}
	g.members = slices.Delete(g.members, i, i+1)
	if len(g.members) > 0 {
		return false, false
	}
	delete(groups, group)
	if len(groups) > 0 {
		return false, true
	}
	delete(q.topics, topicName)
	q.ntopics.Store(int64(len(q.topics)))
	return true, true
}

// hasGroup reports whether group of topicName has a member.
func (q *queues) hasGroup(topicName, group string) bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return q.topics[topicName][group] != nil
}

// groupNames returns the groups of topicName with members, or nil.
func (q *queues) groupNames(topicName string) []string {
	if q.ntopics.Load() == 0 {
		return nil
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	var out []string
	for g := range q.topics[topicName] {
		out = append(out, g)
	}
	return out
}

// interestKeys returns the cluster interest entry of every group with
// members (cluster.QueueInterestKey).
func (q *queues) interestKeys() []string {
	q.mu.RLock()
	defer q.mu.RUnlock()
	var out []string
	for t, groups := range q.topics {
		for g := range groups {
			out = append(out, cluster.QueueInterestKey(t, g))
		}
	}
	return out
}

// has reports whether topicName has a member in some group.
func (q *queues) has(topicName string) bool {
	if q.ntopics.Load() == 0 {
		return false
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	return q.topics[topicName] != nil
}

// names returns the topics with at least one group member.
func (q *queues) names() []string {
	q.mu.RLock()
	defer q.mu.RUnlock()
	out := make([]string, 0, len(q.topics))
	for t := range q.topics {
		out = append(out, t)
	}
	return out
}

// dispatch gives frame to one member of each group of topicName that sel
// selects and returns the number of members it was queued for. Members are
// taken in turn (round robin); a member whose outbound queue would go over
// limit, or already went over it, is skipped for the next one.
func (q *queues) dispatch(topicName string, frame []byte, limit int, sel groupSel) int {
	if q.ntopics.Load() == 0 || !sel.all && len(sel.names) == 0 {
		return 0
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	n := 0
	for name, g := range q.topics[topicName] {
		if sel.has(name) && g.give(frame, limit) {
			n++
		}
	}
	return n
}

// give queues frame to the next member that can take it; it reports
// whether one did. The caller holds the registry's read lock.
func (g *queueGroup) give(frame []byte, limit int) bool {
	members := g.members
	start := g.next.Add(1) - 1
	for i := range uint64(len(members)) {
		c := members[(start+i)%uint64(len(members))]
		if c.overSince.Load() != 0 || limit > 0 && c.ws.QueuedBytes()+len(frame) > limit {
			continue
		}
		if c.deliver(frame) == nil {
			g.delivered.Add(1)
			return true
		}
	}
	g.dropped.Add(1)
	return false
}

// info returns the groups of topicName, sorted by name.
func (q *queues) info(topicName string) []QueueGroup {
	q.mu.RLock()
	defer q.mu.RUnlock()
	out := make([]QueueGroup, 0, len(q.topics[topicName]))
	for name, g := range q.topics[topicName] {
		out = append(out, QueueGroup{Name: name, Members: len(g.members), Delivered: g.delivered.Load(), Dropped: g.dropped.Load()})
	}
	slices.SortFunc(out, func(a, b QueueGroup) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// maxQueueGroupLen is the longest queue group name, in bytes.
const maxQueueGroupLen = 128

// validateQueueGroup checks a queue group name: 1 to 128 bytes with the
// rules of a topic name.
func validateQueueGroup(group string) error {
	if len(group) > maxQueueGroupLen {
		return fmt.Errorf("%w: queue group of %d bytes, limit %d", ErrInvalidTopic, len(group), maxQueueGroupLen)
	}
	if err := topic.Validate(group); err != nil {
		return fmt.Errorf("%w: queue group %q: %w", ErrInvalidTopic, group, err)
	}
	return nil
}

// SubscribeQueue makes a connection a member of the queue group of each
// topic: every publication to the topic goes to exactly one live member of
// each of its groups on this node, in turn, skipping members whose outbound
// queue is over MaxOutboundQueueBytes, besides the topic's normal
// subscribers. A connection may be a normal subscriber and a member at once,
// and receives the publication once for each. Patterns cannot have queue
// groups (ErrInvalidTopic). Queue membership counts against
// MaxSubscriptionsPerConnection, is not recovered, and has no presence.
// The application is trusted: an explicit ACL of the connection refuses
// topics as in Subscribe.
func (s *Server) SubscribeQueue(connID string, topics []string, group string) error {
	c, err := s.lookup(connID)
	if err != nil {
		return err
	}
	if err := validateQueueGroup(group); err != nil {
		return err
	}
	if err := validateTopics(topics); err != nil {
		return err
	}
	for _, t := range topics {
		if topic.IsPattern(t) {
			return fmt.Errorf("%w: %q: a pattern cannot have a queue group", ErrInvalidTopic, t)
		}
	}
	if acl := c.explicitACL(); acl != nil {
		for _, t := range topics {
			if !acl.Allows(t) {
				return fmt.Errorf("%w: %s", ErrForbidden, t)
			}
		}
	}
	for _, t := range topics {
		if err := s.joinQueue(c, t, group); err != nil {
			return err
		}
	}
	return nil
}

// UnsubscribeQueue takes a connection out of the queue group of each topic.
func (s *Server) UnsubscribeQueue(connID string, topics []string, group string) error {
	c, err := s.lookup(connID)
	if err != nil {
		return err
	}
	for _, t := range topics {
		s.leaveQueue(c, t, group)
	}
	return nil
}

// QueueGroupInfo returns the queue groups of topic with their members on
// this node and, in a cluster, the peers that have members, sorted by name;
// empty when it has none.
func (s *Server) QueueGroupInfo(topic string) []QueueGroup {
	groups := s.queues.info(topic)
	node := s.clusterNode()
	if node == nil {
		return groups
	}
	for name, peers := range node.QueueGroupPeers(topic) {
		i := slices.IndexFunc(groups, func(g QueueGroup) bool { return g.Name == name })
		if i < 0 {
			groups = append(groups, QueueGroup{Name: name})
			i = len(groups) - 1
		}
		groups[i].Peers = peers
	}
	slices.SortFunc(groups, func(a, b QueueGroup) int { return strings.Compare(a.Name, b.Name) })
	return groups
}

// joinQueue adds c to group of t unless it is gone or at its subscription
// limit; joining again is a no-op.
func (s *Server) joinQueue(c *conn, t, group string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return fmt.Errorf("%w: %q", ErrUnknownConnection, c.id)
	}
	k := queueKey{t, group}
	if _, ok := c.queueGroups[k]; ok {
		return nil
	}
	if limit := s.cfg.MaxSubscriptionsPerConnection; limit > 0 && len(c.topics)+len(c.queueGroups) >= limit {
		return fmt.Errorf("%w: %s", ErrSubscriptionLimit, t)
	}
	if c.queueGroups == nil {
		c.queueGroups = make(map[queueKey]struct{})
	}
	c.queueGroups[k] = struct{}{}
	firstInTopic, firstInGroup := s.queues.join(t, group, c)
	if firstInTopic {
		s.interestChanged(t)
	}
	if firstInGroup {
		s.queueInterestChanged(t, group)
	}
	return nil
}

// leaveQueue removes c from group of t.
func (s *Server) leaveQueue(c *conn, t, group string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := queueKey{t, group}
	if _, ok := c.queueGroups[k]; !ok {
		return
	}
	delete(c.queueGroups, k)
	s.queueLeft(c, k)
}

// queueLeft takes c out of the registry's group k and tells the peers
// what changed.
func (s *Server) queueLeft(c *conn, k queueKey) {
	lastInTopic, lastInGroup := s.queues.leave(k.topic, k.group, c)
	if lastInGroup {
		s.queueInterestChanged(k.topic, k.group)
	}
	if lastInTopic {
		s.interestChanged(k.topic)
	}
}

// leaveAllQueuesLocked removes c from every queue group; c.mu is held.
func (s *Server) leaveAllQueuesLocked(c *conn) {
	for k := range c.queueGroups {
		s.queueLeft(c, k)
	}
	c.queueGroups = nil
}

// assignGroups chooses, for one publication to topicName, which node gives
// it to a member of each queue group that has members anywhere: this node
// (the returned local selection) or one peer (the returned map, peer id →
// groups). The candidates of a group are this node, when it has members,
// and the peers that announced members, in a fixed order; successive
// publications take them in turn. Nodes are chosen evenly, whatever their
// number of members.
func (s *Server) assignGroups(node *cluster.Node, topicName string) (groupSel, map[string][]string) {
	local := s.queues.groupNames(topicName)
	remote := node.QueueGroupPeers(topicName)
	if len(remote) == 0 {
		return groupSel{names: local}, nil
	}
	var sel groupSel
	assign := make(map[string][]string)
	turn := s.queueTurn.Add(1)
	for group, peers := range remote {
		candidates := len(peers)
		if slices.Contains(local, group) {
			candidates++
		}
		i := int(turn % uint64(candidates))
		if i == len(peers) { // the last candidate is this node
			sel.names = append(sel.names, group)
			continue
		}
		assign[peers[i]] = append(assign[peers[i]], group)
	}
	for _, group := range local {
		if _, shared := remote[group]; !shared {
			sel.names = append(sel.names, group)
		}
	}
	return sel, assign
}
