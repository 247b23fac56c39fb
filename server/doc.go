// Package server assembles the standalone WSE server (cmd/wse-server) so that
// it can also be embedded, and run in-process by tests.
//
// Load builds a Config from command-line flags, WSE_* environment variables
// and an optional YAML file (precedence flag > env > file > default) and
// validates it; New assembles the engine (package wse), its demo page, the
// event pump and the control API; Start binds both listeners; Shutdown
// drains clients with close code 4300 and stops everything within a bound.
//
// The control API (Handler) is JSON over HTTP. Read-only endpoints come from
// package monitor; this package adds publish, broadcast_all, send,
// subscribe, unsubscribe, disconnect, presence updates, token minting and
// the events long-poll. When an API key is configured every request must
// carry "Authorization: Bearer <key>" (compared in constant time).
//
// One goroutine, the event pump, reads the engine's events: it subscribes new
// connections to the --subscribe-on-connect topics and appends every event
// to a bounded buffer read by GET /api/events. When nobody reads, the oldest
// buffered events are discarded and counted
// (wse_api_events_discarded_total), so the endpoint never back-pressures
// the engine or raises its inbound_dropped figure.
//
// # Concurrency
//
// All methods of Server are safe for concurrent use. Start may be called
// once; Shutdown and Close are idempotent and may race with each other, the
// first one wins. API handlers run concurrently on net/http goroutines and
// only call goroutine-safe engine methods; a long poll holds no lock while it
// waits.
package server
