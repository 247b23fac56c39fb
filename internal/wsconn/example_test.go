package wsconn_test

import (
	"log"
	"net/http"

	"github.com/wse-go/wse/internal/wsconn"
)

// echo is a Handler sending every message back.
type echo struct{}

func (echo) OnMessage(c *wsconn.Conn, op wsconn.Opcode, data []byte) {
	// BuildFrame copies data, which is only valid during the call.
	_ = c.Enqueue(wsconn.BuildFrame(op, data))
}

func (echo) OnClose(c *wsconn.Conn, code int, reason string) {}

// Example shows the intended use: upgrade with net/http, then hand the
// connection to an Engine.
func Example() {
	e, err := wsconn.NewEngine(wsconn.Config{})
	if err != nil {
		log.Fatal(err)
	}
	if err := e.Start(); err != nil {
		log.Fatal(err)
	}
	defer e.Stop()
	ready := wsconn.BuildFrame(wsconn.OpText, []byte(`{"t":"server_ready"}`)) // built once, shared
	http.HandleFunc("/wse", func(w http.ResponseWriter, r *http.Request) {
		// Authenticate and check the origin here, before upgrading.
		nc, buffered, err := wsconn.Upgrade(w, r)
		if err != nil {
			return // an HTTP error was written
		}
		if _, err := e.Adopt(nc, echo{}, wsconn.AdoptOptions{Buffered: buffered, Initial: ready}); err != nil {
			log.Print(err)
		}
		// Return at once: the handler goroutine and its buffers go away.
	})
}
