// Package protocol is the wire contract of WSE (docs: PROTOCOL.md §1–9): the
// close and error code tables, message categories, category injection and
// recovery stamps for published text, the classification of client frames,
// the builders of every server → client message, the send_event envelope,
// and the C: (zlib) and M: (MessagePack) codecs.
//
// The package does no I/O and starts no goroutines. Every function is pure
// and safe for concurrent use by any number of goroutines; none retains its
// arguments. Returned byte slices are freshly allocated and owned by the
// caller, with two documented exceptions: InjectCategory and Stamp return
// their input unchanged (the same slice) when they have nothing to insert,
// and Inbound.Bin aliases the frame passed to ClassifyBinary.
//
// Field order in built messages is part of the contract (PROTOCOL §5):
// {"tp"?,"e"?,"o"?,"c","t","id"?,"ts"?,"seq"?,"p","v"}. Builders therefore
// write bytes in order instead of marshalling maps.
package protocol
