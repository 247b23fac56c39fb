// Package stats holds the benchmark's measurement primitives: a log-linear
// latency histogram with percentiles, and readers for the Linux /proc figures
// (a process's RSS and CPU time, the machine's busy time and load average).
//
// # Concurrency contract
//
// Histogram.Record is safe for concurrent use (atomic counters) and never
// blocks or allocates; Quantile, Count, Max and Merge may run concurrently
// with Record and see a consistent-enough snapshot for reporting. The /proc
// readers are plain functions without shared state.
package stats
