package wsclient

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Defaults of Dialer.
const (
	// DefaultBufSize is the initial read buffer of a connection.
	DefaultBufSize = 4 << 10
	// DefaultMaxFrame is the largest frame a connection accepts.
	DefaultMaxFrame = 16 << 20
	// DefaultTimeout bounds a dial plus handshake.
	DefaultTimeout = 10 * time.Second
	// maxHandshake bounds the server's HTTP answer.
	maxHandshake = 16 << 10
)

// SourcePool hands out loopback source addresses: it starts at one IPv4
// address and moves to the next (127.0.0.1 → 127.0.0.2 → …) whenever a dial
// fails with EADDRNOTAVAIL, that is when the address has no ephemeral port
// left for the destination.
type SourcePool struct {
	addrs []netip.Addr
	cur   atomic.Int32
}

// NewSourcePool returns a pool of count consecutive IPv4 addresses starting
// at first, which must be in 127.0.0.0/8.
func NewSourcePool(first string, count int) (*SourcePool, error) {
	a, err := netip.ParseAddr(first)
	if err != nil || !a.Is4() || !a.IsLoopback() {
		return nil, fmt.Errorf("%w: source %q", ErrNotLoopback, first)
	}
	if count < 1 {
		count = 1
	}
	p := &SourcePool{}
	for range count {
		if !a.IsValid() || !a.IsLoopback() {
			break
		}
		p.addrs = append(p.addrs, a)
		a = a.Next()
	}
	return p, nil
}

// Current returns the address dials use now.
func (p *SourcePool) Current() netip.Addr { return p.addrs[p.cur.Load()] }

// Used returns how many addresses have been used so far.
func (p *SourcePool) Used() int { return int(p.cur.Load()) + 1 }

// exhausted advances past address index i; it reports false when no address
// is left.
func (p *SourcePool) exhausted(i int32) bool {
	if int(i)+1 >= len(p.addrs) {
		return false
	}
	p.cur.CompareAndSwap(i, i+1)
	return true
}

// Dialer opens WebSocket connections to one loopback URL.
type Dialer struct {
	host    string // host:port
	request []byte // request line and fixed headers, without the key
	sources *SourcePool
	// Timeout bounds dial plus handshake (DefaultTimeout when zero).
	Timeout time.Duration
	// BufSize is the initial read buffer of each connection (DefaultBufSize
	// when zero); it grows, once per larger frame size, up to MaxFrame.
	BufSize int
	// MaxFrame is the largest frame accepted (DefaultMaxFrame when zero).
	MaxFrame int
}

// NewDialer returns a Dialer for rawURL (ws://127.x.y.z:port/path?query),
// sending header with every handshake. sources may be nil (the kernel picks
// 127.0.0.1). It refuses any URL that is not loopback.
func NewDialer(rawURL string, header http.Header, sources *SourcePool) (*Dialer, error) {
	if err := CheckURL(rawURL); err != nil {
		return nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("wsclient: %w", err)
	}
	if u.Scheme != "ws" {
		return nil, fmt.Errorf("%w: only ws:// is supported, not %q", ErrHandshake, u.Scheme)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n", u.RequestURI(), u.Host)
	if err := header.Write(&b); err != nil {
		return nil, fmt.Errorf("wsclient: %w", err)
	}
	return &Dialer{host: host, request: b.Bytes(), sources: sources}, nil
}

// Dial connects and completes the handshake, adding extra (for instance a
// per-connection Cookie) to the request headers. The connection's first
// bytes after the 101 answer stay buffered for Next.
func (d *Dialer) Dial(extra http.Header) (*Conn, error) {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	deadline := time.Now().Add(timeout)
	nc, err := d.dialTCP(deadline)
	if err != nil {
		return nil, err
	}
	c := newConn(nc, d.BufSize, d.MaxFrame)
	if err := c.handshake(d.request, extra, deadline); err != nil {
		c.Abort()
		return nil, err
	}
	return c, nil
}

// dialTCP dials from the pool's current source address, moving to the next
// one when the current one is out of ports.
func (d *Dialer) dialTCP(deadline time.Time) (*net.TCPConn, error) {
	for {
		nd := net.Dialer{Deadline: deadline}
		var idx int32
		if d.sources != nil {
			idx = d.sources.cur.Load()
			nd.LocalAddr = &net.TCPAddr{IP: d.sources.addrs[idx].AsSlice()}
			nd.Control = bindNoPort
		}
		nc, err := nd.Dial("tcp", d.host)
		if err == nil {
			return nc.(*net.TCPConn), nil
		}
		if d.sources == nil || !errors.Is(err, syscall.EADDRNOTAVAIL) {
			return nil, fmt.Errorf("wsclient: dial %s: %w", d.host, err)
		}
		if !d.sources.exhausted(idx) {
			return nil, fmt.Errorf("%w: %w", ErrNoSourceAddress, err)
		}
	}
}

// bindNoPort sets IP_BIND_ADDRESS_NO_PORT so that binding a source address
// leaves the port choice to connect(), which may then reuse a port towards
// another destination.
func bindNoPort(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// handshake writes the upgrade request and reads the answer into c.buf,
// leaving any bytes after it for Next.
func (c *Conn) handshake(request []byte, extra http.Header, deadline time.Time) error {
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	key := base64.StdEncoding.EncodeToString(raw[:])
	req := bytes.NewBuffer(make([]byte, 0, len(request)+256))
	req.Write(request)
	req.WriteString("Sec-WebSocket-Key: " + key + "\r\n")
	if err := extra.Write(req); err != nil {
		return fmt.Errorf("wsclient: %w", err)
	}
	req.WriteString("\r\n")
	if err := c.nc.SetDeadline(deadline); err != nil {
		return fmt.Errorf("wsclient: %w", err)
	}
	if _, err := c.nc.Write(req.Bytes()); err != nil {
		return fmt.Errorf("wsclient: write handshake: %w", err)
	}
	end := -1
	for end < 0 {
		if c.w == len(c.buf) {
			if len(c.buf) >= maxHandshake {
				return fmt.Errorf("%w: answer over %d bytes", ErrHandshake, maxHandshake)
			}
			c.grow(2 * len(c.buf))
		}
		n, err := c.nc.Read(c.buf[c.w:])
		c.ReadAt = time.Now().UnixNano()
		c.w += n
		if i := bytes.Index(c.buf[:c.w], []byte("\r\n\r\n")); i >= 0 {
			end = i + 4
			break
		}
		if err != nil {
			return fmt.Errorf("%w: read answer: %w", ErrHandshake, err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(c.buf[:end])), nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("%w: status %s", ErrHandshake, resp.Status)
	}
	sum := sha1.Sum([]byte(key + acceptGUID))
	if resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		return fmt.Errorf("%w: wrong Sec-WebSocket-Accept", ErrHandshake)
	}
	c.r = end
	if err := c.nc.SetDeadline(time.Time{}); err != nil {
		return fmt.Errorf("wsclient: %w", err)
	}
	return nil
}
