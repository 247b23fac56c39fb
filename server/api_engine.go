package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/internal/topic"
	"github.com/wse-go/wse/monitor"
)

// Limits of the endpoints in this file.
const (
	// maxBatch bounds the publishes of one POST /api/batch.
	maxBatch = 10000
	// defaultDrainTimeout and maxDrainTimeout bound POST /api/drain timeout_ms.
	defaultDrainTimeout = 10 * time.Second
	maxDrainTimeout     = 60 * time.Second
)

// Error codes of the endpoints in this file.
const (
	codeRecoveryDisabled = "RECOVERY_DISABLED"
	codeNoCluster        = "NO_CLUSTER"
)

// engineRoutes adds the endpoints that cover the rest of the engine's API.
func (s *Server) engineRoutes(mux *http.ServeMux) {
	post := func(path string, h http.HandlerFunc) { mux.HandleFunc(path, monitor.Allow(http.MethodPost, h)) }
	get := func(path string, h http.HandlerFunc) { mux.HandleFunc(path, monitor.Allow(http.MethodGet, h)) }
	post("/api/send_event", s.sendEvent)
	post("/api/send_bytes", s.sendBytes)
	post("/api/broadcast_all_bytes", s.broadcastAllBytes)
	post("/api/set_topic_acl", s.setTopicACL)
	post("/api/batch", s.batch)
	post("/api/drain", s.drain)
	get("/api/topics", s.topics)
	get("/api/recovery/{topic}", s.recoveryPosition)
	get("/api/cluster", s.clusterInfo)
	post("/api/cluster/dead_letters", s.deadLetters)
	get("/api/openapi.json", serveOpenAPI)
}

// sendEventBody is the body of POST /api/send_event.
type sendEventBody struct {
	// Bytes is the size of the payload sent, after compression.
	Bytes int `json:"bytes"`
}

func (s *Server) sendEvent(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ConnID string         `json:"conn_id"`
		Event  map[string]any `json:"event"`
	}
	if !decode(w, r, &req) {
		return
	}
	switch {
	case req.ConnID == "":
		missing(w, "conn_id", "a connection id")
		return
	case req.Event == nil:
		missing(w, "event", `a JSON object such as {"t":"order_update","p":{…}}`)
		return
	}
	n, err := s.engine.SendEvent(req.ConnID, req.Event)
	if err != nil {
		engineError(w, err)
		return
	}
	monitor.WriteJSON(w, http.StatusOK, sendEventBody{Bytes: n})
}

func (s *Server) sendBytes(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ConnID string  `json:"conn_id"`
		Data   *[]byte `json:"data"` // base64 in JSON
	}
	if !decode(w, r, &req) {
		return
	}
	switch {
	case req.ConnID == "":
		missing(w, "conn_id", "a connection id")
		return
	case req.Data == nil:
		missing(w, "data", "the bytes, base64-encoded")
		return
	}
	if err := s.engine.SendBytes(req.ConnID, *req.Data); err != nil {
		engineError(w, err)
		return
	}
	monitor.WriteJSON(w, http.StatusOK, okBody{OK: true})
}

func (s *Server) broadcastAllBytes(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Data *[]byte `json:"data"` // base64 in JSON
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Data == nil {
		missing(w, "data", "the bytes, base64-encoded")
		return
	}
	if !s.engine.IsRunning() {
		engineError(w, wse.ErrServerStopped)
		return
	}
	monitor.WriteJSON(w, http.StatusOK, deliveredBody{Delivered: s.engine.BroadcastAllBytes(*req.Data)})
}

func (s *Server) setTopicACL(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ConnID string   `json:"conn_id"`
		Allow  []string `json:"allow"`
		Deny   []string `json:"deny"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.ConnID == "" {
		missing(w, "conn_id", "a connection id")
		return
	}
	if req.Allow == nil && req.Deny == nil {
		missing(w, "allow", "allow and/or deny: arrays of topic globs")
		return
	}
	for _, g := range slices.Concat(req.Allow, req.Deny) {
		if err := topic.Validate(topic.Expand(g, "u")); err != nil {
			monitor.WriteError(w, http.StatusBadRequest, codeInvalidField, fmt.Sprintf("glob %q: %v", g, err))
			return
		}
	}
	if err := s.engine.SetTopicACL(req.ConnID, req.Allow, req.Deny); err != nil {
		engineError(w, err)
		return
	}
	monitor.WriteJSON(w, http.StatusOK, okBody{OK: true})
}

// batchResult is the outcome of one publish of a batch: Delivered, or Error.
type batchResult struct {
	Delivered int                  `json:"delivered"`
	Error     *monitor.ErrorDetail `json:"error,omitempty"`
}

// batchBody is the body of POST /api/batch.
type batchBody struct {
	// Delivered is the sum of the publishes' local deliveries.
	Delivered int `json:"delivered"`
	// Failed counts the publishes that failed.
	Failed int `json:"failed"`
	// Results has one entry per publish, in order.
	Results []batchResult `json:"results"`
}

func (s *Server) batch(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Publishes []struct {
			Topic string          `json:"topic"`
			Data  json.RawMessage `json:"data"`
			Local bool            `json:"local"`
		} `json:"publishes"`
	}
	if !decode(w, r, &req) {
		return
	}
	switch n := len(req.Publishes); {
	case n == 0:
		missing(w, "publishes", "a non-empty array of {topic, data, local?}")
		return
	case n > maxBatch:
		monitor.WriteError(w, http.StatusBadRequest, codeInvalidField, fmt.Sprintf("%d publishes, at most %d per batch", n, maxBatch))
		return
	}
	if !s.engine.IsRunning() {
		engineError(w, wse.ErrServerStopped)
		return
	}
	out := batchBody{Results: make([]batchResult, len(req.Publishes))}
	for i, p := range req.Publishes {
		res := &out.Results[i]
		text, err := batchText(p.Topic, p.Data)
		if err == nil {
			publish := s.engine.Broadcast
			if p.Local {
				publish = s.engine.BroadcastLocal
			}
			res.Delivered, err = publish(p.Topic, text)
		}
		if err != nil {
			code := codeInvalidField
			if errors.Is(err, wse.ErrInvalidTopic) {
				code = monitor.CodeInvalidTopic
			}
			res.Error = &monitor.ErrorDetail{Code: code, Message: err.Error()}
			out.Failed++
			continue
		}
		out.Delivered += res.Delivered
	}
	monitor.WriteJSON(w, http.StatusOK, out)
}

// batchText checks one publish of a batch and returns its text, as
// dataText does for a single publish.
func batchText(t string, raw json.RawMessage) (string, error) {
	if t == "" {
		return "", errors.New("field topic is required")
	}
	text, code, msg := parseData(raw)
	switch code {
	case "":
		return text, nil
	case codeMissingField:
		return "", errors.New("field data is required (" + msg + ")")
	}
	return "", errors.New(msg)
}

// drainBody is the body of POST /api/drain.
type drainBody struct {
	// ConnectionsLeft is the number of connections still open at the end
	// of the wait.
	ConnectionsLeft int `json:"connections_left"`
}

func (s *Server) drain(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Code      int    `json:"code"`
		Reason    string `json:"reason"`
		TimeoutMS *int   `json:"timeout_ms"`
	}
	if !decode(w, r, &req) {
		return
	}
	timeout := defaultDrainTimeout
	if req.TimeoutMS != nil {
		timeout = time.Duration(*req.TimeoutMS) * time.Millisecond
		if *req.TimeoutMS < 0 || timeout > maxDrainTimeout {
			monitor.WriteError(w, http.StatusBadRequest, codeInvalidField, fmt.Sprintf("timeout_ms must be between 0 and %d", maxDrainTimeout.Milliseconds()))
			return
		}
	}
	switch {
	case req.Code != 0 && (req.Code < 1000 || req.Code > 4999 || (req.Code >= 1004 && req.Code <= 1006) || req.Code == 1015):
		monitor.WriteError(w, http.StatusBadRequest, codeInvalidField, fmt.Sprintf("close code %d is not sendable (1000-4999, not 1004-1006 or 1015)", req.Code))
		return
	case len(req.Reason) > maxCloseReason:
		monitor.WriteError(w, http.StatusBadRequest, codeInvalidField, fmt.Sprintf("reason longer than %d bytes", maxCloseReason))
		return
	}
	if req.Code == 0 {
		req.Code = DrainCode
	}
	if !s.engine.IsRunning() {
		engineError(w, wse.ErrServerStopped)
		return
	}
	s.log.Info("drain requested through the control API", "code", req.Code, "timeout", timeout)
	monitor.WriteJSON(w, http.StatusOK, drainBody{ConnectionsLeft: s.engine.Drain(req.Code, req.Reason, timeout)})
}

// topicsBody is the body of GET /api/topics.
type topicsBody struct {
	// Count is the number of topics listed.
	Count int `json:"count"`
	// Topics are the topics with at least one local subscriber, sorted.
	Topics []string `json:"topics"`
}

func (s *Server) topics(w http.ResponseWriter, _ *http.Request) {
	list := s.engine.Topics()
	if list == nil {
		list = []string{}
	}
	slices.Sort(list)
	monitor.WriteJSON(w, http.StatusOK, topicsBody{Count: len(list), Topics: list})
}

// recoveryBody is the body of GET /api/recovery/{topic}.
type recoveryPositionBody struct {
	Topic string `json:"topic"`
	// Epoch and Offset are the topic's position (last offset, inclusive).
	Epoch  string `json:"epoch"`
	Offset uint64 `json:"offset"`
	// Buffered reports whether the topic has a recovery buffer (false: nothing
	// published since it expired, or ever).
	Buffered bool `json:"buffered"`
}

func (s *Server) recoveryPosition(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("topic")
	pos, ok, err := s.engine.TopicPosition(t)
	switch {
	case errors.Is(err, wse.ErrRecoveryDisabled):
		monitor.WriteError(w, http.StatusConflict, codeRecoveryDisabled, "start the server with --recovery")
		return
	case err != nil:
		engineError(w, err)
		return
	}
	monitor.WriteJSON(w, http.StatusOK, recoveryPositionBody{Topic: t, Epoch: pos.Epoch, Offset: pos.Offset, Buffered: ok})
}

// clusterBody is the body of GET /api/cluster.
type clusterBody struct {
	// Enabled reports whether the node was started with --cluster-port.
	Enabled bool `json:"enabled"`
	// Connected reports whether at least one peer link is up.
	Connected bool `json:"connected"`
	// Addr is the address peers reach this node at.
	Addr string `json:"addr"`
	// PeerCount is the number of connected peers.
	PeerCount int `json:"peer_count"`
	// Peers are the connected peers.
	Peers []wse.ClusterPeer `json:"peers"`
}

func (s *Server) clusterInfo(w http.ResponseWriter, _ *http.Request) {
	peers := s.engine.ClusterInfo()
	if peers == nil {
		peers = []wse.ClusterPeer{}
	}
	monitor.WriteJSON(w, http.StatusOK, clusterBody{
		Enabled: s.engine.ClusterAddr() != "", Connected: s.engine.ClusterConnected(),
		Addr: s.engine.ClusterAddr(), PeerCount: len(peers), Peers: peers,
	})
}

// deadLettersBody is the body of POST /api/cluster/dead_letters.
type deadLettersBody struct {
	// Count is the number of entries taken.
	Count int `json:"count"`
	// Entries are the messages that could not be sent to a peer, oldest first.
	Entries []wse.DLQEntry `json:"entries"`
}

func (s *Server) deadLetters(w http.ResponseWriter, _ *http.Request) {
	if s.engine.ClusterAddr() == "" {
		monitor.WriteError(w, http.StatusConflict, codeNoCluster, "start the server with --cluster-port")
		return
	}
	entries := s.engine.ClusterDLQ()
	if entries == nil {
		entries = []wse.DLQEntry{}
	}
	monitor.WriteJSON(w, http.StatusOK, deadLettersBody{Count: len(entries), Entries: entries})
}
