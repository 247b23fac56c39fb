package wse

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/wse-go/wse/internal/ring"
	"github.com/wse-go/wse/internal/topic"
	"github.com/wse-go/wse/internal/wsconn"
	"github.com/wse-go/wse/protocol"
)

// Position is a client's place in a topic's stream: the buffer epoch and the
// last offset it received.
type Position struct {
	Epoch  string `json:"epoch"`
	Offset uint64 `json:"offset"`
}

// RecoveryResult is the outcome of a recovering subscription to one topic.
type RecoveryResult struct {
	// Epoch and Offset are the topic's current position (last offset,
	// inclusive): the client's new baseline.
	Epoch  string `json:"epoch"`
	Offset uint64 `json:"offset"`
	// Recovered reports whether every message the client missed was replayed.
	Recovered bool `json:"recovered"`
	// Count is the number of messages replayed.
	Count int `json:"count"`
}

// newRing returns the recovery store, or nil when recovery is disabled.
func newRing(cfg RecoveryConfig) (*ring.Store, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	st, err := ring.NewStore(ring.Config{
		BufferSize:   cfg.BufferSize,
		TTL:          cfg.TTL,
		MaxMessages:  cfg.MaxMessages,
		MemoryBudget: cfg.MemoryBudget,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: Recovery: %w", ErrInvalidConfig, err)
	}
	return st, nil
}

// SubscribeWithRecovery subscribes a connection to topics and, for every
// topic with a position in from, queues the messages published after it
// ahead of any live message, without gap or duplicate. A topic without a
// position is subscribed and reports the current position with Recovered
// false. Topics refused by the connection's explicit ACL reveal nothing:
// they get no result and the error wraps ErrForbidden. With recovery
// disabled the topics are subscribed and every result is empty.
func (s *Server) SubscribeWithRecovery(connID string, topics []string, from map[string]Position, presence map[string]any) (map[string]RecoveryResult, error) {
	c, err := s.lookup(connID)
	if err != nil {
		return nil, err
	}
	if err := validateTopics(topics); err != nil {
		return nil, err
	}
	granted, denied := topics, []string(nil)
	if acl := c.explicitACL(); acl != nil {
		granted = nil
		for _, t := range topics {
			if acl.Allows(t) {
				granted = append(granted, t)
			} else {
				denied = append(denied, t)
			}
		}
	}
	granted = withRecoveredTopics(granted, from)
	results := make(map[string]RecoveryResult, len(granted))
	for _, t := range granted {
		var pos *Position
		if p, ok := from[t]; ok {
			pos = &p
		}
		res, err := s.recoverTopic(c, t, pos)
		if err != nil {
			return results, err
		}
		if !topic.IsPattern(t) {
			results[t] = res
		}
	}
	if presence != nil && s.cfg.Presence.Enabled {
		if err := s.joinPresence(c, granted, presence); err != nil {
			return results, err
		}
	}
	if len(denied) > 0 {
		return results, fmt.Errorf("%w: %s", ErrForbidden, strings.Join(denied, ", "))
	}
	return results, nil
}

// recoverTopic subscribes c to t and, when pos is given, replays what c
// missed. The subscription and the replay happen under the topic's recovery
// lock, which publications also hold while they fan out, so the replay is
// queued before any later live message.
func (s *Server) recoverTopic(c *conn, t string, pos *Position) (RecoveryResult, error) {
	if topic.IsPattern(t) {
		// A pattern has no stream of its own: its concrete topics are
		// recovered one by one (withRecoveredTopics).
		return RecoveryResult{}, s.addTopic(c, t)
	}
	if s.hist != nil && s.ring != nil {
		return s.recoverShared(c, t, pos)
	}
	if s.ring == nil || pos == nil {
		if err := s.addTopic(c, t); err != nil {
			return RecoveryResult{}, err
		}
		if s.ring == nil {
			return RecoveryResult{}, nil
		}
		epoch, offset, _ := s.ring.Position(t)
		return RecoveryResult{Epoch: epoch, Offset: offset}, nil
	}
	var addErr error
	res := s.ring.RecoverWithResult(t, pos.Epoch, pos.Offset, func(r ring.RecoverResult) {
		if addErr = s.addTopic(c, t); addErr != nil {
			return
		}
		for _, frame := range r.Msgs {
			_ = c.deliver(frame)
		}
	})
	if addErr != nil {
		return RecoveryResult{}, addErr
	}
	s.stats.recoveries.Add(1)
	if res.Recovered {
		s.stats.recovered.Add(1)
		s.stats.replayed.Add(uint64(len(res.Msgs)))
	}
	return RecoveryResult{Epoch: res.Epoch, Offset: res.Offset, Recovered: res.Recovered, Count: len(res.Msgs)}, nil
}

// publishStamped stamps text with the topic's next position, stores the
// frame and fans it out, all under the topic's recovery lock so that
// subscribers see offsets in order. It returns the number of subscribers the
// frame was queued for.
func (s *Server) publishStamped(topicName string, text []byte, sel groupSel) int {
	n := 0
	s.ring.Append(topicName, func(epoch string, offset uint64) []byte {
		stamped, _ := protocol.Stamp(text, topicName, epoch, offset)
		frame := wsconn.BuildFrame(wsconn.OpText, stamped)
		n = s.fanout(topicName, frame, sel)
		return frame
	})
	return n
}

// isJSONObject reports whether text looks like a JSON object (first and last
// non-space bytes are braces): only objects can carry a recovery stamp.
func isJSONObject(text []byte) bool {
	t := bytes.TrimSpace(text)
	return len(t) >= 2 && t[0] == '{' && t[len(t)-1] == '}'
}

// TopicPosition returns the recovery position of topic: its buffer's epoch
// and last offset (inclusive), and whether the topic has a buffer. With
// recovery disabled it fails with ErrRecoveryDisabled.
func (s *Server) TopicPosition(topicName string) (Position, bool, error) {
	if s.ring == nil {
		return Position{}, false, ErrRecoveryDisabled
	}
	if err := validateTopics([]string{topicName}); err != nil {
		return Position{}, false, err
	}
	epoch, offset, ok := s.ring.Position(topicName)
	return Position{Epoch: epoch, Offset: offset}, ok, nil
}
