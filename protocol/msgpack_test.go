package protocol

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func TestEncodeMsgpackKeepsOrderAndIntegers(t *testing.T) {
	t.Parallel()
	in := []byte(`{"c":"U","t":"x","seq":18446744073709551615,"o":-5,"p":{"f":1.5,"big":1e300,"s":"é","a":[true,null,{}]},"v":1}`)
	out, err := EncodeMsgpack(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte("M:")) {
		t.Fatalf("missing M: prefix")
	}
	dec := msgpack.NewDecoder(bytes.NewReader(out[2:]))
	n, err := dec.DecodeMapLen()
	if err != nil || n != 6 {
		t.Fatalf("map len = %d, %v", n, err)
	}
	var keys []string
	values := map[string]any{}
	for range n {
		k, err := dec.DecodeString()
		if err != nil {
			t.Fatal(err)
		}
		v, err := dec.DecodeInterface()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
		values[k] = v
	}
	if want := []string{"c", "t", "seq", "o", "p", "v"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys = %v, want %v", keys, want)
	}
	if values["seq"] != uint64(18446744073709551615) || values["o"] != int8(-5) || values["v"] != int8(1) {
		t.Fatalf("integers decoded as %#v %#v %#v", values["seq"], values["o"], values["v"])
	}
	p := values["p"].(map[string]any)
	if p["f"] != 1.5 || p["big"] != 1e300 || p["s"] != "é" {
		t.Fatalf("payload = %#v", p)
	}
}

func TestEncodeMsgpackRejectsInvalidJSON(t *testing.T) {
	t.Parallel()
	for _, in := range []string{``, `{`, `{"a":1} {}`, `{"a":1e999}`, `nul`} {
		if _, err := EncodeMsgpack([]byte(in)); !errors.Is(err, ErrInvalid) {
			t.Errorf("EncodeMsgpack(%q) err = %v, want ErrInvalid", in, err)
		}
	}
}

func TestEncodeMsgpackOfEventDecodesBack(t *testing.T) {
	t.Parallel()
	env, err := Event(map[string]any{"t": "price", "p": map[string]any{"v": 2.0}}, 9, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	packed, err := EncodeMsgpack(env)
	if err != nil {
		t.Fatal(err)
	}
	in, err := ClassifyBinary(packed, true, 1<<20)
	if err != nil || in.Kind != KindMsg {
		t.Fatalf("got %v, %v", in.Kind, err)
	}
	if want := ClassifyText(env); !reflect.DeepEqual(in.Msg, want.Msg) {
		t.Fatalf("msgpack gives %#v, text gives %#v", in.Msg, want.Msg)
	}
}
