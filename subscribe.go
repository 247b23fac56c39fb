package wse

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/wse-go/wse/internal/topic"
	"github.com/wse-go/wse/protocol"
)

// Subscribe subscribes a connection to topics. The application is trusted:
// only an explicit ACL of the connection (the JWT wse_topics claim or
// SetTopicACL) can refuse a topic; refused topics are skipped, the others
// subscribed, and the error wraps ErrForbidden naming them. Subscribing again
// is a no-op. presence, when not nil and presence is enabled, tracks the
// connection's user in each topic with that data.
func (s *Server) Subscribe(connID string, topics []string, presence map[string]any) error {
	c, err := s.lookup(connID)
	if err != nil {
		return err
	}
	if err := validateTopics(topics); err != nil {
		return err
	}
	granted, denied := topics, []string(nil)
	if acl := c.explicitACL(); acl != nil {
		granted = make([]string, 0, len(topics))
		for _, t := range topics {
			if acl.Allows(t) {
				granted = append(granted, t)
			} else {
				denied = append(denied, t)
			}
		}
	}
	if err := s.subscribeConn(c, granted, presence); err != nil {
		return err
	}
	if len(denied) > 0 {
		return fmt.Errorf("%w: %s", ErrForbidden, strings.Join(denied, ", "))
	}
	return nil
}

// Unsubscribe removes a connection from topics; nil removes it from all.
func (s *Server) Unsubscribe(connID string, topics []string) error {
	c, err := s.lookup(connID)
	if err != nil {
		return err
	}
	if topics == nil {
		s.dropTopics(c, false)
		return nil
	}
	s.unsubscribeConn(c, topics)
	return nil
}

// TopicSubscriberCount returns the number of local subscribers of topic.
func (s *Server) TopicSubscriberCount(topic string) int { return s.hub.count(topic) }

// SetTopicACL sets the connection's explicit topic rules (added to those of
// its JWT wse_topics claim): client requests under PolicyACL, and Subscribe,
// then grant a topic only when an allow glob matches and no deny glob does.
func (s *Server) SetTopicACL(connID string, allow, deny []string) error {
	c, err := s.lookup(connID)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rules := topic.ACL{Allow: allow, Deny: deny}
	if c.acl != nil {
		rules = c.acl.Merge(rules)
	}
	c.acl = &rules
	return nil
}

// lookup returns the open connection connID.
func (s *Server) lookup(connID string) (*conn, error) {
	if !s.running.Load() {
		return nil, ErrServerStopped
	}
	c := s.conns.get(connID)
	if c == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownConnection, connID)
	}
	return c, nil
}

func validateTopics(topics []string) error {
	for _, t := range topics {
		if err := topic.Validate(t); err != nil {
			return fmt.Errorf("%w: %q: %w", ErrInvalidTopic, t, err)
		}
	}
	return nil
}

// explicitACL returns a copy of the connection's explicit rules, or nil.
func (c *conn) explicitACL() *topic.ACL {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.acl == nil {
		return nil
	}
	acl := *c.acl
	return &acl
}

// subscribeConn adds valid, permitted topics to c, honoring the per-connection
// limit; it fails with ErrSubscriptionLimit when some did not fit.
func (s *Server) subscribeConn(c *conn, topics []string, presence map[string]any) error {
	var limited []string
	for _, t := range topics {
		switch err := s.addTopic(c, t); {
		case errors.Is(err, ErrSubscriptionLimit):
			limited = append(limited, t)
		case err != nil:
			return err
		}
	}
	if presence != nil && s.cfg.Presence.Enabled {
		if err := s.joinPresence(c, topics, presence); err != nil {
			return err
		}
	}
	if len(limited) > 0 {
		return fmt.Errorf("%w: %s", ErrSubscriptionLimit, strings.Join(limited, ", "))
	}
	return nil
}

// addTopic subscribes c to t unless it is gone or at its subscription
// limit; subscribing again is a no-op.
func (s *Server) addTopic(c *conn, t string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return fmt.Errorf("%w: %q", ErrUnknownConnection, c.id)
	}
	if _, ok := c.topics[t]; ok {
		return nil
	}
	if limit := s.cfg.MaxSubscriptionsPerConnection; limit > 0 && len(c.topics) >= limit {
		return ErrSubscriptionLimit
	}
	if c.topics == nil {
		c.topics = make(map[string]struct{})
	}
	c.topics[t] = struct{}{}
	if s.hub.add(t, c) {
		s.interestChanged(t)
	}
	return nil
}

// unsubscribeConn removes topics from c.
func (s *Server) unsubscribeConn(c *conn, topics []string) {
	c.mu.Lock()
	var left []string
	for _, t := range topics {
		if _, ok := c.topics[t]; ok {
			delete(c.topics, t)
			if s.hub.remove(t, c) {
				s.interestChanged(t)
			}
			left = append(left, t)
		}
	}
	c.mu.Unlock()
	s.leavePresence(c, left)
}

// dropTopics removes c from every topic. final marks the connection gone, so
// that no concurrent Subscribe can add it back after it closed.
func (s *Server) dropTopics(c *conn, final bool) {
	c.mu.Lock()
	c.gone = c.gone || final
	left := make([]string, 0, len(c.topics))
	for t := range c.topics {
		if s.hub.remove(t, c) {
			s.interestChanged(t)
		}
		left = append(left, t)
	}
	c.topics = nil
	s.leaveAllQueuesLocked(c)
	c.mu.Unlock()
	s.leavePresence(c, left)
}

// clientAllowed applies ClientSubscriptions to a client's own request.
func (s *Server) clientAllowed(c *conn, t string) bool {
	if s.cfg.ClientSubscriptions == PolicyAny {
		return true
	}
	var server topic.ACL
	for _, p := range s.cfg.ClientTopics {
		// A user id with glob characters must not widen a pattern.
		if allow, err := topic.ExpandGlob(p, c.user()); err == nil {
			server.Allow = append(server.Allow, allow)
		}
	}
	if acl := c.explicitACL(); acl != nil {
		return acl.Merge(server).Allows(t)
	}
	return server.Allows(t)
}

// handleSubscription answers a client's subscription_update request under
// PolicyACL or PolicyAny (PROTOCOL §4).
func (s *Server) handleSubscription(c *conn, msg map[string]any) {
	req, err := protocol.ParseSubscriptionRequest(msg)
	if err != nil {
		s.stats.invalidMessages.Add(1)
		s.sendError(c, protocol.CodeInvalidMessage, err.Error())
		return
	}
	reply := protocol.SubscriptionReply{Action: req.Action, Success: true}
	if req.QueueGroup != "" && (req.Action == "subscribe" || req.Action == "unsubscribe") {
		s.handleQueueSubscription(c, req, &reply)
		s.sendMessage(c, reply.Frame())
		return
	}
	switch req.Action {
	case "unsubscribe":
		s.unsubscribeConn(c, req.Topics)
		reply.Unsubscribed = req.Topics
	case "subscribe":
		var granted, ask []string
		for _, t := range req.Topics {
			switch {
			case topic.Validate(t) != nil:
				reply.FailedTopics = append(reply.FailedTopics, protocol.FailedTopic{Topic: t, Code: protocol.CodeInvalidTopic})
			case s.clientAllowed(c, t):
				granted = append(granted, t)
			case s.cfg.Hooks.Subscribe != nil:
				ask = append(ask, t)
			default:
				reply.FailedTopics = append(reply.FailedTopics, protocol.FailedTopic{Topic: t, Code: protocol.CodeForbidden})
			}
		}
		if len(ask) > 0 {
			s.hookedSubscribe(c, req, granted, ask, reply)
			return
		}
		s.finishSubscribe(c, req, granted, reply)
		return
	default:
		s.stats.invalidMessages.Add(1)
		s.sendError(c, protocol.CodeInvalidMessage, fmt.Sprintf("unknown subscription action %q", req.Action))
		return
	}
	s.sendMessage(c, reply.Frame())
}

// handleQueueSubscription answers a client's request to join or leave the
// queue group req.QueueGroup of req.Topics, filling reply.
func (s *Server) handleQueueSubscription(c *conn, req protocol.SubscriptionRequest, reply *protocol.SubscriptionReply) {
	reply.QueueGroup = req.QueueGroup
	if req.Action == "unsubscribe" {
		for _, t := range req.Topics {
			s.leaveQueue(c, t, req.QueueGroup)
		}
		reply.Unsubscribed = req.Topics
		return
	}
	reply.SuccessTopics = []string{}
	groupErr := validateQueueGroup(req.QueueGroup)
	for _, t := range req.Topics {
		var err error
		switch {
		case groupErr != nil, topic.Validate(t) != nil, topic.IsPattern(t):
			err = ErrInvalidTopic
		case !s.clientAllowed(c, t):
			err = ErrForbidden
		default:
			err = s.joinQueue(c, t, req.QueueGroup)
		}
		switch {
		case err == nil:
			reply.SuccessTopics = append(reply.SuccessTopics, t)
			continue
		case errors.Is(err, ErrInvalidTopic):
			reply.FailedTopics = append(reply.FailedTopics, protocol.FailedTopic{Topic: t, Code: protocol.CodeInvalidTopic})
		case errors.Is(err, ErrForbidden):
			reply.FailedTopics = append(reply.FailedTopics, protocol.FailedTopic{Topic: t, Code: protocol.CodeForbidden})
		default:
			reply.FailedTopics = append(reply.FailedTopics, protocol.FailedTopic{Topic: t, Code: protocol.CodeLimit})
		}
		s.refuse(refusalOfCode(reply.FailedTopics[len(reply.FailedTopics)-1].Code))
	}
}

// withRecoveredTopics puts ahead of topics the concrete topics that a
// recovering pattern subscription asks to replay: each key of positions that
// is not a pattern, not already in topics, and matched by a pattern in
// topics. Each is subscribed exactly and recovered before the pattern is
// added, so its replay reaches the connection before any live message on it.
// positions is keyed by topic; any value type.
func withRecoveredTopics[P any](topics []string, positions map[string]P) []string {
	var extra []string
	for k := range positions {
		if topic.IsPattern(k) || slices.Contains(topics, k) {
			continue
		}
		for _, t := range topics {
			if topic.IsPattern(t) && topic.Match(t, k) {
				extra = append(extra, k)
				break
			}
		}
	}
	if extra == nil {
		return topics
	}
	slices.Sort(extra)
	return append(extra, topics...)
}

// finishSubscribe subscribes the granted topics of a client request
// (within the subscription limit), recovers and joins presence as asked,
// and sends the reply. It may run on any goroutine.
func (s *Server) finishSubscribe(c *conn, req protocol.SubscriptionRequest, granted []string, reply protocol.SubscriptionReply) {
	if req.Recover {
		granted = withRecoveredTopics(granted, req.Recovery)
	}
	granted, reply.FailedTopics = s.fitLimit(c, granted, reply.FailedTopics)
	for _, f := range reply.FailedTopics {
		s.refuse(refusalOfCode(f.Code))
	}
	if req.Recover {
		reply.Recovery = make(map[string]protocol.RecoveryResult, len(granted))
	}
	for _, t := range granted {
		var pos *Position
		if p, ok := req.Recovery[t]; ok && req.Recover {
			pos = &Position{Epoch: p.Epoch, Offset: p.Offset}
		}
		res, err := s.recoverTopic(c, t, pos)
		if err != nil {
			s.sendError(c, presenceErrorCode(err), err.Error())
			continue
		}
		if req.Recover && !topic.IsPattern(t) {
			reply.Recovery[t] = protocol.RecoveryResult{Epoch: res.Epoch, Offset: res.Offset, Recovered: res.Recovered, Count: res.Count}
		}
	}
	if len(req.Presence) > 0 && s.cfg.Presence.Enabled {
		if err := s.joinPresence(c, granted, decodeObject(req.Presence)); err != nil {
			s.sendError(c, presenceErrorCode(err), err.Error())
		}
	}
	if granted == nil {
		granted = []string{}
	}
	reply.SuccessTopics = granted
	s.sendMessage(c, reply.Frame())
}

// fitLimit keeps the granted topics that fit the connection's subscription
// limit; the rest are reported as LIMIT failures.
func (s *Server) fitLimit(c *conn, granted []string, failed []protocol.FailedTopic) ([]string, []protocol.FailedTopic) {
	limit := s.cfg.MaxSubscriptionsPerConnection
	if limit == 0 {
		return granted, failed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	room := limit - len(c.topics)
	fits := granted[:0:0]
	for _, t := range granted {
		_, ok := c.topics[t]
		switch {
		case ok:
			fits = append(fits, t)
		case room > 0:
			room--
			fits = append(fits, t)
		default:
			failed = append(failed, protocol.FailedTopic{Topic: t, Code: protocol.CodeLimit})
		}
	}
	return fits, failed
}

// sendError sends an error message to c and counts it as a refusal of
// its code's reason.
func (s *Server) sendError(c *conn, code, message string) {
	s.sendRefusal(c, refusalOfCode(code), code, message)
}

// sendRefusal counts refusal r and sends an error message to c.
func (s *Server) sendRefusal(c *conn, r refusal, code, message string) {
	s.refuse(r)
	s.sendPlain(c, protocol.Error(code, message, 0, timeNow()))
}
