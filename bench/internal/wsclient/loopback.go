package wsclient

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
)

// CheckURL returns nil when raw is a ws, wss, http or https URL whose host is
// a literal loopback IP (127.0.0.0/8 or ::1), and an error wrapping
// ErrNotLoopback otherwise. Host names, "localhost" included, are refused:
// they could resolve anywhere.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %q: %w", ErrNotLoopback, raw, err)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return fmt.Errorf("%w: %q: scheme %q", ErrNotLoopback, raw, u.Scheme)
	}
	if err := checkHost(u.Hostname()); err != nil {
		return fmt.Errorf("%w: %q", err, raw)
	}
	return nil
}

// CheckHostPort returns nil when addr ("host:port") names a literal loopback
// IP, and an error wrapping ErrNotLoopback otherwise (an empty host, which
// means every interface, included).
func CheckHostPort(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %q: %w", ErrNotLoopback, addr, err)
	}
	if err := checkHost(host); err != nil {
		return fmt.Errorf("%w: %q", err, addr)
	}
	return nil
}

func checkHost(host string) error {
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" || !ip.Unmap().IsLoopback() {
		return ErrNotLoopback
	}
	return nil
}
