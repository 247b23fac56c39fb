// Package nats is the NATS broker of WSE (wse.Config.Broker): publications
// fan out between nodes over core NATS, at most once, like Centrifugo's
// NATS broker.
//
// It carries fan-out only. Recovery positions stay per node, as in the
// mesh: each node stamps what it delivers from its own buffer, so a client
// recovers on the node it was on (sticky sessions). When the NATS
// connection drops, or a subscription overflows and NATS drops messages for
// it, the node drops its buffers of the topics it follows, so their next
// message starts a new epoch and clients learn of the gap instead of
// losing messages silently. Presence stays per node. Shared history and
// presence are what the Redis broker (broker/redis) is for; see
// docs/scaling.md for why they are not built on JetStream here.
//
// Subjects are Prefix + "." + the topic in unpadded base64url, so any topic
// name is one subject token. Messages are "<node> <body>"; a node ignores
// its own.
//
// Concurrency: a Broker is safe for concurrent use; nats.go calls the
// handler from one goroutine per subscription.
package nats
