package e2e

import (
	"bytes"
	"crypto/ecdh"
	"encoding/hex"
	"testing"
)

// FuzzOpen feeds arbitrary client frames to a session: Open must never
// panic, must fail on anything Seal did not make, and what it opens must
// seal back to a frame it opens to the same plaintext.
func FuzzOpen(f *testing.F) {
	d, _ := hex.DecodeString("35113551721d94dee438686aab5bca1cbfd52022919cafde1aed35008920ffa0")
	priv, err := ecdh.P256().NewPrivateKey(d)
	if err != nil {
		f.Fatal(err)
	}
	s, err := (&Offer{priv: priv}).Complete("BAIxpHYQ5daW1lnbdUifB3NUKtQUchcFTlE4DqpCELua7Xfhysf6iiVkGxmFgAeJQdEw+x8eWP9QdmiLEgHMDkM=")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(s.Seal(nil, []byte(`{"t":"chat","p":{"text":"hi"}}`)))
	f.Add([]byte("E:"))
	f.Fuzz(func(t *testing.T, frame []byte) {
		plain, err := s.Open(frame)
		if err != nil {
			return
		}
		again, err := s.Open(s.Seal(nil, plain))
		if err != nil || !bytes.Equal(again, plain) {
			t.Fatalf("reseal of %q: %q, %v", plain, again, err)
		}
	})
}
