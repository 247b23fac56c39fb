package wse

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wse-go/wse/auth"
	"github.com/wse-go/wse/cluster"
	"github.com/wse-go/wse/internal/ring"
	"github.com/wse-go/wse/internal/wsconn"
)

// Version is the engine version reported in server_hello.
const Version = "0.1.0"

// Server is a WSE engine. Create it with NewServer; all methods are safe for
// concurrent use.
type Server struct {
	cfg      Config
	verifier *auth.Verifier // nil without auth
	engine   *wsconn.Engine
	hub      *hub
	queues   *queues
	// queueTurn spreads publications over the nodes with members of a
	// queue group (assignGroups).
	queueTurn atomic.Uint64
	latency   latencies
	refusals  refusalCounters
	conns     *registry
	in        *inbound
	presence  *presenceRegistry
	ring      *ring.Store // nil when recovery is disabled
	stats     counters
	started   time.Time
	stop      chan struct{}

	// hookTypes are the message types of Hooks.Message; nil when none.
	hookTypes map[string]struct{}

	running    atomic.Bool
	draining   atomic.Bool
	handshakes atomic.Int64
	// awaitingAuth counts connections waiting for their first-message auth.
	awaitingAuth atomic.Int64
	seq          atomic.Uint64

	// broker, when set, connects this node to the others (Config.Broker);
	// hist and pm are its shared history and presence, when it has them.
	broker      Broker
	hist        HistoryBroker
	pm          PresenceManager
	nodeID      string
	brokerStats brokerCounters

	// clusterMu guards node.
	clusterMu sync.Mutex
	node      *cluster.Node
	// interestMu guards interest: the topics peers were told we subscribe
	// to; and pins: topics held for recovering subscriptions (broker).
	interestMu sync.Mutex
	interest   map[string]bool
	pins       map[string]int

	// mu guards the lifecycle fields below.
	mu      sync.Mutex
	state   lifecycle
	httpSrv *http.Server
	ln      net.Listener
	wg      sync.WaitGroup
	// httpConns are the listener's HTTP connections not yet hijacked.
	httpConns httpConns
	// trackMu orders goTracked's Add against Stop's Wait: once untracked
	// is set no goroutine is added, so Wait never races with Add.
	trackMu   sync.Mutex
	untracked bool
}

type lifecycle int

const (
	stateNew lifecycle = iota
	stateRunning
	stateStopped
)

// NewServer validates cfg, applies its defaults and returns a server that is
// not yet listening. Invalid configuration returns an error wrapping
// ErrInvalidConfig.
func NewServer(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		hub:      newHub(),
		queues:   newQueues(),
		conns:    newRegistry(),
		in:       newInbound(cfg.MaxInboundQueueSize, cfg.MaxInboundQueueBytes),
		presence: newPresenceRegistry(),
		interest: make(map[string]bool),
		pins:     make(map[string]int),
		stop:     make(chan struct{}),
	}
	s.hookTypes = cfg.Hooks.hookTypes()
	if s.ring, err = newRing(cfg.Recovery); err != nil {
		return nil, err
	}
	s.setBroker(cfg.Broker)
	if cfg.JWT.enabled() {
		s.verifier, err = auth.NewVerifier(auth.Config{
			Secret:            cfg.JWT.Secret,
			PreviousSecret:    cfg.JWT.PreviousSecret,
			Algorithm:         cfg.JWT.Algorithm,
			PublicKey:         cfg.JWT.PublicKey,
			PreviousPublicKey: cfg.JWT.PreviousPublicKey,
			Issuer:            cfg.JWT.Issuer,
			Audience:          cfg.JWT.Audience,
			KeyID:             cfg.JWT.KeyID,
			JWKS:              cfg.JWT.JWKS,
		})
		if err != nil {
			return nil, fmt.Errorf("%w: JWT: %w", ErrInvalidConfig, err)
		}
	}
	s.engine, err = wsconn.NewEngine(wsconn.Config{
		MaxMessageSize:     cfg.MaxMessageSize,
		MaxQueueBytes:      cfg.MaxOutboundQueueBytes,
		MaxTotalQueueBytes: cfg.MaxTotalOutboundBytes,
		MaxTotalReadBytes:  cfg.MaxInboundBufferBytes,
		Pollers:            cfg.Pollers,
		SendBufferSize:     cfg.SocketSendBuffer,
		WriteDelay:         cfg.WriteDelay,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: transport: %w", ErrInvalidConfig, err)
	}
	return s, nil
}

// Config returns the configuration in force, defaults applied.
func (s *Server) Config() Config { return s.cfg }

// Start starts the engine and listens on Config.Host:Config.Port. It returns
// once the listener is bound.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case stateRunning:
		return ErrAlreadyRunning
	case stateStopped:
		return ErrServerStopped
	}
	port := s.cfg.Port
	if port < 0 {
		port = 0
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(s.cfg.Host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("wse: listen: %w", err)
	}
	if err := s.engine.Start(); err != nil {
		_ = ln.Close()
		return fmt.Errorf("wse: start transport: %w", err)
	}
	if err := s.startBroker(); err != nil {
		s.engine.Stop()
		_ = ln.Close()
		return err
	}
	s.ln = ln
	s.httpSrv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.HandshakeTimeout,
		ReadTimeout:       s.cfg.HandshakeTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ConnContext:       s.httpConns.track,
		ConnState:         s.httpConnState,
	}
	s.started = time.Now()
	s.state = stateRunning
	s.running.Store(true)
	srv := s.httpSrv
	s.goTracked(func() { _ = srv.Serve(ln) })
	s.goTracked(s.timers)
	return nil
}

// Addr returns the address the server listens on, or "" before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// IsRunning reports whether the server has started and not stopped.
func (s *Server) IsRunning() bool { return s.running.Load() }

// goTracked runs f on a goroutine that Stop waits for. Once Stop has
// begun waiting it does nothing: the server is going away.
func (s *Server) goTracked(f func()) {
	s.trackMu.Lock()
	defer s.trackMu.Unlock()
	if s.untracked {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// stopAccepting makes new upgrades fail with 503 and closes the listener.
func (s *Server) stopAccepting() {
	s.draining.Store(true)
	s.mu.Lock()
	srv := s.httpSrv
	s.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
}

// closeAll closes every connection with code and reason, then waits up to
// timeout for them to go; it returns how many are still open.
func (s *Server) closeAll(code int, reason string, timeout time.Duration) int {
	s.conns.each(func(c *conn) { c.ws.Close(code, reason) })
	deadline := time.Now().Add(timeout)
	for s.conns.count.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return int(s.conns.count.Load())
}

// Drain puts the server in lame-duck mode: it stops accepting connections,
// closes every client with code (0 = 4300, "server draining") so that they
// reconnect elsewhere, and waits up to timeout for them to go. It returns the
// number of connections still open. Stop is still needed afterwards.
func (s *Server) Drain(code int, reason string, timeout time.Duration) int {
	if code == 0 {
		code = 4300
	}
	if reason == "" {
		reason = "server draining"
	}
	s.stopAccepting()
	return s.closeAll(code, reason, timeout)
}

// Stop closes every connection with 1001, stops the engine and waits for its
// goroutines. It is idempotent.
func (s *Server) Stop() {
	s.mu.Lock()
	if s.state != stateRunning {
		s.state = stateStopped
		s.mu.Unlock()
		return
	}
	s.state = stateStopped
	s.mu.Unlock()
	s.stopAccepting()
	s.stopCluster()
	s.closeAll(1001, "server shutting down", 2*time.Second)
	if s.broker != nil {
		_ = s.broker.Close()
	}
	s.running.Store(false)
	s.engine.Stop()
	close(s.stop)
	s.trackMu.Lock()
	s.untracked = true
	s.trackMu.Unlock()
	s.wg.Wait()
}

// presenceSweepInterval is the period of the presence safety sweep.
const presenceSweepInterval = 30 * time.Second

// timers runs every periodic task of the server on one goroutine: server
// pings, idle timeout and slow-consumer checks, presence and recovery sweeps.
func (s *Server) timers() {
	tick := min(time.Second, s.cfg.PingInterval/2)
	t := time.NewTicker(tick)
	defer t.Stop()
	nextPing := time.Now().Add(s.cfg.PingInterval)
	nextPresence := time.Now().Add(presenceSweepInterval)
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.sweep(now, tick)
			if s.ring != nil {
				s.stats.recoveryEvictions.Add(uint64(s.ring.Sweep(now)))
			}
			if !now.Before(nextPing) {
				nextPing = now.Add(s.cfg.PingInterval)
				s.pingAll(now)
			}
			if !now.Before(nextPresence) {
				nextPresence = now.Add(presenceSweepInterval)
				s.sweepPresence()
			}
		}
	}
}

// sweep closes idle connections (4408), and connections that dropped a
// message for a full queue a tick ago or more and have not drained it to
// half since (4429).
func (s *Server) sweep(now time.Time, tick time.Duration) {
	idleBefore := now.Add(-s.cfg.IdleTimeout).UnixNano()
	overBefore := now.Add(-tick).UnixNano()
	limit := s.cfg.MaxOutboundQueueBytes
	s.conns.each(func(c *conn) {
		if since := c.overSince.Load(); since != 0 {
			switch {
			case c.ws.QueuedBytes() < limit/2:
				c.overSince.Store(0) // it caught up
			case since <= overBefore:
				s.stats.slowConsumerCloses.Add(1)
				s.refuse(refusalSlowConsumer)
				c.ws.CloseNow(4429, "slow consumer")
				return
			}
		}
		if c.ws.LastActivity() < idleBefore && !c.ws.Closed() {
			s.stats.idleCloses.Add(1)
			s.refuse(refusalIdleTimeout)
			c.ws.Close(4408, "idle timeout")
		}
	})
}
