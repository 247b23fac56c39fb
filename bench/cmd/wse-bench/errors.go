package main

import "errors"

var (
	// errServer reports an unexpected answer from a server's HTTP endpoint.
	errServer = errors.New("wse-bench: unexpected server answer")
	// errRefused reports a connection the server refused or closed while it
	// was being set up.
	errRefused = errors.New("wse-bench: connection refused by server")
	// errUsage reports invalid flags.
	errUsage = errors.New("wse-bench: usage")
)
