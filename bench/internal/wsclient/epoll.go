package wsclient

import (
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wse-go/wse/bench/internal/wsframe"
)

// Detach takes the socket away from Go's runtime poller so that it can be
// served by a Poller: it duplicates the descriptor (non-blocking, like the
// original), closes the net.Conn and from then on reads with Fill and writes
// with plain write(2). Bytes already buffered stay buffered.
func (c *Conn) Detach() error {
	rc, err := c.nc.SyscallConn()
	if err != nil {
		return fmt.Errorf("wsclient: detach: %w", err)
	}
	var fd int
	var derr error
	if err := rc.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return fmt.Errorf("wsclient: detach: %w", err)
	}
	if derr != nil {
		return fmt.Errorf("wsclient: detach: %w", derr)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return fmt.Errorf("wsclient: detach: %w", err)
	}
	_ = c.nc.Close()
	c.nc = nil
	c.fd = fd
	return nil
}

// Fd returns the descriptor of a detached connection (-1 before Detach).
func (c *Conn) Fd() int { return c.fd }

// Fill makes one non-blocking read of a detached connection into its
// buffer, compacting it first (Parse grows it for a frame that does not
// fit). It returns 0, nil when nothing was ready and io.EOF when the
// peer closed. Read frames with Parse.
func (c *Conn) Fill() (int, error) {
	c.compact()
	if c.w == len(c.buf) {
		return 0, fmt.Errorf("%w: buffer full", ErrFrameTooLarge)
	}
	n, err := unix.Read(c.fd, c.buf[c.w:])
	c.ReadAt = time.Now().UnixNano()
	switch {
	case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
		return 0, nil
	case err != nil:
		return 0, err
	case n == 0:
		return 0, io.EOF
	}
	c.w += n
	return n, nil
}

// Parse returns the next complete frame already in the buffer (ok), without
// reading; the payload is valid until the next Fill. It grows the buffer
// when the pending frame cannot fit.
func (c *Conn) Parse() (h wsframe.Header, p []byte, ok bool, err error) {
	return c.parse()
}

// writeFd writes b to a detached connection, waiting (bounded) while the
// socket buffer is full.
func (c *Conn) writeFd(b []byte) error {
	for range 100 {
		n, err := unix.Write(c.fd, b)
		if n > 0 {
			b = b[n:]
		}
		if len(b) == 0 {
			return nil
		}
		if err != nil && !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) {
			return err
		}
		fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLOUT}}
		if _, err := unix.Poll(fds, 100); err != nil && !errors.Is(err, unix.EINTR) {
			return err
		}
	}
	return fmt.Errorf("wsclient: write: %w", unix.ETIMEDOUT)
}

// Poller waits for readable detached connections with one epoll instance.
// Its descriptors carry a caller-chosen 32-bit index instead of the fd.
type Poller struct {
	epfd   int
	events []unix.EpollEvent
}

// NewPoller creates an epoll instance.
func NewPoller() (*Poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("wsclient: epoll: %w", err)
	}
	return &Poller{epfd: fd, events: make([]unix.EpollEvent, 512)}, nil
}

// Add watches fd for input (level-triggered) and reports it as index.
func (p *Poller) Add(fd int, index int32) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: index}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("wsclient: epoll add: %w", err)
	}
	return nil
}

// Remove stops watching fd.
func (p *Poller) Remove(fd int) {
	_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

// Wait blocks up to timeout for ready descriptors and calls ready with the
// index of each. It returns the number reported.
func (p *Poller) Wait(timeout time.Duration, ready func(index int32)) (int, error) {
	n, err := unix.EpollWait(p.epfd, p.events, int(timeout.Milliseconds()))
	if errors.Is(err, unix.EINTR) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("wsclient: epoll wait: %w", err)
	}
	for _, ev := range p.events[:n] {
		ready(ev.Fd)
	}
	return n, nil
}

// Close closes the epoll instance (not the watched descriptors).
func (p *Poller) Close() error { return unix.Close(p.epfd) }
