package protocol

// TagTopic returns text with "tp":<topic> inserted right after its first
// '{', followed by a comma unless the object is empty: the topic of a
// publication sent without a recovery stamp, so that a client subscribed to
// several topics can tell where it came from. Text that is not exactly one
// valid JSON object is returned unchanged (the same slice) with ok false.
//
// A lone "tp" is not a recovery stamp: clients treat a message as stamped
// only when "tp", "e" and "o" are all present (docs/protocol.md).
func TagTopic(text []byte, topic string) (out []byte, ok bool) {
	info, ok := scanObject(text)
	if !ok {
		return text, false
	}
	out = make([]byte, 0, len(text)+len(`"tp":,`)+len(topic)+2)
	out = append(out, text[:info.open+1]...)
	out = append(out, `"tp":`...)
	out = AppendString(out, topic)
	if !info.empty {
		out = append(out, ',')
	}
	return append(out, text[info.open+1:]...), true
}
