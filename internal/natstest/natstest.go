// Package natstest runs Debian's nats-server for tests on a random loopback
// port, stopped by the test's cleanup; tests skip with a clear message when
// the binary is missing, or fail with WSE_REQUIRE_BROKERS set (mk/broker.mk
// installs it and sets that).
package natstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Binary is the nats-server executable used.
const Binary = "/usr/sbin/nats-server"

// Server is a running nats-server.
type Server struct {
	t    testing.TB
	port int
	cmd  *exec.Cmd
}

// Start runs nats-server on a free loopback port until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		if os.Getenv("WSE_REQUIRE_BROKERS") != "" {
			t.Fatalf("%s is required (WSE_REQUIRE_BROKERS): %v", Binary, err)
		}
		t.Skipf("nats-server not installed (%v): run `make broker-test` or apt-get install nats-server", err)
	}
	s := &Server{t: t}
	for attempt := 0; ; attempt++ {
		s.port = freePort(t)
		if err := s.run(); err == nil {
			break
		} else if attempt == 4 {
			t.Fatalf("nats-server: %v", err)
		}
	}
	t.Cleanup(s.Stop)
	return s
}

// URL returns the nats:// URL of the server.
func (s *Server) URL() string { return "nats://" + s.Addr() }

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// run starts the process and waits until its port accepts connections.
func (s *Server) run() error {
	cmd := exec.Command(Binary, "-a", "127.0.0.1", "-p", strconv.Itoa(s.port))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
			_ = c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	s.cmd = nil
	return fmt.Errorf("port %d not open within 10s", s.port)
}

// Stop kills the server; it is idempotent.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart stops the server and starts it again on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.run()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("nats-server restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}
