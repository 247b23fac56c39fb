// Package bridge is the Go side of the Python binding: servers behind
// integer handles, the keyword options of WSEServer, the methods of the
// original API with its error behaviour, and the one-buffer encoding of a
// drained batch. The cgo exports in ../capi are thin wrappers over it, so
// everything here is tested without cgo.
//
// Every function and method is safe for concurrent use: the handle table is
// guarded by a lock, and the engine's methods are goroutine-safe. Drain
// blocks up to its timeout; Call blocks for as long as the method does
// (start binds, stop and drain wait for connections to close).
package bridge
