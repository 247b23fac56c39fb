package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wse-go/wse/server"
)

// waitTimeout bounds every wait in these tests.
const waitTimeout = 20 * time.Second

// binary is the wse-server executable built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wse-server-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "wse-server")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// baseEnv is the environment of every run: no WSE_* variable leaks in.
func baseEnv(extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, extra...)
}

// runToExit runs the binary to completion and returns its exit code,
// stdout and stderr.
func runToExit(t *testing.T, args []string, env ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = baseEnv(env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &exit) && ctx.Err() == nil:
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("wse-server %q: %v (stderr %q)", args, err, stderr.String())
	return 0, "", ""
}

// proc is a running wse-server.
type proc struct {
	cmd    *exec.Cmd
	wsURL  string // ws://host:port/path
	apiURL string // http://host:port
	done   chan struct{}
	err    error // set when done is closed

	// mu guards stderr.
	mu     sync.Mutex
	stderr strings.Builder
}

var readyLine = regexp.MustCompile(`^wse-server: WebSocket (ws://\S+?),? .*control API (http://\S+)$`)

// start runs the binary with free ports unless args set them, and waits for
// its one-line announcement.
func start(t *testing.T, args []string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = baseEnv(env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	select {
	case line := <-lines:
		m := readyLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("unexpected first line %q", line)
		}
		p.wsURL, p.apiURL = m[1], m[2]
	case <-p.done:
		t.Fatalf("wse-server exited early: %v\n%s", p.err, p.stderrText())
	case <-time.After(waitTimeout):
		t.Fatalf("no announcement within %s\n%s", waitTimeout, p.stderrText())
	}
	return p
}

func (p *proc) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// exitCode waits for the process to exit and returns its code and how long
// that took.
func (p *proc) exitCode(t *testing.T) (int, time.Duration) {
	t.Helper()
	begin := time.Now()
	select {
	case <-p.done:
	case <-time.After(waitTimeout):
		t.Fatalf("wse-server did not exit within %s\n%s", waitTimeout, p.stderrText())
	}
	var exit *exec.ExitError
	switch {
	case p.err == nil:
		return 0, time.Since(begin)
	case errors.As(p.err, &exit):
		return exit.ExitCode(), time.Since(begin)
	}
	t.Fatalf("wait: %v", p.err)
	return 0, 0
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// freePorts are the flags that put both listeners on free ports.
var freePorts = []string{"--port", "0", "--api-addr", "127.0.0.1:0"}

// client is a WebSocket client connected to a proc.
type client struct {
	conn net.Conn
	rw   io.ReadWriter
}

// connect dials the proc's WebSocket endpoint and reads server_ready.
func connect(t *testing.T, p *proc) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, br, _, err := ws.Dialer{Timeout: waitTimeout}.Dial(ctx, p.wsURL)
	if err != nil {
		t.Fatalf("dial %s: %v", p.wsURL, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	var rd io.Reader = conn
	if br != nil {
		rd = br
	}
	c := &client{conn: conn, rw: struct {
		io.Reader
		io.Writer
	}{rd, conn}}
	_ = conn.SetReadDeadline(time.Now().Add(waitTimeout))
	data, _, err := wsutil.ReadServerData(c.rw)
	if err != nil || !strings.Contains(string(data), `"server_ready"`) {
		t.Fatalf("first frame %q, %v; want server_ready", data, err)
	}
	return c
}

// closeCode reads until the server closes and returns the close code.
func (c *client) closeCode(t *testing.T) int {
	t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(waitTimeout))
	for range 1000 {
		_, _, err := wsutil.ReadServerData(c.rw)
		if err == nil {
			continue
		}
		var closed wsutil.ClosedError
		if errors.As(err, &closed) {
			return int(closed.Code)
		}
		t.Fatalf("connection ended without a close frame: %v", err)
	}
	t.Fatal("no close frame")
	return 0
}

func TestBinaryHelpListsEverySetting(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runToExit(t, []string{"--help"})
	if code != 0 {
		t.Fatalf("--help exit code %d", code)
	}
	for _, s := range server.Settings() {
		if !strings.Contains(stdout, "--"+s.Name) || !strings.Contains(stdout, s.Env) {
			t.Errorf("--help lacks --%s / %s", s.Name, s.Env)
		}
	}
}

func TestBinaryInvalidConfigExitsTwoWithOneLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	badFile := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badFile, []byte("max-connections: lots\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unknownKey := filepath.Join(dir, "unknown.yaml")
	if err := os.WriteFile(unknownKey, []byte("jwt-secrte: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"bad flag value", []string{"--port", "http"}, nil, "--port"},
		{"bad env value", nil, []string{"WSE_IDLE_TIMEOUT=forever"}, "--idle-timeout"},
		{"bad file value", []string{"--config", badFile}, nil, "--max-connections"},
		{"unknown file key", []string{"--config", unknownKey}, nil, "jwt-secrte"},
		{"unknown flag", []string{"--no-such-flag"}, nil, "no-such-flag"},
		{"non-loopback API without key", []string{"--api-addr", "0.0.0.0:0"}, nil, "--api-key"},
		{"peers without cluster port", []string{"--peers", "127.0.0.1:7946"}, nil, "--peers"},
		{"seeds from env without cluster port", nil, []string{"WSE_SEEDS=127.0.0.1:7946"}, "--seeds"},
		{"half TLS", []string{"--cluster-port", "7946", "--tls-ca", "/etc/hostname"}, nil, "--tls-"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runToExit(t, tc.args, tc.env...)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
				t.Fatalf("exit %d, stderr %q (stdout %q); want 2 and one line naming %q", code, stderr, stdout, tc.want)
			}
		})
	}
}

func TestBinaryServesHealthAndDemoThenExitsOnSIGTERM(t *testing.T) {
	t.Parallel()
	p := start(t, freePorts)
	resp, err := http.Get(p.apiURL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"connections"`) {
		t.Fatalf("GET /health = %d %s", resp.StatusCode, body)
	}
	demo := strings.Replace(strings.TrimSuffix(p.wsURL, "/wse"), "ws://", "http://", 1) + "/"
	resp, err = http.Get(demo)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d", demo, resp.StatusCode)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.exitCode(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\n%s", code, p.stderrText())
	}
}

func TestBinaryPrecedenceIsFlagEnvFileDefault(t *testing.T) {
	t.Parallel()
	filePort, envPort, flagPort := freePort(t), freePort(t), freePort(t)
	file := filepath.Join(t.TempDir(), "wse.yaml")
	content := fmt.Sprintf("port: %d\napi-addr: 127.0.0.1:0\npath: /from-file\n", filePort)
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		env      []string
		wantPort int
	}{
		{"file over default", []string{"--config", file}, nil, filePort},
		{"env over file", []string{"--config", file}, []string{fmt.Sprintf("WSE_PORT=%d", envPort)}, envPort},
		{"flag over env", []string{"--config", file, "--port", fmt.Sprint(flagPort)}, []string{fmt.Sprintf("WSE_PORT=%d", envPort)}, flagPort},
		{"file named by env", nil, []string{"WSE_CONFIG=" + file}, filePort},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, tc.args, tc.env...)
			want := fmt.Sprintf("ws://127.0.0.1:%d/from-file", tc.wantPort)
			if p.wsURL != want {
				t.Fatalf("WebSocket at %s, want %s", p.wsURL, want)
			}
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			if code, _ := p.exitCode(t); code != 0 {
				t.Fatalf("exit code %d", code)
			}
		})
	}
}

func TestBinarySIGTERMDrainsClientsWith4300(t *testing.T) {
	t.Parallel()
	const drain = 10 * time.Second
	p := start(t, append([]string{"--drain-timeout", drain.String(), "--log-level", "debug"}, freePorts...))
	clients := []*client{connect(t, p), connect(t, p)}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		if code := c.closeCode(t); code != 4300 {
			t.Errorf("client %d close code %d, want 4300", i, code)
		}
		_ = c.conn.Close()
	}
	code, took := p.exitCode(t)
	if code != 0 || took >= drain {
		t.Fatalf("exit code %d after %s; want 0 before the %s drain timeout\n%s", code, took, drain, p.stderrText())
	}
	logs := p.stderrText()
	for _, want := range []string{"level=DEBUG msg=\"wse: connected\"", "level=DEBUG msg=\"wse: disconnected\"", "shutting down"} {
		if !strings.Contains(logs, want) {
			t.Errorf("debug logs lack %q:\n%s", want, logs)
		}
	}
}

func TestBinaryLogsAuthFailuresAtInfoWithoutTheToken(t *testing.T) {
	t.Parallel()
	const secret = "0123456789abcdef0123456789abcdef"
	p := start(t, append([]string{"--jwt-secret", secret, "--log-format", "json"}, freePorts...))
	const token = "not.a-valid.token-SENTINEL"
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	d := ws.Dialer{Timeout: waitTimeout, Header: ws.HandshakeHeaderHTTP(http.Header{"Authorization": {"Bearer " + token}})}
	conn, br, _, err := d.Dial(ctx, p.wsURL)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	var rd io.Reader = conn
	if br != nil {
		rd = br
	}
	c := &client{conn: conn, rw: struct {
		io.Reader
		io.Writer
	}{rd, conn}}
	if code := c.closeCode(t); code != 4401 {
		t.Fatalf("close code %d, want 4401", code)
	}
	deadline := time.Now().Add(waitTimeout)
	for !strings.Contains(p.stderrText(), "auth failed") {
		if time.Now().After(deadline) {
			t.Fatalf("no auth failure logged:\n%s", p.stderrText())
		}
		time.Sleep(10 * time.Millisecond)
	}
	logs := p.stderrText()
	if !strings.Contains(logs, `"level":"INFO","msg":"wse: auth failed"`) || !strings.Contains(logs, `"reason":`) {
		t.Errorf("auth failure not logged at info with a reason:\n%s", logs)
	}
	if strings.Contains(logs, "SENTINEL") || strings.Contains(logs, secret) {
		t.Errorf("a token or secret reached the log:\n%s", logs)
	}
}

func TestBinarySecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	p := start(t, append([]string{"--drain-timeout", "60s"}, freePorts...))
	connect(t, p) // never answers the close frame, so the drain lasts
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for !strings.Contains(p.stderrText(), "shutting down") {
		if time.Now().After(deadline) {
			t.Fatalf("no shutdown log line\n%s", p.stderrText())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code, _ := p.exitCode(t); code != 1 {
		t.Fatalf("exit code %d after a second signal, want 1\n%s", code, p.stderrText())
	}
}
