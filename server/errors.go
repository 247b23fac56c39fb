package server

import "errors"

// Sentinel errors returned (wrapped with context) by this package. Check them
// with errors.Is.
var (
	// ErrInvalidConfig reports a setting that cannot be used; the message
	// names the setting and where its value came from (e.g. "server:
	// invalid config: --port: …").
	ErrInvalidConfig = errors.New("server: invalid config")
	// ErrAlreadyStarted reports Start on a server that was started before.
	ErrAlreadyStarted = errors.New("server: already started")
	// ErrUsage reports a subcommand (gentoken, checkconfig) called with
	// arguments it does not take; the message says what it takes.
	ErrUsage = errors.New("usage")
	// ErrNoClusterTLS reports ReloadTLS on a server without cluster TLS
	// settings.
	ErrNoClusterTLS = errors.New("server: no cluster TLS configured")
)
