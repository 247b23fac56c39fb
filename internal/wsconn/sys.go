package wsconn

import (
	"fmt"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// iovMax is the most iovecs one writev call accepts on Linux (IOV_MAX).
const iovMax = 1024

// writev writes iov to the socket fd with one system call and returns the
// bytes written. It is a vectored write like unix.Writev, made with sendmsg
// and MSG_NOSIGNAL so that a peer's reset gives EPIPE without raising SIGPIPE
// (which matters when the engine runs inside a non-Go host process), and
// without a per-call iovec allocation: the caller owns iov.
func writev(fd int, iov []unix.Iovec) (int, error) {
	if len(iov) == 0 {
		return 0, nil
	}
	var msg unix.Msghdr
	msg.Iov = &iov[0]
	msg.SetIovlen(len(iov))
	r, _, errno := unix.Syscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), unix.MSG_NOSIGNAL)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// dupConn returns a close-on-exec, non-blocking duplicate of nc's socket
// descriptor. The caller still owns nc.
func dupConn(nc net.Conn) (int, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1, ErrUnsupportedConn
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("%w: %w", ErrUnsupportedConn, err)
	}
	fd := -1
	var dupErr error
	err = rc.Control(func(s uintptr) {
		fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	})
	if err == nil {
		err = dupErr
	}
	if err != nil {
		return -1, fmt.Errorf("wsconn: dup socket: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return -1, fmt.Errorf("wsconn: set non-blocking: %w", err)
	}
	return fd, nil
}
