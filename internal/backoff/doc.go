// Package backoff computes jittered exponential reconnect delays.
//
// A Policy describes the schedule: the delay before retry n (counting from 0)
// is Base·Factor^n, capped at Max, then shortened by a random fraction of at
// most Jitter, so that clients dropped together do not come back together. A
// delay never exceeds Max and never falls below (1-Jitter)·min(Base, Max).
//
// Concurrency. A Policy is a value: its methods only read it and are safe for
// concurrent use. Delay draws from math/rand/v2's global source, which is
// itself safe for concurrent use.
package backoff
