// Package monitor is the read-only HTTP surface of a WSE engine: the health
// snapshot, Prometheus /metrics, the connection list, topic subscriber counts
// and presence queries. Its handlers only render what the engine's snapshot
// methods return (the Source interface); they never change engine state.
//
// It also defines the JSON conventions shared by the wse-server control API:
// WriteJSON, the error body {"error":{"code","message"}} written by
// WriteError, and Allow, which answers a wrong method with a JSON 405.
//
// # Concurrency
//
// A Monitor is immutable once built by New; its handlers may run
// concurrently, and every Source method they call must be safe for
// concurrent use (those of *wse.Server are). Metrics are read at scrape time
// by a custom collector registered in a private prometheus.Registry owned by
// the Monitor, so several Monitors can live in one process.
package monitor
