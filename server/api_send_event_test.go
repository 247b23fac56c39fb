package server

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

func TestAPISendEventCompressesLongEvents(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	c := dial(t, srv, nil)
	id := c.connID()
	long := strings.Repeat("x", 4096)
	if status, body := call(t, srv, "POST", "/api/send", map[string]any{"conn_id": id, "event": true, "data": map[string]any{"t": "report", "p": map[string]any{"s": long}}}, ""); status != 200 || body["ok"] != true {
		t.Fatalf("send event = %d %v", status, body)
	}
	data, op, err := c.read()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if op != ws.OpBinary || !bytes.HasPrefix(data, []byte("C:")) {
		t.Fatalf("frame op=%v prefix=%q, want binary C:", op, data[:min(len(data), 8)])
	}
	zr, err := zlib.NewReader(bytes.NewReader(data[2:]))
	if err != nil {
		t.Fatalf("zlib: %v", err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(plain, &m); err != nil || m["t"] != "report" || m["c"] != "U" || m["id"] == nil {
		t.Fatalf("event = %s (%v)", plain, err)
	}
}

func TestAPISendEventRejectsNonObjectData(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	id := dial(t, srv, nil).connID()
	status, body := call(t, srv, "POST", "/api/send", `{"conn_id":"`+id+`","event":true,"data":"text"}`, "")
	if status != 400 || errorCode(body) != codeInvalidField {
		t.Fatalf("send event with string data = %d %v", status, body)
	}
}
