package wsclient

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/wse-go/wse/bench/internal/wsframe"
)

// serveOnce accepts one connection on a loopback listener, answers the
// handshake with status (101 gets a valid accept key), then writes each of
// chunks separately and echoes one client frame back, unmasked.
func serveOnce(t *testing.T, status int, chunks [][]byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		sum := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + acceptGUID))
		resp := "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
		if status == http.StatusSwitchingProtocols {
			resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
				base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n"
		}
		if _, err := nc.Write([]byte(resp)); err != nil || status != http.StatusSwitchingProtocols {
			return
		}
		for _, c := range chunks {
			if _, err := nc.Write(c); err != nil {
				return
			}
		}
		var hdr [wsframe.MaxHeaderLen]byte
		if _, err := br.Read(hdr[:2]); err != nil {
			return
		}
		n := int(hdr[1] & 0x7F)
		if _, err := br.Read(hdr[2:6]); err != nil {
			return
		}
		p := make([]byte, n)
		if _, err := br.Read(p); err != nil {
			return
		}
		wsframe.Mask(p, [4]byte(hdr[2:6]), 0)
		_, _ = nc.Write(wsframe.AppendFrame(nil, wsframe.OpText, nil, p))
	}()
	return "ws://" + ln.Addr().String() + "/ws"
}

func TestConnReadsFramesAcrossSegmentsAndGrows(t *testing.T) {
	t.Parallel()
	small := wsframe.AppendFrame(nil, wsframe.OpText, nil, []byte("hello"))
	big := wsframe.AppendFrame(nil, wsframe.OpBinary, nil, bytes.Repeat([]byte("z"), 10000))
	ping := wsframe.AppendFrame(nil, wsframe.OpPing, nil, []byte("p"))
	both := append(append([]byte{}, small...), ping...)
	chunks := [][]byte{both, big[:3], big[3:5000], big[5000:]}
	d, err := NewDialer(serveOnce(t, http.StatusSwitchingProtocols, chunks), http.Header{"X-Test": {"1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.BufSize = 512
	c, err := d.Dial(http.Header{"Cookie": {"access_token=x"}})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Abort()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	want := []struct {
		op wsframe.Opcode
		n  int
	}{{wsframe.OpText, 5}, {wsframe.OpPing, 1}, {wsframe.OpBinary, 10000}}
	for i, w := range want {
		h, p, err := c.Next()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if h.Op != w.op || len(p) != w.n || c.ReadAt == 0 {
			t.Fatalf("frame %d: op %v len %d, want %v %d", i, h.Op, len(p), w.op, w.n)
		}
	}
	if err := c.WriteText([]byte("echo me")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Next(); err != nil || string(p) != "echo me" {
		t.Fatalf("echo = %q, %v", p, err)
	}
}

func TestDialRejectsBadAnswersAndForeignURLs(t *testing.T) {
	t.Parallel()
	d, err := NewDialer(serveOnce(t, http.StatusForbidden, nil), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Dial(nil); !errors.Is(err, ErrHandshake) {
		t.Fatalf("Dial to a 403 = %v, want ErrHandshake", err)
	}
	if _, err := NewDialer("ws://192.0.2.1:80/", nil, nil); !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("NewDialer(non-loopback) = %v", err)
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	frame := wsframe.AppendFrame(nil, wsframe.OpText, nil, []byte(`{"seq":1,"ts":2}`))
	c := &Conn{buf: bytes.Repeat(frame, 100), max: 1 << 20}
	c.w = len(c.buf)
	allocs := testing.AllocsPerRun(50, func() {
		if c.r == c.w {
			c.r = 0
		}
		if _, p, ok, err := c.parse(); !ok || err != nil || len(p) != 16 {
			t.Fatalf("parse = %q, %v, %v", p, ok, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("parse allocates %.1f times per frame", allocs)
	}
}

func TestCloseCodeReadsStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []byte
		want int
	}{{nil, 1005}, {[]byte{0x11}, 1005}, {[]byte{0x0F, 0xA1, 'x'}, 4001}}
	for _, tt := range tests {
		if got := CloseCode(tt.in); got != tt.want {
			t.Errorf("CloseCode(% x) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestSourcePoolMovesToNextAddress(t *testing.T) {
	t.Parallel()
	p, err := NewSourcePool("127.0.0.254", 5)
	if err != nil {
		t.Fatal(err)
	}
	if p.Current().String() != "127.0.0.254" || len(p.addrs) != 5 {
		t.Fatalf("pool starts at %v with %d addresses", p.Current(), len(p.addrs))
	}
	if !p.exhausted(0) || p.Current().String() != "127.0.0.255" || p.Used() != 2 {
		t.Fatalf("after exhausting: %v, used %d", p.Current(), p.Used())
	}
	p.exhausted(0) // stale index: no effect
	if p.Current().String() != "127.0.0.255" {
		t.Fatalf("stale exhaust moved the pool to %v", p.Current())
	}
	if _, err := NewSourcePool("10.0.0.1", 1); !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("NewSourcePool(10.0.0.1) = %v", err)
	}
}
