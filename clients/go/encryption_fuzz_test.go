package wseclient

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gobwas/ws"

	"github.com/wse-go/wse/internal/e2e"
)

// FuzzDecodeFrame checks that opening and decoding a frame never panics
// with encryption on, that a frame sealed by the server decodes exactly as
// its plaintext does, and that an "E:" frame not sealed with the key is
// refused with errDecrypt, with or without a key.
func FuzzDecodeFrame(f *testing.F) {
	offer, err := e2e.NewOffer()
	if err != nil {
		f.Fatal(err)
	}
	server, serverKey, err := e2e.Accept(offer.PublicKey())
	if err != nil {
		f.Fatal(err)
	}
	client, err := offer.Complete(serverKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"tp":"prices","e":"5f3a9c01","o":42,"c":"U","t":"tick","p":{"n":1}}`), true)
	f.Add([]byte("E:"), false)
	f.Add(append([]byte("E:"), make([]byte, 28)...), false)
	f.Fuzz(func(t *testing.T, data []byte, sealed bool) {
		const limit = 1 << 20
		decodeFrame := func(op ws.OpCode, frame []byte, key *e2e.Session) (Message, error) {
			plain, err := openFrame(op, frame, true, key)
			if err != nil {
				return Message{}, err
			}
			return decode(plain, limit)
		}
		if sealed {
			m, err := decodeFrame(ws.OpBinary, server.Seal(nil, data), client)
			want, wantErr := decode(data, limit)
			if (err == nil) != (wantErr == nil) || errors.Is(err, errDecrypt) {
				t.Fatalf("sealed %q: error %v, plaintext error %v", data, err, wantErr)
			}
			if err == nil && (m.Type != want.Type || m.Offset != want.Offset || !bytes.Equal(m.Raw, want.Raw)) {
				t.Fatalf("sealed %q decodes to %+v, plaintext to %+v", data, m, want)
			}
			return
		}
		for _, key := range []*e2e.Session{client, nil} {
			_, err := decodeFrame(ws.OpBinary, data, key)
			if e2e.IsEncrypted(data) != errors.Is(err, errDecrypt) {
				t.Fatalf("frame %q (key %v): error %v", data, key != nil, err)
			}
		}
		if plain, err := openFrame(ws.OpText, data, true, client); err != nil || !bytes.Equal(plain, data) {
			t.Fatalf("text frame %q opened to %q, %v", data, plain, err)
		}
	})
}
