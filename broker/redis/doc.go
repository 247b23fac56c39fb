// Package redis is the Redis broker of WSE (wse.Config.Broker): any number
// of nodes on one Redis share publications, recovery history and presence,
// so a client recovers on whichever node it reconnects to.
//
// Layout in Redis, for a topic T and Config.Prefix P (the braces are a
// Cluster hash tag, so each topic's keys live on one shard):
//
//	P:{T}     sharded pub/sub channel (SPUBLISH/SSUBSCRIBE) of the topic
//	P:{T}:m   hash: e = epoch, o = last offset
//	P:{T}:s   stream of publications, entry id 0-<offset>, MAXLEN ~ HistorySize
//	P:{T}:p   hash of presence entries, field "<node> <user>"
//	P:{T}:pz  sorted set of the same fields scored by expiry (Redis time, ms)
//
// A publication is one Lua script: it bumps the offset, appends to the
// stream and publishes the message with its epoch and offset, so offsets
// are consecutive across nodes and every node stamps the same tp/e/o. The
// epoch is set when the meta hash is created and therefore changes when the
// stream is lost (TTL, restart of a Redis without persistence, flush).
//
// Presence entries are written by the node that holds the connections and
// rewritten every PresenceTTL/3; a node that stops (kill -9) stops
// refreshing, and its entries are removed by the next read after
// PresenceTTL. The engine re-reads every Presence.SyncInterval, so a
// crashed node's members leave within PresenceTTL + SyncInterval.
//
// Concurrency: a Broker is safe for concurrent use. The pub/sub reader
// queues what it receives (bounded: 65,536 messages, 64 MiB) and one
// dispatch goroutine hands publications and presence messages to the
// wse.BrokerHandler in channel order, so the handler may block without
// stalling the reader. A message that does not fit is dropped and the
// handler catches up from the streams; a failed SSUBSCRIBE or SUNSUBSCRIBE
// resets the pub/sub connection, which then subscribes the whole interest
// again. Presence writes happen on one writer goroutine and never block the
// caller.
package redis
