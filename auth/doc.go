// Package auth verifies and mints the JSON Web Tokens that authenticate WSE
// connections. It knows nothing of connections: the engine extracts a token
// from the upgrade request with TokenFromRequest, checks it with
// Verifier.Verify and reads the resulting Claims.
//
// Verification is strict (PROTOCOL.md §1): only the configured algorithm is
// accepted (never "none"), "exp" is required, "nbf" is honored, both with a
// leeway, "iss" and "aud" are checked when configured, the token is bounded in
// size and "sub" must be a non-empty string. A previous key may be configured
// for rotation. The optional claim "wse_topics" carries the connection's topic
// ACL globs; a malformed one makes the token invalid.
//
// Concurrency: a Verifier is immutable after NewVerifier and safe for
// concurrent use by any number of goroutines. The package-level functions
// (Sign, EncodeHS256, Mint, TokenFromRequest) hold no state and are safe for
// concurrent use. Nothing in this package blocks or starts goroutines.
package auth
