package wsconn

import "testing"

func TestFrameQueueAdvancesAndDrops(t *testing.T) {
	t.Parallel()
	var q frameQueue
	for _, s := range []string{"aaaa", "bb", "cccccc", "dd", "close"} {
		q.push([]byte(s))
	}
	if q.len() != 5 || q.bytes != 19 {
		t.Fatalf("len %d bytes %d", q.len(), q.bytes)
	}
	if n := q.advance(5); n != 1 || q.head != 1 || q.bytes != 14 {
		t.Fatalf("advance: frames %d head %d bytes %d", n, q.head, q.bytes)
	}
	// "bb" is partly written: it stays, "cccccc" and "dd" go, "close" stays.
	if n := q.dropUnstarted(true); n != 2 || q.len() != 2 || q.bytes != 6 {
		t.Fatalf("drop: %d dropped, len %d bytes %d", n, q.len(), q.bytes)
	}
	if n := q.advance(6); n != 2 || q.len() != 0 || q.bytes != 0 || q.off != 0 {
		t.Fatalf("final advance: frames %d len %d bytes %d off %d", n, q.len(), q.bytes, q.off)
	}
}

func TestFrameQueueReusesSmallArraysOnly(t *testing.T) {
	t.Parallel()
	var q frameQueue
	for range queueKeepCap * 2 {
		q.push([]byte("x"))
	}
	q.advance(queueKeepCap * 2)
	if q.buf != nil {
		t.Fatalf("large array kept: cap %d", cap(q.buf))
	}
	q.push([]byte("x"))
	q.advance(1)
	if q.buf == nil || q.len() != 0 {
		t.Fatal("small array not kept")
	}
}

func TestFrameQueueCompactsOnPush(t *testing.T) {
	t.Parallel()
	var q frameQueue
	for i := range 1000 {
		q.push([]byte{byte(i)})
		if i%2 == 1 {
			q.advance(1)
		}
	}
	if q.len() != 500 || cap(q.buf) > 2048 {
		t.Fatalf("len %d cap %d", q.len(), cap(q.buf))
	}
	for i := range 500 {
		if q.buf[q.off+i][0] != byte(500+i) {
			t.Fatalf("frame %d is %d", i, q.buf[q.off+i][0])
		}
	}
}
