// Package wseproc runs real wse-server processes for tests: the binary is
// built once per test binary from cmd/wse-server, each process gets free
// loopback ports, and the test's cleanup kills it.
package wseproc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// Build compiles cmd/wse-server into dir (once per process) and returns
// the binary's path.
func Build(dir string) (string, error) {
	buildOnce.Do(func() {
		binary = filepath.Join(dir, "wse-server")
		out, err := exec.Command("go", "build", "-o", binary, "github.com/wse-go/wse/cmd/wse-server").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build wse-server: %w\n%s", err, out)
		}
	})
	return binary, buildErr
}

// Proc is a running wse-server.
type Proc struct {
	// WS is the WebSocket listener's host:port, API the control API's.
	WS, API string
	cmd     *exec.Cmd
	log     *bytes.Buffer
	mu      sync.Mutex
}

// lockedBuffer lets the process write its log while a test reads it.
type lockedBuffer struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (l lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Start runs bin with args plus free --port and --api-addr, and waits until
// /health answers. The process is killed when the test ends.
func Start(t testing.TB, bin string, args ...string) *Proc {
	t.Helper()
	p := &Proc{WS: freeAddr(t), API: freeAddr(t), log: &bytes.Buffer{}}
	_, wsPort, _ := net.SplitHostPort(p.WS)
	all := append([]string{"--host", "127.0.0.1", "--port", wsPort, "--api-addr", p.API, "--demo=false", "--log-level", "info"}, args...)
	p.cmd = exec.Command(bin, all...)
	p.cmd.Env = serverEnv()
	w := lockedBuffer{&p.mu, p.log}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start wse-server: %v", err)
	}
	t.Cleanup(p.Kill)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := p.Health(); err == nil {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("wse-server %v not healthy within 20s; log:\n%s", all, p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Log returns what the process wrote so far.
func (p *Proc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// Kill sends SIGKILL (kill -9) and reaps the process; it is idempotent.
func (p *Proc) Kill() {
	if p.cmd.Process == nil || p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

// URL returns the WebSocket URL.
func (p *Proc) URL() string { return "ws://" + p.WS + "/wse" }

// Health returns GET /health decoded.
func (p *Proc) Health() (map[string]any, error) {
	var m map[string]any
	err := p.Get("/health", &m)
	return m, err
}

// Get decodes the JSON answer of a GET on the control API into v.
func (p *Proc) Get(path string, v any) error {
	resp, err := http.Get("http://" + p.API + path)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// Text returns the body of a GET on the control API.
func (p *Proc) Text(path string) (string, error) {
	resp, err := http.Get("http://" + p.API + path)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// Publish posts data to topic through /api/publish and returns the HTTP
// status.
func (p *Proc) Publish(topic string, data any) (int, error) {
	body, err := json.Marshal(map[string]any{"topic": topic, "data": data})
	if err != nil {
		return 0, err
	}
	resp, err := http.Post("http://"+p.API+"/api/publish", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// freeAddr returns a loopback host:port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
}

// TempDir returns a directory for the built binary that the caller removes.
func TempDir() (string, error) { return os.MkdirTemp("", "wseproc-") }

// serverEnv is this process's environment without WSE_* variables: the
// server reads them as settings and refuses unknown ones, such as the
// WSE_REQUIRE_BROKERS that the broker tests' make target sets.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WSE_") {
			env = append(env, kv)
		}
	}
	return env
}
