package hooks

import "errors"

// Sentinel errors, wrapped with context; check them with errors.Is.
var (
	// ErrInvalidConfig reports a Config field that cannot be used.
	ErrInvalidConfig = errors.New("hooks: invalid config")
	// ErrBusy reports a call refused because the hook's concurrency limit
	// and wait queue are full.
	ErrBusy = errors.New("hooks: too many calls in progress")
	// ErrBackend reports a backend answer that is not a 2xx JSON object.
	ErrBackend = errors.New("hooks: backend error")
	// ErrSignature reports a request whose signature or timestamp does
	// not verify (VerifyRequest).
	ErrSignature = errors.New("hooks: bad signature")
	// ErrClosed reports a call after Close.
	ErrClosed = errors.New("hooks: closed")
)
