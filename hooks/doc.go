// Package hooks calls the application's backend over HTTP to decide what
// wse-server would otherwise decide from its configuration, and tells it
// what happened: the connect, subscribe, publish and rpc proxies, and the
// disconnect and presence_leave webhooks (docs/hooks.md).
//
// Every call is a JSON POST signed with HMAC-SHA256 over the timestamp and
// the body (see Sign and VerifyRequest), bounded by a timeout and by a
// per-hook concurrency limit with a bounded wait queue. The proxies are not
// retried; on a backend error they apply their failure policy (deny by
// default). Webhooks are delayed by a grace period, cancelled when the same
// user comes back within it, and retried with exponential backoff.
//
// Concurrency: a Hooks is safe for concurrent use. The functions returned
// by Engine never block the caller except Connect, which the engine runs on
// the upgrade's own goroutine; the others run the backend call on a
// goroutine owned by the Hooks and call their done callback from it.
// Observe must not be called after Close.
package hooks
