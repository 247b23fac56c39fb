package wsclient

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wse-go/wse/bench/internal/wsframe"
)

// Conn is one client WebSocket connection with its read buffer.
type Conn struct {
	nc   *net.TCPConn // nil once detached
	fd   int          // -1 until detached
	buf  []byte
	r, w int // unread bytes are buf[r:w]
	max  int
	wbuf []byte
	mask uint32

	// ReadAt is the wall-clock time (Unix ns) at which the read that
	// completed the frame last returned by Next finished.
	ReadAt int64
}

func newConn(nc *net.TCPConn, bufSize, maxFrame int) *Conn {
	if bufSize <= 0 {
		bufSize = DefaultBufSize
	}
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	var seed [4]byte
	_, _ = rand.Read(seed[:])
	return &Conn{
		nc:   nc,
		fd:   -1,
		buf:  make([]byte, bufSize),
		max:  maxFrame,
		mask: binary.LittleEndian.Uint32(seed[:]) | 1,
	}
}

// grow replaces the buffer with one of size n (at least the unread bytes),
// moving the unread bytes to its start.
func (c *Conn) grow(n int) {
	nb := make([]byte, n)
	c.w = copy(nb, c.buf[c.r:c.w])
	c.r = 0
	c.buf = nb
}

// compact makes room at the end of the buffer before a read: it rewinds an
// empty buffer, and moves unread bytes to the front when the buffer is full
// or a frame header may not fit after them.
func (c *Conn) compact() {
	switch {
	case c.r == c.w:
		c.r, c.w = 0, 0
	case c.w == len(c.buf) || len(c.buf)-c.r < wsframe.MaxHeaderLen:
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
}

// Next returns the next frame: its header and unmasked payload. The payload
// aliases the connection's buffer and is valid only until the next call.
// Frames are returned as they come (control frames and fragments included);
// the caller answers pings and handles close.
func (c *Conn) Next() (wsframe.Header, []byte, error) {
	for {
		h, p, ok, err := c.parse()
		if ok || err != nil {
			return h, p, err
		}
		c.compact()
		n, err := c.nc.Read(c.buf[c.w:])
		c.ReadAt = time.Now().UnixNano()
		c.w += n
		if err != nil && n == 0 {
			return wsframe.Header{}, nil, err
		}
	}
}

// parse returns the frame at the start of the unread bytes when it is
// complete (ok), growing the buffer when the frame cannot fit.
func (c *Conn) parse() (h wsframe.Header, p []byte, ok bool, err error) {
	if c.w-c.r < 2 {
		return h, nil, false, nil
	}
	h, err = wsframe.ParseHeader(c.buf[c.r:c.w])
	if errors.Is(err, wsframe.ErrShort) {
		return h, nil, false, nil
	}
	if err != nil {
		return h, nil, false, err
	}
	total := int64(h.Size) + h.Len
	if total > int64(c.max) {
		return h, nil, false, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, total)
	}
	if int64(c.w-c.r) < total {
		if int(total) > len(c.buf) {
			c.grow(min(max(int(total), 2*len(c.buf)), c.max))
		}
		return h, nil, false, nil
	}
	p = c.buf[c.r+h.Size : c.r+int(total)]
	c.r += int(total)
	if h.Masked {
		wsframe.Mask(p, h.Mask, 0)
	}
	return h, p, true, nil
}

// nextMask returns a fresh masking key (xorshift32; masking only has to
// defeat proxies, not attackers).
func (c *Conn) nextMask() [4]byte {
	x := c.mask
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	c.mask = x
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], x)
	return k
}

// Write sends one masked frame with opcode op.
func (c *Conn) Write(op wsframe.Opcode, payload []byte) error {
	k := c.nextMask()
	c.wbuf = wsframe.AppendFrame(c.wbuf[:0], op, &k, payload)
	if c.nc == nil {
		return c.writeFd(c.wbuf)
	}
	_, err := c.nc.Write(c.wbuf)
	return err
}

// WriteText sends one masked text frame.
func (c *Conn) WriteText(payload []byte) error { return c.Write(wsframe.OpText, payload) }

// SetReadDeadline bounds the reads of Next (zero: no bound). It must not
// be called after Detach.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// Abort closes the socket with a TCP reset (SO_LINGER 0), so that it leaves
// no TIME_WAIT entry behind to hold its port. Call it once.
func (c *Conn) Abort() {
	if c.nc == nil {
		_ = unix.SetsockoptLinger(c.fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
		_ = unix.Close(c.fd)
		return
	}
	_ = c.nc.SetLinger(0)
	_ = c.nc.Close()
}

// CloseCode extracts the status code of a close frame's payload (1005 when
// it has none).
func CloseCode(payload []byte) int {
	if len(payload) < 2 {
		return 1005
	}
	return int(binary.BigEndian.Uint16(payload))
}
