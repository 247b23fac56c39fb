package protocol

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// readVectors decodes ../testdata/vectors/<name> into v.
func readVectors(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "vectors", name))
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
}

type inboundVector struct {
	Name    string `json:"name"`
	Frame   string `json:"frame"`
	Data    string `json:"data"`
	DataB64 string `json:"data_b64"`
	Expect  struct {
		Event       string         `json:"event"`
		Data        any            `json:"data"`
		DataB64     string         `json:"data_b64"`
		Reply       string         `json:"reply"`
		ReplyPrefix string         `json:"reply_prefix"`
		ReplyP      map[string]any `json:"reply_p"`
	} `json:"expect"`
}

func TestVectorsInboundClassifiesEveryCase(t *testing.T) {
	t.Parallel()
	var file struct {
		Cases []inboundVector `json:"cases"`
	}
	readVectors(t, "inbound.json", &file)
	if len(file.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, tc := range file.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			var results []Inbound
			switch tc.Frame {
			case "text":
				results = append(results, ClassifyText([]byte(tc.Data)))
			case "binary":
				data, err := base64.StdEncoding.DecodeString(tc.DataB64)
				if err != nil {
					t.Fatalf("data_b64: %v", err)
				}
				// Both kinds of connection must agree on these cases.
				for _, msgpack := range []bool{false, true} {
					in, err := ClassifyBinary(data, msgpack, 1<<20)
					if err != nil {
						t.Fatalf("ClassifyBinary(msgpack=%v): %v", msgpack, err)
					}
					results = append(results, in)
				}
			default:
				t.Fatalf("unknown frame %q", tc.Frame)
			}
			for _, in := range results {
				checkInboundVector(t, tc, in)
			}
		})
	}
}

func checkInboundVector(t *testing.T, tc inboundVector, in Inbound) {
	t.Helper()
	switch tc.Expect.Event {
	case "msg":
		if in.Kind != KindMsg {
			t.Fatalf("kind = %v, want msg", in.Kind)
		}
		if !reflect.DeepEqual(in.Msg, tc.Expect.Data) {
			t.Fatalf("msg = %#v, want %#v", in.Msg, tc.Expect.Data)
		}
	case "raw":
		if in.Kind != KindRaw || in.Raw != tc.Expect.Data {
			t.Fatalf("got %v %q, want raw %q", in.Kind, in.Raw, tc.Expect.Data)
		}
	case "bin":
		want, err := base64.StdEncoding.DecodeString(tc.Expect.DataB64)
		if err != nil {
			t.Fatalf("expect data_b64: %v", err)
		}
		if in.Kind != KindBin || !bytes.Equal(in.Bin, want) {
			t.Fatalf("got %v %x, want bin %x", in.Kind, in.Bin, want)
		}
	case "swallowed":
		if in.Kind != KindPong {
			t.Fatalf("kind = %v, want pong (swallowed)", in.Kind)
		}
	case "msgs":
		if in.Kind != KindBatch {
			t.Fatalf("kind = %v, want batch", in.Kind)
		}
		got := make([]any, len(in.Msgs))
		for i, m := range in.Msgs {
			got[i] = m
		}
		if !reflect.DeepEqual(got, tc.Expect.Data) {
			t.Fatalf("msgs = %#v, want %#v", got, tc.Expect.Data)
		}
	case "native":
		checkNativeVector(t, tc, in)
	default:
		t.Fatalf("unknown expected event %q", tc.Expect.Event)
	}
}

func checkNativeVector(t *testing.T, tc inboundVector, in Inbound) {
	t.Helper()
	switch tc.Expect.Reply {
	case "PONG":
		if in.Kind != KindPing {
			t.Fatalf("kind = %v, want ping", in.Kind)
		}
		reply := Pong(in.PingTimestamp, time.Now())
		if !bytes.HasPrefix(reply, []byte(tc.Expect.ReplyPrefix)) {
			t.Fatalf("reply %s lacks prefix %s", reply, tc.Expect.ReplyPrefix)
		}
		var msg struct {
			P map[string]any `json:"p"`
		}
		if err := json.Unmarshal(reply, &msg); err != nil {
			t.Fatalf("reply is not JSON: %v", err)
		}
		for k, want := range tc.Expect.ReplyP {
			if msg.P[k] != want {
				t.Fatalf("reply p.%s = %v, want %v", k, msg.P[k], want)
			}
		}
	case "server_hello":
		if in.Kind != KindClientHello || in.Msg["t"] != TypeClientHello {
			t.Fatalf("got %v %v, want client_hello", in.Kind, in.Msg)
		}
	case "subscription_update":
		if in.Kind != KindSubscription || in.Msg["p"] == nil {
			t.Fatalf("got %v %v, want subscription", in.Kind, in.Msg)
		}
	default:
		t.Fatalf("unknown reply %q", tc.Expect.Reply)
	}
}

func TestVectorsCategoryMatchesEveryType(t *testing.T) {
	t.Parallel()
	var file struct {
		Cases map[string]string `json:"cases"`
	}
	readVectors(t, "category.json", &file)
	if len(file.Cases) == 0 {
		t.Fatal("no cases")
	}
	for typ, want := range file.Cases {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			if got := Category(typ); got != want {
				t.Fatalf("Category(%q) = %q, want %q", typ, got, want)
			}
			if got := categoryOf([]byte(typ)); got != want {
				t.Fatalf("categoryOf(%q) = %q, want %q", typ, got, want)
			}
		})
	}
}

func TestVectorsInjectCategoryMatchesEveryCase(t *testing.T) {
	t.Parallel()
	var file struct {
		Cases []struct {
			In  string `json:"in"`
			Out string `json:"out"`
		} `json:"cases"`
	}
	readVectors(t, "inject.json", &file)
	if len(file.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, tc := range file.Cases {
		t.Run(tc.In, func(t *testing.T) {
			t.Parallel()
			in := []byte(tc.In)
			got := InjectCategory(in)
			if string(got) != tc.Out {
				t.Fatalf("InjectCategory(%s) = %s, want %s", tc.In, got, tc.Out)
			}
			if tc.In == tc.Out && &got[0] != &in[0] {
				t.Fatal("unchanged text was copied")
			}
		})
	}
}

func TestVectorsStampMatchesEveryCase(t *testing.T) {
	t.Parallel()
	var file struct {
		Cases []struct {
			Topic  string `json:"topic"`
			Epoch  string `json:"epoch"`
			Offset uint64 `json:"offset"`
			In     string `json:"in"`
			Out    string `json:"out"`
		} `json:"cases"`
	}
	readVectors(t, "stamp.json", &file)
	if len(file.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, tc := range file.Cases {
		t.Run(tc.In, func(t *testing.T) {
			t.Parallel()
			got, ok := Stamp([]byte(tc.In), tc.Topic, tc.Epoch, tc.Offset)
			if string(got) != tc.Out {
				t.Fatalf("Stamp(%s) = %s, want %s", tc.In, got, tc.Out)
			}
			if wantOK := tc.In != tc.Out; ok != wantOK {
				t.Fatalf("ok = %v, want %v", ok, wantOK)
			}
		})
	}
}

func TestVectorsTagTopicMatchesEveryCase(t *testing.T) {
	t.Parallel()
	var file struct {
		Cases []struct {
			Topic string `json:"topic"`
			In    string `json:"in"`
			Out   string `json:"out"`
		} `json:"cases"`
	}
	readVectors(t, "topic.json", &file)
	if len(file.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, tc := range file.Cases {
		t.Run(tc.In, func(t *testing.T) {
			t.Parallel()
			in := []byte(tc.In)
			got, ok := TagTopic(in, tc.Topic)
			if string(got) != tc.Out {
				t.Fatalf("TagTopic(%s) = %s, want %s", tc.In, got, tc.Out)
			}
			if wantOK := tc.In != tc.Out; ok != wantOK {
				t.Fatalf("ok = %v, want %v", ok, wantOK)
			}
			if !ok && &got[0] != &in[0] {
				t.Fatal("unchanged text was copied")
			}
		})
	}
}
