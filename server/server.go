package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/auth"
	"github.com/wse-go/wse/hooks"
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
	hooks   *hooks.Hooks // nil without hooks
	jwks    *auth.JWKS   // nil without --jwt-jwks-url
	// stopJWKS ends the JWKS refresh loop; jwksDone is closed when it has.
	stopJWKS chan struct{}
	jwksDone chan struct{}

	// apiAuthFailures counts control API requests refused for their key.
	apiAuthFailures atomic.Uint64

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
	if cfg.JWTPublicKey != "" {
		pem, err := os.ReadFile(cfg.JWTPublicKey)
		if err != nil {
			return nil, fmt.Errorf("%w: --jwt-public-key: %w", ErrInvalidConfig, err)
		}
		ecfg.JWT.PublicKey = pem
	}
	var jwks *auth.JWKS
	if cfg.JWTJWKSURL != "" {
		var err error
		if jwks, err = auth.NewJWKS(auth.JWKSConfig{URL: cfg.JWTJWKSURL}); err != nil {
			return nil, fmt.Errorf("%w: --jwt-jwks-url: %w", ErrInvalidConfig, err)
		}
		ecfg.JWT.JWKS = jwks
	}
	var hk *hooks.Hooks
	if hcfg := cfg.hooksConfig(log); hcfg.Enabled() {
		var err error
		if hk, err = hooks.New(hcfg); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		ecfg.Hooks = hk.Engine()
		if cfg.HookSecret == "" {
			log.Warn("backend hooks without --hook-secret: their requests are not signed")
		}
	}
	broker, err := cfg.newBroker(log)
	if err != nil {
		if hk != nil {
			hk.Close()
		}
		return nil, err
	}
	ecfg.Broker = broker
	if cfg.Demo {
		demo, err := demoHandler(cfg.Path)
		if err != nil {
			return nil, err
		}
		ecfg.Fallback = demo
	}
	var engine *wse.Server // set below, before the listener serves
	ecfg.Fallback = withProbes(func() string { return monitor.Status(engine) }, ecfg.Fallback)
	engine, err = wse.NewServer(ecfg)
	if err != nil {
		if hk != nil {
			hk.Close()
		}
		// Name the engine's complaint once: "invalid config: X", not
		// "invalid config: wse: invalid config: X".
		return nil, fmt.Errorf("%w: %s", ErrInvalidConfig, strings.TrimPrefix(err.Error(), wse.ErrInvalidConfig.Error()+": "))
	}
	s := &Server{
		cfg:      cfg,
		log:      log,
		engine:   engine,
		hooks:    hk,
		jwks:     jwks,
		stopJWKS: make(chan struct{}),
		jwksDone: make(chan struct{}),
		events:   newEventBuffer(cfg.EventsBufferSize, cfg.EventsBufferBytes, cfg.EventsBufferBeforePoll),
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
		{Name: "wse_api_auth_failures_total", Help: "Control API requests refused for a missing or wrong API key.", Type: monitor.Counter,
			Value: func() float64 { return float64(s.apiAuthFailures.Load()) }},
		{Name: "wse_api_events_buffered_bytes", Help: "Bytes held by the events waiting in the /api/events buffer.", Type: monitor.Gauge,
			Value: func() float64 { return float64(s.events.size()) }},
		{Name: "wse_api_events_skipped_total", Help: "Events not buffered because /api/events had not been polled yet.", Type: monitor.Counter,
			Value: func() float64 { return float64(s.events.skipped.Load()) }},
	}})
	if err != nil {
		return nil, err
	}
	if hk != nil {
		for _, c := range hk.Collectors() {
			if err := mon.Registry().Register(c); err != nil {
				return nil, fmt.Errorf("server: hook metrics: %w", err)
			}
		}
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
	s.startJWKS()
	go func() {
		defer close(s.ratesDone)
		s.sampleRates(s.stopPump)
	}()
	if s.cfg.Dev && !isLoopback(net.JoinHostPort(s.cfg.Host, "0")) {
		s.log.Warn("dev mode on a non-loopback host: any client reaching it may use the demo chat", "host", s.cfg.Host, "topics", DemoTopics)
	}
	s.log.Info("wse-server listening", "websocket", s.WebSocketURL(), "api", "http://"+ln.Addr().String(),
		"cluster", s.engine.ClusterAddr(), "broker", s.cfg.Broker, "node", s.engine.NodeID(),
		"auth", s.cfg.jwtEnabled(), "presence", s.cfg.Presence, "recovery", s.cfg.Recovery)
	return nil
}

// ReloadTLS re-reads the cluster TLS files (--tls-ca, --tls-cert,
// --tls-key) and puts them in force for every later peer link; links that
// are up stay up (wse.Server.ReloadClusterTLS). wse-server calls it on
// SIGHUP. On error the material in force is kept.
func (s *Server) ReloadTLS() error {
	if s.cfg.TLSCA == "" {
		return fmt.Errorf("server: reload TLS: %w", ErrNoClusterTLS)
	}
	if err := s.engine.ReloadClusterTLS(s.cfg.TLSCert, s.cfg.TLSKey, s.cfg.TLSCA); err != nil {
		return fmt.Errorf("server: %w", err)
	}
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
		s.closeHooks()
		return
	}
	close(s.stopPump)
	<-s.pumpDone
	s.closeHooks()
	if s.jwks != nil {
		close(s.stopJWKS)
		<-s.jwksDone
	}
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

// closeHooks stops the hooks, once the engine and the pump no longer use them.
func (s *Server) closeHooks() {
	if s.hooks != nil {
		s.hooks.Close()
	}
}

// startJWKS fetches the JWKS once, so that the first tokens find their
// keys, and keeps it fresh in the background. A JWKS host that is down at
// start is logged: tokens fail until it answers (a token with an unknown
// kid retries at most every 30s, the background refresh every 5m).
func (s *Server) startJWKS() {
	if s.jwks == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), auth.DefaultJWKSTimeout)
	if err := s.jwks.Refresh(ctx); err != nil {
		s.log.Warn("JWKS not reachable at start; tokens fail until it is", "url", s.cfg.JWTJWKSURL, "error", err)
	} else {
		s.log.Info("JWKS loaded", "url", s.cfg.JWTJWKSURL, "keys", s.jwks.Len())
	}
	cancel()
	go func() {
		defer close(s.jwksDone)
		s.jwks.Run(s.stopJWKS, func(err error) {
			s.log.Warn("JWKS refresh failed; keeping the keys held", "url", s.cfg.JWTJWKSURL, "error", err)
		})
	}()
}
