// Package mpscan reads MessagePack one token at a time from a byte slice,
// for decoders that must not trust their input: every length is checked
// against the bytes left before it is used, so a claimed size never drives
// work or allocation; NaN and infinite floats, extension types other than
// timestamps (of the years 0 to 9999, what JSON can carry) and the reserved
// byte 0xc1 are refused. Nesting depth is the caller's to bound: a Map or
// Array token only announces how many entries follow.
//
// The engine's inbound decoder (protocol) and the Go client's transcoder to
// JSON (clients/go) build their different results on this one reader.
//
// Concurrency: a Scanner belongs to one goroutine.
package mpscan
