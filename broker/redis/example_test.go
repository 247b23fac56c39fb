package redis_test

import (
	"log"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/broker/redis"
)

// Every node of the cluster runs the same code against the same Redis: a
// publication on any node reaches every node's subscribers, and a client
// recovers on whichever node it reconnects to.
func Example() {
	b, err := redis.New(redis.Config{URL: "redis://127.0.0.1:6379"})
	if err != nil {
		log.Fatal(err)
	}
	srv, err := wse.NewServer(wse.Config{
		Broker:   b,
		Recovery: wse.RecoveryConfig{Enabled: true},
		Presence: wse.PresenceConfig{Enabled: true},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil { // fails when Redis is unreachable
		log.Fatal(err)
	}
	defer srv.Stop()
	if _, err := srv.Broadcast("prices", `{"t":"tick","p":{"px":101.5}}`); err != nil {
		log.Print(err) // wraps wse.ErrBroker: only this node's subscribers got it
	}
}
