package wse_test

import (
	"log"
	"time"

	"github.com/wse-go/wse"
)

// Example is the README quick start: an authenticated server that subscribes
// every connection to "notifications" and publishes to it.
func Example() {
	srv, err := wse.NewServer(wse.Config{
		Host: "127.0.0.1", Port: 5007, MaxConnections: 10_000,
		JWT: wse.JWTConfig{Secret: []byte("change-me-to-32-or-more-bytes!!!"), Issuer: "my-app", Audience: "my-api"},
	})
	if err != nil {
		log.Fatal(err)
	}
	srv.EnableDrainMode()
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()

	for range 3 { // a real application loops until shutdown
		for _, ev := range srv.DrainInbound(256, 50*time.Millisecond) {
			switch ev.Type {
			case wse.EventAuthConnect:
				_ = srv.Subscribe(ev.ConnID, []string{"notifications"}, nil)
			case wse.EventMessage:
				log.Printf("%s sent %v", ev.ConnID, ev.Message)
			}
		}
		_, _ = srv.Broadcast("notifications", `{"t":"notice","p":{"text":"hi"}}`)
	}
}
