package server

import "errors"

// Sentinel errors returned (wrapped with context) by this package. Check them
// with errors.Is.
var (
	// ErrInvalidConfig reports a setting that cannot be used; the message
	// names the setting (e.g. "server: invalid config: --port: …").
	ErrInvalidConfig = errors.New("server: invalid config")
	// ErrAlreadyStarted reports Start on a server that was started before.
	ErrAlreadyStarted = errors.New("server: already started")
	// ErrNoClusterTLS reports ReloadTLS on a server without cluster TLS
	// settings.
	ErrNoClusterTLS = errors.New("server: no cluster TLS configured")
)
