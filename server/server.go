package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/monitor"
)

// DrainCode is the close code sent to clients by Shutdown (PROTOCOL.md §8:
// reconnect elsewhere).
const DrainCode = 4300

// apiShutdownTimeout bounds the wait for in-flight control API requests.
const apiShutdownTimeout = time.Second

// Server is a standalone WSE server: the engine with its WebSocket listener
// and demo page, the event pump and the control API. Create it with New,
// then Start; stop it with Shutdown (graceful) or Close.
type Server struct {
	cfg     Config
	log     *slog.Logger
	engine  *wse.Server
	events  *eventBuffer
	handler http.Handler // the control API

	// stopPump ends the event pump; pumpDone is closed when it has.
	stopPump chan struct{}
	pumpDone chan struct{}
	// rates is the admin dashboard's rate history, sampled by a goroutine
	// that stopPump also ends; ratesDone is closed when it has.
	rates     rateHistory
	ratesDone chan struct{}
	// apiCtx is the base context of API requests, cancelled on stop so that
	// long polls end.
	apiCtx    context.Context
	apiCancel context.CancelFunc

	// mu guards the lifecycle fields below.
	mu      sync.Mutex
	started bool
	stopped bool
	apiSrv  *http.Server
	apiLn   net.Listener
	apiDone chan struct{}
}

// New validates cfg and assembles a server that is not yet listening. log
// receives the server's and the engine's log lines (nil discards them). An
// invalid cfg returns an error wrapping ErrInvalidConfig.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ecfg := cfg.engineConfig()
	ecfg.Logger = log
	if cfg.Demo {
		demo, err := demoHandler(cfg.Path)
		if err != nil {
			return nil, err
		}
		ecfg.Fallback = demo
	}
	engine, err := wse.NewServer(ecfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	s := &Server{
		cfg:      cfg,
		log:      log,
		engine:   engine,
		events:   newEventBuffer(cfg.EventsBufferSize),
		stopPump: make(chan struct{}),
		pumpDone: make(chan struct{}),
	}
	s.ratesDone = make(chan struct{})
	s.apiCtx, s.apiCancel = context.WithCancel(context.Background())
	mon, err := monitor.New(engine, monitor.Options{Extra: []monitor.ExtraMetric{
		{Name: "wse_api_events_discarded_total", Help: "Events discarded from the /api/events buffer because nobody read them.", Type: monitor.Counter,
			Value: func() float64 { return float64(s.events.discarded.Load()) }},
		{Name: "wse_api_events_buffered", Help: "Events waiting in the /api/events buffer.", Type: monitor.Gauge,
			Value: func() float64 { return float64(s.events.len()) }},
	}})
	if err != nil {
		return nil, err
	}
	s.handler = s.routes(mon)
	return s, nil
}

// Engine returns the underlying engine, for embedding and tests.
func (s *Server) Engine() *wse.Server { return s.engine }

// Config returns the server's configuration.
func (s *Server) Config() Config { return s.cfg }

// Handler returns the control API handler (what Start serves on APIAddr).
func (s *Server) Handler() http.Handler { return s.handler }

// Start binds the control API listener, starts the engine on its listener,
// the event pump and the API server. It returns once both listeners are
// bound.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return ErrAlreadyStarted
	}
	ln, err := net.Listen("tcp", s.cfg.APIAddr)
	if err != nil {
		return fmt.Errorf("server: control API listen on %s: %w", s.cfg.APIAddr, err)
	}
	if err := s.engine.Start(); err != nil {
		_ = ln.Close()
		return fmt.Errorf("server: %w", err)
	}
	if s.cfg.ClusterPort != 0 {
		err := s.engine.ConnectCluster(wse.ClusterConfig{
			ClusterPort: s.cfg.ClusterPort,
			ClusterAddr: s.cfg.ClusterAddr,
			Peers:       s.cfg.Peers,
			Seeds:       s.cfg.Seeds,
			TLSCA:       s.cfg.TLSCA,
			TLSCert:     s.cfg.TLSCert,
			TLSKey:      s.cfg.TLSKey,
		})
		if err != nil {
			s.engine.Stop()
			_ = ln.Close()
			return fmt.Errorf("server: %w", err)
		}
	}
	s.started = true
	s.apiLn = ln
	s.apiSrv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      maxEventsTimeout + 15*time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return s.apiCtx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.apiDone = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		_ = srv.Serve(ln)
	}(s.apiSrv, s.apiDone)
	go func() {
		defer close(s.pumpDone)
		s.pump(s.stopPump)
	}()
	go func() {
		defer close(s.ratesDone)
		s.sampleRates(s.stopPump)
	}()
	if s.cfg.Dev && !isLoopback(net.JoinHostPort(s.cfg.Host, "0")) {
		s.log.Warn("dev mode on a non-loopback host: any client reaching it may use the demo chat", "host", s.cfg.Host, "topics", DemoTopics)
	}
	s.log.Info("wse-server listening", "websocket", s.WebSocketURL(), "api", "http://"+ln.Addr().String(),
		"cluster", s.engine.ClusterAddr(),
		"auth", s.cfg.JWTSecret != "", "presence", s.cfg.Presence, "recovery", s.cfg.Recovery)
	return nil
}

// Addr returns the WebSocket listener's address, or "" before Start.
func (s *Server) Addr() string { return s.engine.Addr() }

// WebSocketURL returns the ws:// URL of the WebSocket endpoint, or "" before
// Start.
func (s *Server) WebSocketURL() string {
	addr := s.engine.Addr()
	if addr == "" {
		return ""
	}
	return "ws://" + addr + s.cfg.Path
}

// APIAddr returns the control API listener's address, or "" before Start.
func (s *Server) APIAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apiLn == nil {
		return ""
	}
	return s.apiLn.Addr().String()
}

// Shutdown stops the server gracefully within about timeout: it stops
// accepting connections, closes every client with 4300 (drain) and waits
// for them to go, then stops the engine (closing any left with 1001), the
// event pump and the control API. It returns how many connections had not
// gone by the end of the drain. Shutdown is idempotent; later calls return 0.
func (s *Server) Shutdown(timeout time.Duration) int {
	if !s.beginStop() {
		return 0
	}
	// Keep a share of the budget for the engine's own stop.
	reserve := min(timeout/5, 2*time.Second)
	left := s.engine.Drain(DrainCode, "server draining", timeout-reserve)
	s.log.Info("drained", "connections_left", left)
	s.finishStop()
	return left
}

// Close stops the server at once: clients are closed with 1001. It is
// idempotent.
func (s *Server) Close() {
	if s.beginStop() {
		s.finishStop()
	}
}

// beginStop marks the server stopped; it reports false if it already was.
func (s *Server) beginStop() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.stopped = true
	return true
}

// finishStop stops the engine, the pump and the control API.
func (s *Server) finishStop() {
	s.engine.Stop()
	s.mu.Lock()
	started, srv, done := s.started, s.apiSrv, s.apiDone
	s.mu.Unlock()
	if !started {
		s.apiCancel()
		return
	}
	close(s.stopPump)
	<-s.pumpDone
	<-s.ratesDone
	s.apiCancel()
	ctx, cancel := context.WithTimeout(context.Background(), apiShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("control API shutdown", "error", err)
	}
	_ = srv.Close()
	<-done
	s.log.Info("stopped")
}
