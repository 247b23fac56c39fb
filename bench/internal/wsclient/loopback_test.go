package wsclient

import (
	"errors"
	"testing"
)

func TestCheckURLAcceptsOnlyLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url string
		ok  bool
	}{
		{"ws://127.0.0.1:5007/wse", true},
		{"ws://127.5.6.7/x", true},
		{"http://127.0.0.1:5008/api/publish", true},
		{"ws://[::1]:9000/ws", true},
		{"wss://127.0.0.1/", true},
		{"ws://[::ffff:127.0.0.1]:1/", true},
		{"ws://localhost:5007/wse", false},
		{"ws://10.0.0.1:5007/wse", false},
		{"ws://0.0.0.0:5007/wse", false},
		{"ws://[::]:5007/wse", false},
		{"ws://[fe80::1%25lo]:1/", false},
		{"ws://example.com/", false},
		{"ws://128.0.0.1/", false},
		{"ftp://127.0.0.1/", false},
		{"127.0.0.1:5007", false},
		{"://bad", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			err := CheckURL(tt.url)
			if tt.ok && err != nil {
				t.Fatalf("CheckURL: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrNotLoopback) {
				t.Fatalf("CheckURL error = %v, want ErrNotLoopback", err)
			}
		})
	}
}

func TestCheckHostPortAcceptsOnlyLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"[::1]:80", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"192.168.1.2:80", false},
		{"localhost:80", false},
		{"127.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			err := CheckHostPort(tt.addr)
			if tt.ok != (err == nil) {
				t.Fatalf("CheckHostPort(%q) = %v", tt.addr, err)
			}
			if err != nil && !errors.Is(err, ErrNotLoopback) {
				t.Fatalf("error %v does not wrap ErrNotLoopback", err)
			}
		})
	}
}
