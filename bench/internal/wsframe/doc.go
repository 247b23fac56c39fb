// Package wsframe parses and builds RFC 6455 frames for the benchmark client
// and the raw floor server, and scans message payloads for the benchmark's
// sequence number and timestamp, all without allocating.
//
// # Concurrency contract
//
// Every function is pure: it reads and writes only the slices it is given, so
// concurrent calls on distinct buffers are safe. Nothing here blocks.
package wsframe
