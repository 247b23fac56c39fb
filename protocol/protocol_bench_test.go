package protocol

import (
	"strings"
	"testing"
	"time"
)

// chatMessage is a typical client chat message of about 100 bytes.
var chatMessage = []byte(`{"t":"chat_message","p":{"room":"general","text":"hello everyone, how is it going?","n":42},"v":1}`)

// publication is a typical application publication before injection.
var publication = []byte(`{"t":"price_update","p":{"symbol":"BTC-USD","price":67123.45,"volume":12.5,"ts":1700000000123}}`)

func BenchmarkClassifyText(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(chatMessage)))
	for b.Loop() {
		if ClassifyText(chatMessage).Kind != KindMsg {
			b.Fatal("not a message")
		}
	}
}

func BenchmarkClassifyTextPing(b *testing.B) {
	ping := []byte(`{"c":"WSE","t":"ping","p":{"timestamp":1700000000123},"v":1}`)
	b.ReportAllocs()
	for b.Loop() {
		ClassifyText(ping)
	}
}

func BenchmarkClassifyBinaryMsgpack(b *testing.B) {
	packed, err := EncodeMsgpack(chatMessage)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(packed)))
	for b.Loop() {
		if in, _ := ClassifyBinary(packed, true, 1<<20); in.Kind != KindMsg {
			b.Fatal("not a message")
		}
	}
}

func BenchmarkInjectCategory(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(publication)))
	for b.Loop() {
		InjectCategory(publication)
	}
}

func BenchmarkInjectCategory4KiB(b *testing.B) {
	big := []byte(`{"t":"doc","p":{"body":"` + strings.Repeat("lorem ipsum ", 340) + `"}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(big)))
	for b.Loop() {
		InjectCategory(big)
	}
}

func BenchmarkStamp(b *testing.B) {
	text := InjectCategory(publication)
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		Stamp(text, "prices:BTC-USD", "0000abcd", 123456)
	}
}

func BenchmarkTagTopic(b *testing.B) {
	text := InjectCategory(publication)
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		TagTopic(text, "prices:BTC-USD")
	}
}

func BenchmarkEvent(b *testing.B) {
	ev := map[string]any{"t": "order_filled", "p": map[string]any{"id": "o-1", "qty": 3, "price": 10.5}}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Event(ev, 1, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompress(b *testing.B) {
	data := []byte(strings.Repeat(`{"t":"tick","p":{"price":1.5,"symbol":"ABC"}},`, 40)) // ~1.8 KiB
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Compress(data)
	}
}

func BenchmarkInflate(b *testing.B) {
	data := Compress([]byte(strings.Repeat(`{"t":"tick","p":{"price":1.5,"symbol":"ABC"}},`, 40)))[2:]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Inflate(data, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkServerReady(b *testing.B) {
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		ServerReady("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "user-1", Features{Recovery: true}, now)
	}
}
