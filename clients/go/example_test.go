package wseclient_test

import (
	"context"
	"fmt"
	"time"

	wseclient "github.com/wse-go/wse/clients/go"
)

// A client that follows a topic, reloads its snapshot when messages were
// lost for good, and refreshes its token when the server refuses it.
func ExampleDial() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wseclient.Dial(ctx, "ws://127.0.0.1:5007/wse", wseclient.Options{
		Token:  "eyJ…",
		Topics: []string{"prices"},
		RefreshToken: func(ctx context.Context) (string, error) {
			return "a new token", nil // ask the identity provider
		},
		Handlers: map[string]wseclient.Handler{
			"tick": func(m wseclient.Message) {
				fmt.Println(m.Topic, m.Epoch, m.Offset, string(m.Payload))
			},
		},
		OnEvent: func(ev wseclient.Event) {
			if ev.Kind == wseclient.EventMissedData {
				fmt.Println("reload", ev.Topic, "lost", ev.From, "to", ev.To)
			}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if err := c.Send("chat", map[string]any{"text": "hello"}); err != nil {
		fmt.Println(err)
	}
}
