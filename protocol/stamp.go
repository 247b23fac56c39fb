package protocol

import "strconv"

// Stamp returns text with the recovery stamp
// "tp":<topic>,"e":"<epoch>","o":<offset> inserted right after its first '{'
// (PROTOCOL §5), followed by a comma unless the object is empty. Text that is
// not exactly one valid JSON object is returned unchanged (the same slice)
// with ok false, to be sent unstamped.
func Stamp(text []byte, topic, epoch string, offset uint64) (out []byte, ok bool) {
	info, ok := scanObject(text)
	if !ok {
		return text, false
	}
	out = make([]byte, 0, len(text)+len(`"tp":,"e":,"o":,`)+len(topic)+len(epoch)+24)
	out = append(out, text[:info.open+1]...)
	out = append(out, `"tp":`...)
	out = AppendString(out, topic)
	out = append(out, `,"e":`...)
	out = AppendString(out, epoch)
	out = append(out, `,"o":`...)
	out = strconv.AppendUint(out, offset, 10)
	if !info.empty {
		out = append(out, ',')
	}
	return append(out, text[info.open+1:]...), true
}
