package wsconn

import "testing"

// FuzzParseFrames feeds arbitrary bytes, split at arbitrary points, to the
// frame parser. It must never panic, must decode the same thing whatever the
// splits, must never hold buffers larger than the accepted frame or message,
// and must never deliver a data message over the limit (control frames may
// carry up to 125 bytes whatever the limit).
func FuzzParseFrames(f *testing.F) {
	f.Add(clientFrame(true, OpText, []byte("hello"), 0, false), []byte{1, 2, 3}, uint16(1000))
	f.Add(append(clientFrame(false, OpBinary, make([]byte, 200), 0, false),
		clientFrame(true, OpContinuation, make([]byte, 200), 0, false)...), []byte{7, 100}, uint16(300))
	f.Add(clientFrame(true, OpPing, []byte("p"), 0, false), []byte{0}, uint16(10))
	f.Add([]byte{0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, []byte{}, uint16(0))
	f.Fuzz(func(t *testing.T, stream []byte, cuts []byte, maxSize uint16) {
		max := int64(maxSize) + 1
		whole, wholeFail, _, _ := parseChunks(stream, max, nil)
		sizes := make([]int, len(cuts))
		for i, c := range cuts {
			sizes[i] = int(c) + 1
		}
		split, splitFail, pendingCap, msgCap := parseChunks(stream, max, sizes)
		if wholeFail != splitFail || len(whole) != len(split) {
			t.Fatalf("whole: fail %d, %d messages; split: fail %d, %d messages", wholeFail, len(whole), splitFail, len(split))
		}
		for i := range whole {
			if whole[i] != split[i] {
				t.Fatalf("message %d differs", i)
			}
		}
		if limit := max2(int(max)+maxHeaderSize, minBufferCap); pendingCap > limit {
			t.Fatalf("pending buffer cap %d > %d", pendingCap, limit)
		}
		if msgCap > int(max) {
			t.Fatalf("message buffer cap %d > max %d", msgCap, max)
		}
		for _, m := range whole {
			if (m.op == OpText || m.op == OpBinary) && int64(len(m.data)) > max {
				t.Fatalf("message of %d bytes > max %d", len(m.data), max)
			}
		}
	})
}
