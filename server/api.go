package server

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/auth"
	"github.com/wse-go/wse/monitor"
)

// Limits of the control API.
const (
	// maxBodyBytes bounds a request body.
	maxBodyBytes = 16 << 20
	// defaultEventsMax and maxEventsMax bound GET /api/events?max=.
	defaultEventsMax = 256
	maxEventsMax     = 10000
	// maxEventsTimeout bounds GET /api/events?timeout_ms=.
	maxEventsTimeout = 60 * time.Second
	// defaultTokenTTL and maxTokenTTL bound POST /api/token ttl_s.
	defaultTokenTTL = time.Hour
	maxTokenTTL     = 365 * 24 * time.Hour
	// maxCloseReason is the longest close reason a close frame can carry.
	maxCloseReason = 123
)

// Error codes of the control API, besides monitor's.
const (
	codeUnauthorized     = "UNAUTHORIZED"
	codeInvalidJSON      = "INVALID_JSON"
	codeBodyTooLarge     = "BODY_TOO_LARGE"
	codeMissingField     = "MISSING_FIELD"
	codeInvalidField     = "INVALID_FIELD"
	codeUnknownConn      = "UNKNOWN_CONNECTION"
	codeForbidden        = "FORBIDDEN"
	codeLimit            = "LIMIT"
	codeQueueFull        = "QUEUE_FULL"
	codePresenceTooLarge = "PRESENCE_DATA_TOO_LARGE"
	codeNoPresence       = "NO_PRESENCE"
	codeAuthDisabled     = "AUTH_DISABLED"
	codeServerStopped    = "SERVER_STOPPED"
	codeInternal         = "INTERNAL"
	// codeBroker: the broker refused a publication; this node's
	// subscribers got it, the other nodes' may not have.
	codeBroker = "BROKER_UNAVAILABLE"
)

// routes builds the control API: the monitor's read-only endpoints and the
// server's write endpoints, behind the API key check.
func (s *Server) routes(mon *monitor.Monitor) http.Handler {
	read := http.NewServeMux()
	mon.Register(read)
	read.HandleFunc("/", monitor.NotFound)

	mux := http.NewServeMux()
	mux.Handle("/", read)
	post := func(path string, h http.HandlerFunc) { mux.HandleFunc(path, monitor.Allow(http.MethodPost, h)) }
	post("/api/publish", s.publish)
	post("/api/broadcast_all", s.broadcastAll)
	post("/api/send", s.send)
	post("/api/subscribe", s.subscribe)
	post("/api/unsubscribe", s.unsubscribe)
	post("/api/disconnect", s.disconnect)
	post("/api/token", s.token)
	mux.HandleFunc("/api/presence/update", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet { // the presence of a topic named "update"
			read.ServeHTTP(w, r)
			return
		}
		monitor.Allow(http.MethodPost, s.updatePresence)(w, r)
	})
	mux.HandleFunc("/api/events", monitor.Allow(http.MethodGet, s.pollEvents))
	s.engineRoutes(mux)
	mux.HandleFunc("/api/admin/snapshot", monitor.Allow(http.MethodGet, s.adminSnapshot))
	if s.cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return adminPages(s.authorize(mux))
}

// authorize requires "Authorization: Bearer <api key>" when a key is set,
// comparing in constant time.
func (s *Server) authorize(next http.Handler) http.Handler {
	if s.cfg.APIKey == "" {
		return next
	}
	want := sha256.Sum256([]byte(s.cfg.APIKey))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			s.apiAuthFailed(r, "no API key")
			w.Header().Set("WWW-Authenticate", `Bearer realm="wse"`)
			monitor.WriteError(w, http.StatusUnauthorized, codeUnauthorized, "missing API key: send Authorization: Bearer <key>")
			return
		}
		got := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			s.apiAuthFailed(r, "wrong API key")
			w.Header().Set("WWW-Authenticate", `Bearer realm="wse", error="invalid_token"`)
			monitor.WriteError(w, http.StatusUnauthorized, codeUnauthorized, "invalid API key")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// apiAuthFailed counts and logs a control API request refused for its key:
// who asked for what, and why, never the key it sent.
func (s *Server) apiAuthFailed(r *http.Request, reason string) {
	s.apiAuthFailures.Add(1)
	s.log.Warn("control API: request refused", "reason", reason, "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
}

// decode reads the JSON object body into dst, rejecting unknown fields and
// trailing data; on failure it writes a 400 (or 413) and returns false.
func decode(w http.ResponseWriter, r *http.Request, dst any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	err := dec.Decode(dst)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("data after the JSON object")
	}
	var tooBig *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return true
	case errors.As(err, &tooBig):
		monitor.WriteError(w, http.StatusRequestEntityTooLarge, codeBodyTooLarge, fmt.Sprintf("body larger than %d bytes", maxBodyBytes))
	case errors.Is(err, io.EOF):
		monitor.WriteError(w, http.StatusBadRequest, codeInvalidJSON, "empty body: send a JSON object")
	case errors.As(err, &typeErr) && typeErr.Field != "":
		monitor.WriteError(w, http.StatusBadRequest, codeInvalidField, fmt.Sprintf("field %s: expected %s, got %s", typeErr.Field, typeErr.Type, typeErr.Value))
	default:
		monitor.WriteError(w, http.StatusBadRequest, codeInvalidJSON, "malformed JSON: "+err.Error())
	}
	return false
}

// missing writes a 400 for a required field.
func missing(w http.ResponseWriter, field, what string) {
	monitor.WriteError(w, http.StatusBadRequest, codeMissingField, fmt.Sprintf("field %s is required (%s)", field, what))
}

// dataText turns a "data" field into the text to send: an object or array
// as compact JSON, a string as is. On failure it writes a 400.
func dataText(w http.ResponseWriter, raw json.RawMessage) (string, bool) {
	text, code, msg := parseData(raw)
	if code != "" {
		if code == codeMissingField {
			missing(w, "data", msg)
		} else {
			monitor.WriteError(w, http.StatusBadRequest, code, msg)
		}
		return "", false
	}
	return text, true
}

// parseData is dataText without the response: on failure it returns the
// error code and message (for MISSING_FIELD, what is expected).
func parseData(raw json.RawMessage) (text, code, msg string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", codeMissingField, "a JSON object, array or string"
	}
	switch raw[0] {
	case '{', '[':
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return "", codeInvalidJSON, "data: " + err.Error()
		}
		return b.String(), "", ""
	case '"':
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return "", codeInvalidJSON, "data: " + err.Error()
		}
		return text, "", ""
	}
	return "", codeInvalidField, "field data must be a JSON object, array or string"
}

// engineError writes the response for an error returned by the engine.
func engineError(w http.ResponseWriter, err error) {
	status, code := http.StatusInternalServerError, codeInternal
	switch {
	case errors.Is(err, wse.ErrUnknownConnection):
		status, code = http.StatusNotFound, codeUnknownConn
	case errors.Is(err, wse.ErrInvalidTopic):
		status, code = http.StatusBadRequest, monitor.CodeInvalidTopic
	case errors.Is(err, wse.ErrForbidden):
		status, code = http.StatusForbidden, codeForbidden
	case errors.Is(err, wse.ErrSubscriptionLimit), errors.Is(err, wse.ErrPresenceFull):
		status, code = http.StatusConflict, codeLimit
	case errors.Is(err, wse.ErrPresenceDataTooLarge):
		status, code = http.StatusRequestEntityTooLarge, codePresenceTooLarge
	case errors.Is(err, wse.ErrInvalidPresenceData), errors.Is(err, wse.ErrInvalidCloseCode), errors.Is(err, wse.ErrInvalidEvent):
		status, code = http.StatusBadRequest, codeInvalidField
	case errors.Is(err, wse.ErrPresenceDisabled):
		status, code = http.StatusConflict, monitor.CodePresenceDisabled
	case errors.Is(err, wse.ErrNoPresence):
		status, code = http.StatusConflict, codeNoPresence
	case errors.Is(err, wse.ErrQueueFull):
		status, code = http.StatusServiceUnavailable, codeQueueFull
	case errors.Is(err, wse.ErrServerStopped):
		status, code = http.StatusServiceUnavailable, codeServerStopped
	case errors.Is(err, wse.ErrBroker):
		status, code = http.StatusServiceUnavailable, codeBroker
	}
	monitor.WriteError(w, status, code, err.Error())
}

// okBody is the body of a successful call that returns nothing else.
type okBody struct {
	OK bool `json:"ok"`
}

// deliveredBody is the body of publish and broadcast_all.
type deliveredBody struct {
	// Delivered is the number of local connections the message was queued for.
	Delivered int `json:"delivered"`
}

func (s *Server) publish(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Topic string          `json:"topic"`
		Data  json.RawMessage `json:"data"`
		Local bool            `json:"local"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.Topic == "" {
		missing(w, "topic", "a topic name")
		return
	}
	text, ok := dataText(w, req.Data)
	if !ok {
		return
	}
	publish := s.engine.Broadcast
	if req.Local {
		publish = s.engine.BroadcastLocal
	}
	n, err := publish(req.Topic, text)
	if errors.Is(err, wse.ErrBroker) {
		err = fmt.Errorf("%w (delivered to %d local subscribers only)", err, n)
	}
	if err != nil {
		engineError(w, err)
		return
	}
	monitor.WriteJSON(w, http.StatusOK, deliveredBody{Delivered: n})
}

func (s *Server) broadcastAll(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Data json.RawMessage `json:"data"`
	}
	if !decode(w, r, &req) {
		return
	}
	text, ok := dataText(w, req.Data)
	if !ok {
		return
	}
	if !s.engine.IsRunning() {
		engineError(w, wse.ErrServerStopped)
		return
	}
	monitor.WriteJSON(w, http.StatusOK, deliveredBody{Delivered: s.engine.BroadcastAll(text)})
}

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ConnID string          `json:"conn_id"`
		Data   json.RawMessage `json:"data"`
		// Event sends data (a JSON object) as SendEvent does: the full
		// envelope in a binary frame, compressed, MessagePack or sealed.
		Event bool `json:"event"`
	}
	if !decode(w, r, &req) {
		return
	}
	if req.ConnID == "" {
		missing(w, "conn_id", "a connection id")
		return
	}
	if req.Event {
		s.sendAsEvent(w, req.ConnID, req.Data)
		return
	}
	text, ok := dataText(w, req.Data)
	if !ok {
		return
	}
	if err := s.engine.Send(req.ConnID, text); err != nil {
		engineError(w, err)
		return
	}
	monitor.WriteJSON(w, http.StatusOK, okBody{OK: true})
}

// sendAsEvent is POST /api/send with "event": true.
func (s *Server) sendAsEvent(w http.ResponseWriter, connID string, data json.RawMessage) {
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil || ev == nil {
		monitor.WriteError(w, http.StatusBadRequest, codeInvalidField, "field data must be a JSON object when event is true")
		return
	}
	if _, err := s.engine.SendEvent(connID, ev); err != nil {
		engineError(w, err)
		return
	}
	monitor.WriteJSON(w, http.StatusOK, okBody{OK: true})
}

// recoveryBody is the body of a recovering subscribe.
type recoveryBody struct {
	// Recovery maps each subscribed topic to its position and replay outcome.
	Recovery map[string]wse.RecoveryResult `json:"recovery"`
}

func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ConnID   string         `json:"conn_id"`
		Topics   []string       `json:"topics"`
		Presence map[string]any `json:"presence"`
		Recover  bool           `json:"recover"`
		Epoch    *string        `json:"epoch"`
		Offset   *uint64        `json:"offset"`
		// QueueGroup joins that queue group of the topics instead.
		QueueGroup string `json:"queue_group"`
	}
	if !decode(w, r, &req) {
		return
	}
	switch {
	case req.ConnID == "":
		missing(w, "conn_id", "a connection id")
		return
	case len(req.Topics) == 0:
		missing(w, "topics", "a non-empty array of topic names")
		return
	case req.QueueGroup != "" && (req.Recover || req.Presence != nil):
		monitor.WriteError(w, http.StatusBadRequest, codeInvalidField, "a queue group has no recovery or presence")
		return
	case req.QueueGroup != "":
		if err := s.engine.SubscribeQueue(req.ConnID, req.Topics, req.QueueGroup); err != nil {
			engineError(w, err)
			return
		}
		monitor.WriteJSON(w, http.StatusOK, okBody{OK: true})
		return
	case !req.Recover && (req.Epoch != nil || req.Offset != nil):
		monitor.WriteError(w, http.StatusBadRequest, codeInvalidField, "epoch and offset need \"recover\": true")
		return
	case req.Presence != nil && !s.cfg.Presence:
		engineError(w, fmt.Errorf("%w: start the server with --presence", wse.ErrPresenceDisabled))
		return
	}
	if !req.Recover {
		if err := s.engine.Subscribe(req.ConnID, req.Topics, req.Presence); err != nil {
			engineError(w, err)
			return
		}
		monitor.WriteJSON(w, http.StatusOK, okBody{OK: true})
		return
	}
	var from map[string]wse.Position
	if req.Epoch != nil || req.Offset != nil {
		var pos wse.Position
		if req.Epoch != nil {
			pos.Epoch = *req.Epoch
		}
		if req.Offset != nil {
			pos.Offset = *req.Offset
		}
		from = make(map[string]wse.Position, len(req.Topics))
		for _, t := range req.Topics {
			from[t] = pos
		}
	}
	res, err := s.engine.SubscribeWithRecovery(req.ConnID, req.Topics, from, req.Presence)
	if err != nil {
		engineError(w, err)
		return
	}
	if res == nil {
		res = map[string]wse.RecoveryResult{}
	}
	monitor.WriteJSON(w, http.StatusOK, recoveryBody{Recovery: res})
}

func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ConnID     string    `json:"conn_id"`
		Topics     *[]string `json:"topics"`
		QueueGroup string    `json:"queue_group"`
	}
	if !decode(w, r, &req) {
		return
	}
	switch {
	case req.ConnID == "":
		missing(w, "conn_id", "a connection id")
		return
	case req.QueueGroup != "" && req.Topics == nil:
		missing(w, "topics", "the topics whose queue group to leave")
		return
	case req.QueueGroup != "":
		if err := s.engine.UnsubscribeQueue(req.ConnID, *req.Topics, req.QueueGroup); err != nil {
			engineError(w, err)
			return
		}
		monitor.WriteJSON(w, http.StatusOK, okBody{OK: true})
		return
	}
	var topics []string // nil = every topic
	if req.Topics != nil {
		topics = *req.Topics
	}
	if err := s.engine.Unsubscribe(req.ConnID, topics); err != nil {
		engineError(w, err)
		return
	}
	monitor.WriteJSON(w, http.StatusOK, okBody{OK: true})
}

func (s *Server) disconnect(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ConnID string `json:"conn_id"`
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	}
	if !decode(w, r, &req) {
		return
	}
	switch {
	case req.ConnID == "":
		missing(w, "conn_id", "a connection id")
		return
	case len(req.Reason) > maxCloseReason:
		monitor.WriteError(w, http.StatusBadRequest, codeInvalidField, fmt.Sprintf("reason longer than %d bytes", maxCloseReason))
		return
	}
	if req.Code == 0 {
		req.Code = 1000
	}
	if req.Reason == "" {
		req.Reason = "disconnected by server"
	}
	if err := s.engine.DisconnectWithCode(req.ConnID, req.Code, req.Reason); err != nil {
		engineError(w, err)
		return
	}
	monitor.WriteJSON(w, http.StatusOK, okBody{OK: true})
}

func (s *Server) updatePresence(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ConnID string         `json:"conn_id"`
		Data   map[string]any `json:"data"`
	}
	if !decode(w, r, &req) {
		return
	}
	switch {
	case req.ConnID == "":
		missing(w, "conn_id", "a connection id")
		return
	case req.Data == nil:
		missing(w, "data", "a JSON object")
		return
	}
	if err := s.engine.UpdatePresence(req.ConnID, req.Data); err != nil {
		engineError(w, err)
		return
	}
	monitor.WriteJSON(w, http.StatusOK, okBody{OK: true})
}

// tokenBody is the body of POST /api/token.
type tokenBody struct {
	Token string `json:"token"`
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Sub    string         `json:"sub"`
		TTLS   *float64       `json:"ttl_s"`
		Claims map[string]any `json:"claims"`
	}
	if !decode(w, r, &req) {
		return
	}
	if s.cfg.JWTSecret == "" {
		msg := "no --jwt-secret configured: the server does not authenticate connections"
		if s.cfg.jwtEnabled() {
			msg = s.cfg.JWTAlgorithm + " tokens are verified with a public key: mint them where the private key is"
		}
		monitor.WriteError(w, http.StatusConflict, codeAuthDisabled, msg)
		return
	}
	if req.Sub == "" {
		missing(w, "sub", "the user id")
		return
	}
	ttl := defaultTokenTTL
	if req.TTLS != nil {
		ttl = time.Duration(*req.TTLS * float64(time.Second))
		if *req.TTLS <= 0 || ttl > maxTokenTTL {
			monitor.WriteError(w, http.StatusBadRequest, codeInvalidField, fmt.Sprintf("ttl_s must be positive and at most %d", int(maxTokenTTL.Seconds())))
			return
		}
	}
	tok, err := auth.Mint([]byte(s.cfg.JWTSecret), req.Sub, ttl, s.cfg.JWTIssuer, s.cfg.JWTAudience, req.Claims)
	if err != nil {
		monitor.WriteError(w, http.StatusBadRequest, codeInvalidField, err.Error())
		return
	}
	monitor.WriteJSON(w, http.StatusOK, tokenBody{Token: tok})
}

// eventsBody is the body of GET /api/events.
type eventsBody struct {
	Events []APIEvent `json:"events"`
}

func (s *Server) pollEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	max, ok := queryInt(w, q.Get("max"), "max", defaultEventsMax, 1, maxEventsMax)
	if !ok {
		return
	}
	ms, ok := queryInt(w, q.Get("timeout_ms"), "timeout_ms", 0, 0, int(maxEventsTimeout/time.Millisecond))
	if !ok {
		return
	}
	events := s.events.wait(r.Context(), max, time.Duration(ms)*time.Millisecond)
	monitor.WriteJSON(w, http.StatusOK, eventsBody{Events: events})
}

// queryInt parses an integer query parameter in [lo, hi] (def when absent);
// on failure it writes a 400.
func queryInt(w http.ResponseWriter, v, name string, def, lo, hi int) (int, bool) {
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		monitor.WriteError(w, http.StatusBadRequest, codeInvalidField, fmt.Sprintf("%s must be an integer between %d and %d", name, lo, hi))
		return 0, false
	}
	return n, true
}
