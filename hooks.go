package wse

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/wse-go/wse/auth"
	"github.com/wse-go/wse/internal/topic"
	"github.com/wse-go/wse/internal/wsconn"
	"github.com/wse-go/wse/protocol"
)

// Hooks let the application decide, outside the engine, what the engine
// would otherwise decide from its configuration: who may connect, which
// topics a client may join, and what happens to chosen client messages.
// The hooks package implements them over HTTP. A nil field leaves that
// decision to the configuration.
//
// The engine never waits on a hook on a poller goroutine: Connect runs on
// the upgrade request's own goroutine, and Subscribe and Message take a
// done callback that the hook calls later, from any goroutine. A hook that
// is slow or never answers therefore delays only the connection concerned.
type Hooks struct {
	// Connect decides an upgrade that carries no JWT (all upgrades when no
	// JWT key is configured). It runs on the upgrade's goroutine, before
	// the upgrade response, and may block until ctx is done (the request's
	// context bounded by HandshakeTimeout).
	Connect func(ctx context.Context, req ConnectRequest) ConnectDecision
	// Subscribe decides the topics of a client subscription request that
	// the subscription policy does not grant. It must not block: it calls
	// done exactly once, from any goroutine, with the topics it grants; the
	// others fail with FORBIDDEN. The reply to the client waits for done.
	Subscribe func(req SubscribeRequest, done func(granted []string))
	// MessageTypes are the "t" values of client messages that go to
	// Message instead of the event queue.
	MessageTypes []string
	// Message handles a client message whose type is in MessageTypes. It
	// must not block: it calls done exactly once, from any goroutine.
	Message func(req MessageRequest, done func(MessageResult))
}

// ConnectRequest is what the Connect hook learns of an upgrade.
type ConnectRequest struct {
	// ConnID is the id the connection will have if it is allowed.
	ConnID string
	// Request is the upgrade request (headers, cookies, query, remote
	// address). Its body is empty; it must not be kept after the hook returns.
	Request *http.Request
}

// ConnectDecision is the Connect hook's answer.
type ConnectDecision struct {
	// Allow lets the connection in; false closes it after the upgrade with
	// an error frame and CloseCode.
	Allow bool
	// UserID is the connection's user (as a JWT sub would be); empty keeps
	// it anonymous (EventConnect instead of EventAuthConnect).
	UserID string
	// Topics are subscribed right after server_ready.
	Topics []string
	// Presence, with presence enabled and Topics, is the user's presence
	// data in them.
	Presence map[string]any
	// Allow and Deny globs become the connection's topic ACL, like the JWT
	// wse_topics claim.
	AllowTopics []string
	DenyTopics  []string
	// CloseCode closes a refused connection (default 4403); Reason is the
	// close reason and the error frame's message; ErrorCode is the error
	// frame's code (default FORBIDDEN).
	CloseCode int
	Reason    string
	ErrorCode string
}

// SubscribeRequest is what the Subscribe hook learns of a client request.
type SubscribeRequest struct {
	ConnID string
	UserID string
	// Topics are the valid topics the policy did not grant.
	Topics []string
}

// MessageRequest is a client message for the Message hook.
type MessageRequest struct {
	ConnID string
	UserID string
	// Type is the message's "t".
	Type string
	// Message is the whole client message object.
	Message map[string]any
}

// MessageResult is the Message hook's answer. Any combination of Publish,
// Reply and Error may be set; Pass alone hands the message on.
type MessageResult struct {
	// Pass hands the message to the application as an EventMessage, as if
	// no hook were set.
	Pass bool
	// Topic and Publish: Publish (JSON text) is published to Topic, across
	// the cluster, as Broadcast does.
	Topic   string
	Publish string
	// Reply is sent to the client that sent the message, wrapped in the
	// WSE envelope (id, ts and v added).
	Reply map[string]any
	// ErrorCode and ErrorMessage, when ErrorCode is set, send the client an
	// error message.
	ErrorCode    string
	ErrorMessage string
}

// hookTypes returns the set of message types hooked, nil when none.
func (h Hooks) hookTypes() map[string]struct{} {
	if h.Message == nil || len(h.MessageTypes) == 0 {
		return nil
	}
	m := make(map[string]struct{}, len(h.MessageTypes))
	for _, t := range h.MessageTypes {
		m[t] = struct{}{}
	}
	return m
}

// connectHook runs the Connect hook for an upgrade without a token.
func (s *Server) connectHook(r *http.Request) (string, ConnectDecision) {
	id := protocol.NewID()
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.HandshakeTimeout)
	defer cancel()
	return id, s.cfg.Hooks.Connect(ctx, ConnectRequest{ConnID: id, Request: r})
}

// claimsOf turns an allowing ConnectDecision into the claims the connection
// is activated with; nil for an anonymous connection without rules.
func (d ConnectDecision) claimsOf() *auth.Claims {
	if d.UserID == "" && d.AllowTopics == nil && d.DenyTopics == nil {
		return nil
	}
	c := &auth.Claims{Subject: d.UserID}
	if d.AllowTopics != nil || d.DenyTopics != nil {
		c.Topics = &auth.TopicClaim{Allow: d.AllowTopics, Deny: d.DenyTopics}
	}
	return c
}

// rejectHook closes an upgraded connection the Connect hook refused: a
// FORBIDDEN error frame, then the decision's close code.
func (s *Server) rejectHook(nc net.Conn, d ConnectDecision) {
	s.stats.authFailures.Add(1)
	code, reason := d.CloseCode, d.Reason
	if code < 1000 || code > 4999 {
		code = protocol.CloseForbidden
	}
	if reason == "" {
		reason = "connection refused"
	}
	if len(reason) > 123 {
		reason = reason[:123]
	}
	errCode := d.ErrorCode
	if errCode == "" {
		errCode = protocol.CodeForbidden
	}
	s.cfg.Logger.Info("wse: connect hook refused", "remote", nc.RemoteAddr().String(), "code", code, "reason", reason)
	frame := wsconn.BuildFrame(wsconn.OpText, protocol.Error(errCode, reason, 0, time.Now()))
	ws, err := s.engine.Adopt(nc, nopHandler{}, wsconn.AdoptOptions{Initial: frame})
	if err != nil {
		return
	}
	ws.Close(code, reason)
}

// hookedSubscribe passes the topics the policy refused to the Subscribe
// hook and finishes the request when it answers.
func (s *Server) hookedSubscribe(c *conn, req protocol.SubscriptionRequest, granted, ask []string, reply protocol.SubscriptionReply) {
	s.cfg.Hooks.Subscribe(SubscribeRequest{ConnID: c.id, UserID: c.userID, Topics: ask}, func(ok []string) {
		yes := make(map[string]bool, len(ok))
		for _, t := range ok {
			yes[t] = true
		}
		for _, t := range ask {
			if yes[t] {
				granted = append(granted, t)
			} else {
				reply.FailedTopics = append(reply.FailedTopics, protocol.FailedTopic{Topic: t, Code: protocol.CodeForbidden})
			}
		}
		s.finishSubscribe(c, req, granted, reply)
	})
}

// hookMessage passes a client message of a hooked type to the Message
// hook; it reports false when the type is not hooked.
func (s *Server) hookMessage(c *conn, msg map[string]any) bool {
	t, _ := msg["t"].(string)
	if _, ok := s.hookTypes[t]; !ok {
		return false
	}
	s.cfg.Hooks.Message(MessageRequest{ConnID: c.id, UserID: c.userID, Type: t, Message: msg}, func(res MessageResult) {
		s.applyMessageResult(c, msg, res)
	})
	return true
}

// applyMessageResult carries out the Message hook's answer.
func (s *Server) applyMessageResult(c *conn, msg map[string]any, res MessageResult) {
	if res.Pass {
		s.in.push(Event{Type: EventMessage, ConnID: c.id, Message: msg})
	}
	if res.Publish != "" && res.Topic != "" {
		if topic.Validate(res.Topic) != nil {
			s.cfg.Logger.Warn("wse: message hook named an invalid topic", "conn_id", c.id, "topic", res.Topic)
		} else if _, err := s.Broadcast(res.Topic, res.Publish); err != nil {
			s.cfg.Logger.Warn("wse: message hook publish failed", "conn_id", c.id, "topic", res.Topic, "error", err)
		}
	}
	if res.Reply != nil {
		if body, err := protocol.Event(res.Reply, 0, timeNow()); err == nil {
			s.sendMessage(c, body)
		} else {
			s.cfg.Logger.Warn("wse: message hook reply cannot be encoded", "conn_id", c.id, "error", err)
		}
	}
	if res.ErrorCode != "" {
		s.sendError(c, res.ErrorCode, res.ErrorMessage)
	}
}
