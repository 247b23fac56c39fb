package wse

import (
	"fmt"
	"time"

	"github.com/wse-go/wse/internal/e2e"
	"github.com/wse-go/wse/internal/topic"
	"github.com/wse-go/wse/internal/wsconn"
	"github.com/wse-go/wse/protocol"
)

// timeNow is the clock used for message timestamps.
var timeNow = time.Now

// Send sends text to one connection as a text frame, unchanged (sealed in
// an "E:" binary frame on an encrypted connection).
func (s *Server) Send(connID, text string) error {
	return s.sendFrame(connID, wsconn.BuildFrame(wsconn.OpText, []byte(text)), (*conn).deliver)
}

// SendBytes sends b to one connection as a binary frame, unchanged: raw
// application bytes are never encrypted, since clients read decrypted
// frames as text.
func (s *Server) SendBytes(connID string, b []byte) error {
	return s.sendFrame(connID, wsconn.BuildFrame(wsconn.OpBinary, b), (*conn).send)
}

// sendFrame queues frame to one connection with put: (*conn).deliver for a
// message (sealed on encrypted connections), (*conn).send for raw bytes.
func (s *Server) sendFrame(connID string, frame []byte, put func(*conn, []byte) error) error {
	c, err := s.lookup(connID)
	if err != nil {
		return err
	}
	if err := put(c, frame); err != nil {
		return fmt.Errorf("send to %q: %w", connID, err)
	}
	return nil
}

// SendEvent wraps ev in the WSE envelope (category, id, ts, seq, v) and sends
// it as a binary frame: sealed JSON ("E:") on encrypted connections,
// MessagePack ("M:") on format=msgpack connections, zlib ("C:") when the
// JSON is longer than CompressionThreshold, plain JSON otherwise. It returns
// the number of payload bytes sent.
func (s *Server) SendEvent(connID string, ev map[string]any) (int, error) {
	return s.SendEventThreshold(connID, ev, s.cfg.CompressionThreshold)
}

// SendEventThreshold is SendEvent with its own compression threshold for
// this event (the seed's send_event(conn_id, event, compression_threshold)):
// the JSON is compressed when longer than threshold; 0 or less never
// compresses.
func (s *Server) SendEventThreshold(connID string, ev map[string]any, threshold int) (int, error) {
	c, err := s.lookup(connID)
	if err != nil {
		return 0, err
	}
	body, err := protocol.Event(ev, s.seq.Add(1), timeNow())
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	switch {
	case c.e2e.Load() != nil:
		// Clients read a decrypted frame as JSON text.
		frame := wsconn.BuildFrame(wsconn.OpBinary, body)
		if err := c.deliver(frame); err != nil {
			return 0, fmt.Errorf("send event to %q: %w", connID, err)
		}
		return len(body) + e2e.Overhead, nil
	case c.msgpack:
		if body, err = protocol.EncodeMsgpack(body); err != nil {
			return 0, fmt.Errorf("%w: %w", ErrInvalidEvent, err)
		}
	case threshold > 0 && len(body) > threshold:
		body = protocol.Compress(body)
	}
	if err := c.send(wsconn.BuildFrame(wsconn.OpBinary, body)); err != nil {
		return 0, fmt.Errorf("send event to %q: %w", connID, err)
	}
	return len(body), nil
}

// BroadcastAll sends text, with its category injected, to every connection.
// It returns the number of connections it was queued for.
func (s *Server) BroadcastAll(text string) int {
	return s.broadcastAllFrame(wsconn.BuildFrame(wsconn.OpText, protocol.InjectCategory([]byte(text))), (*conn).deliver)
}

// BroadcastAllBytes sends b as a binary frame to every connection, never
// encrypted (see SendBytes).
func (s *Server) BroadcastAllBytes(b []byte) int {
	return s.broadcastAllFrame(wsconn.BuildFrame(wsconn.OpBinary, b), (*conn).send)
}

// broadcastAllFrame queues frame to every connection with put (see
// sendFrame).
func (s *Server) broadcastAllFrame(frame []byte, put func(*conn, []byte) error) int {
	if !s.running.Load() {
		return 0
	}
	s.stats.published.Add(1)
	n := 0
	s.conns.each(func(c *conn) {
		if put(c, frame) == nil {
			n++
		}
	})
	return n
}

// BroadcastLocal publishes text to the topic's subscribers on this node: the
// category is injected, the recovery stamp added (when recovery is on and
// text is a JSON object), the frame is built once and the same bytes are
// queued to every subscriber. It returns the number of subscribers it was
// queued for. With a Broker that keeps shared history the text is sent
// unstamped: positions belong to the shared stream.
func (s *Server) BroadcastLocal(topicName, text string) (int, error) {
	if err := topic.Validate(topicName); err != nil {
		return 0, fmt.Errorf("%w: %q: %w", ErrInvalidTopic, topicName, err)
	}
	if !s.running.Load() {
		return 0, ErrServerStopped
	}
	body := protocol.InjectCategory([]byte(text))
	if s.hist != nil {
		// The shared stream assigns positions: a message it never had is
		// delivered unstamped, with its topic.
		s.stats.published.Add(1)
		body, _ = protocol.TagTopic(body, topicName)
		return s.fanout(topicName, wsconn.BuildFrame(wsconn.OpText, body), allGroups), nil
	}
	return s.publishLocal(topicName, body, allGroups), nil
}

// publishLocal fans out a publication whose category is already injected,
// to the local subscribers and to one member of each queue group in sel:
// a JSON object gets the recovery stamp when recovery is on, or else the
// topic tag "tp", so every topic publication names its topic.
func (s *Server) publishLocal(topicName string, body []byte, sel groupSel) int {
	// One publication in publishSampling is timed: reading the clock twice
	// costs more than the rest of a publication with no subscribers.
	sampled := s.stats.published.Add(1)%publishSampling == 0
	var start time.Time
	if sampled {
		start = time.Now()
	}
	var n int
	if s.ring != nil && isJSONObject(body) {
		n = s.publishStamped(topicName, body, sel)
	} else {
		body, _ = protocol.TagTopic(body, topicName)
		n = s.fanout(topicName, wsconn.BuildFrame(wsconn.OpText, body), sel)
	}
	if sampled {
		s.latency.publish.observe(time.Since(start))
	}
	return n
}

// fanout queues frame to every local subscriber of topicName, directly or
// through a matching pattern, and to one member of each queue group in
// sel; it returns how many accepted it.
func (s *Server) fanout(topicName string, frame []byte, sel groupSel) int {
	n := 0
	s.hub.eachMatching(topicName, func(c *conn) {
		if c.deliver(frame) == nil {
			n++
		}
	})
	return n + s.queues.dispatch(topicName, frame, s.cfg.MaxOutboundQueueBytes, sel)
}

// Broadcast publishes text to the topic's subscribers on every node: local
// fan-out as BroadcastLocal, and the unstamped text forwarded once to the
// peers that have subscribers for the topic (each stamps it with its own
// recovery position). It returns the number of local subscribers reached.
//
// With a Config.Broker the text goes through the broker instead. With
// shared history (Redis) it comes back to every node, this one included,
// stamped with the stream's position, and the count is of the local
// subscribers it will reach. When the broker fails, local subscribers still
// get it and the error wraps ErrBroker.
func (s *Server) Broadcast(topicName, text string) (int, error) {
	if err := topic.Validate(topicName); err != nil {
		return 0, fmt.Errorf("%w: %q: %w", ErrInvalidTopic, topicName, err)
	}
	if !s.running.Load() {
		return 0, ErrServerStopped
	}
	body := protocol.InjectCategory([]byte(text))
	if s.broker != nil {
		return s.publishBroker(topicName, body)
	}
	if node := s.clusterNode(); node != nil {
		local, remote := s.assignGroups(node, topicName)
		node.PublishGroups(topicName, body, remote)
		return s.publishLocal(topicName, body, local), nil
	}
	return s.publishLocal(topicName, body, allGroups), nil
}

// pingAll sends the server ping to every connection (PROTOCOL §3).
func (s *Server) pingAll(now time.Time) {
	frame := wsconn.BuildFrame(wsconn.OpText, protocol.Ping(now))
	s.conns.each(func(c *conn) { _ = c.send(frame) })
}
