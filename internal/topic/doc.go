// Package topic holds the rules for topic names and topic patterns: name
// validation (Validate), glob matching (Match), "{user_id}" templates (Expand,
// ExpandGlob) and allow/deny access lists (ACL).
//
// A glob is a topic string in which '*' matches any run of bytes (including
// none, and across '.' and ':') and '?' matches exactly one byte; every other
// byte, including '\', is literal. Matching is byte-wise and never backtracks
// exponentially.
//
// Concurrency: every function is pure and safe for concurrent use. An ACL is a
// value; its methods only read it, so one ACL may be shared by many goroutines
// as long as nobody modifies its slices.
package topic
