package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// checkInbound checks the invariants every classification result keeps.
func checkInbound(t *testing.T, in Inbound) {
	t.Helper()
	if in.Kind < KindMsg || in.Kind > KindBatch {
		t.Fatalf("kind %d out of range", in.Kind)
	}
	if (in.Msg != nil) != (in.Kind == KindMsg || in.Kind == KindClientHello || in.Kind == KindSubscription) {
		t.Fatalf("kind %v with msg %v", in.Kind, in.Msg)
	}
	if in.Msg != nil {
		if _, err := json.Marshal(in.Msg); err != nil {
			t.Fatalf("msg has no JSON form: %v", err)
		}
		if _, ok := in.Msg["type"]; ok {
			if _, ok := in.Msg["t"]; !ok {
				t.Fatal("type not normalized")
			}
		}
	}
	if in.Kind == KindBatch {
		if in.Msgs == nil {
			t.Fatal("batch without a list")
		}
		if _, err := json.Marshal(in.Msgs); err != nil {
			t.Fatalf("batch has no JSON form: %v", err)
		}
	}
	if in.Kind != KindPing && in.PingTimestamp != 0 {
		t.Fatalf("kind %v with a ping timestamp", in.Kind)
	}
}

func FuzzClassifyText(f *testing.F) {
	f.Add([]byte(`{"t":"chat","p":{"text":"hi"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in := ClassifyText(data)
		checkInbound(t, in)
		if in.Kind == KindBin {
			t.Fatal("text classified as binary")
		}
		if in.Kind == KindRaw && in.Raw != string(data) {
			t.Fatalf("raw %q is not the original", in.Raw)
		}
		if in.Kind != KindRaw {
			body := data
			for _, p := range []string{"WSE", "S", "U"} {
				if bytes.HasPrefix(body, []byte(p+"{")) {
					body = body[len(p):]
					break
				}
			}
			if !json.Valid(body) {
				t.Fatalf("%q accepted but is not valid JSON", data)
			}
		}
	})
}

func FuzzClassifyBinary(f *testing.F) {
	f.Add([]byte("\x81\xa1t\xa4ping"), true)
	f.Fuzz(func(t *testing.T, data []byte, msgpack bool) {
		in, err := ClassifyBinary(data, msgpack, 1<<16)
		if err != nil {
			if !errors.Is(err, ErrTooLarge) || !bytes.HasPrefix(data, []byte("C:")) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		checkInbound(t, in)
		if in.Kind == KindBin && !bytes.Equal(in.Bin, data) {
			t.Fatal("bin is not the original bytes")
		}
		if in.Kind != KindBin && !msgpack && !bytes.HasPrefix(data, []byte("C:")) {
			t.Fatalf("plain binary classified as %v", in.Kind)
		}
	})
}
