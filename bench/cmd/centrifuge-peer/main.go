// Command centrifuge-peer is the benchmark's peer: a server built on
// github.com/centrifugal/centrifuge (v0.40.1), configured as close to
// wse-server as the library allows. JSON protocol; connect is anonymous, or
// verified against an HS256 JWT (-jwt-secret, the token of the connect
// command) like wse-server's --jwt-secret; clients may subscribe to any
// channel (-subscribe-on-connect subscribes them server-side instead); the
// per-client queue limit is wse-server's 16 MiB (Centrifuge's default is
// 1 MiB); app-level pings every 25 s, as wse-server. RPC method "echo"
// returns its data (the p2p scenario).
//
// Endpoints: GET /connection/websocket, POST /api/publish (body = message
// data, ?channel= defaults to "bench"; answers after Node.Publish returned,
// that is after the message is in every subscriber's queue), GET /stats
// (?gc=1 forces a GC first). It listens on loopback only and exits by itself
// after -maxtime.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/centrifugal/centrifuge"
	"github.com/golang-jwt/jwt/v5"

	"github.com/wse-go/wse/bench/internal/peerserver"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:19200", "listen address (loopback only)")
	maxtime := flag.Duration("maxtime", 10*time.Minute, "exit after this long, whatever happens")
	secret := flag.String("jwt-secret", "", "HS256 secret; connect commands must carry a valid token (empty: anonymous connect)")
	onConnect := flag.String("subscribe-on-connect", "", "channel every client is subscribed to server-side (empty: clients subscribe)")
	queue := flag.Int("queue-max-size", 16<<20, "per-client queue limit in bytes (ClientQueueMaxSize)")
	writeDelay := flag.Duration("write-delay", 0, "ConnectReply.WriteDelay: collect a connection's messages this long before writing (0 = off)")
	flag.Parse()
	peerserver.Guard("centrifuge-peer", *addr, *maxtime, os.Exit)
	node, err := newNode(*secret, *onConnect, *queue, *writeDelay)
	if err != nil {
		fmt.Fprintf(os.Stderr, "centrifuge-peer: %v\n", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /connection/websocket", centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{}))
	mux.HandleFunc("POST /api/publish", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ch := r.URL.Query().Get("channel")
		if ch == "" {
			ch = "bench"
		}
		if _, err := node.Publish(ch, body); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"delivered":%d}`, node.Hub().NumSubscribers(ch))
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		peerserver.WriteStats(w, r, node.Hub().NumClients(), node.Hub().NumSubscribers("bench"))
	})
	banner := func(a net.Addr) string {
		return fmt.Sprintf("centrifuge-peer: ws://%s/connection/websocket, publish http://%s/api/publish", a, a)
	}
	if err := peerserver.Serve("centrifuge-peer", *addr, mux, banner, os.Exit); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// newNode builds and runs the Centrifuge node.
func newNode(secret, onConnect string, queue int, writeDelay time.Duration) (*centrifuge.Node, error) {
	node, err := centrifuge.New(centrifuge.Config{
		LogLevel:           centrifuge.LogLevelError,
		LogHandler:         func(e centrifuge.LogEntry) { fmt.Fprintf(os.Stderr, "centrifuge-peer: %s %v\n", e.Message, e.Fields) },
		ClientQueueMaxSize: queue,
	})
	if err != nil {
		return nil, err
	}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithLeeway(30*time.Second))
	key := func(*jwt.Token) (any, error) { return []byte(secret), nil }
	node.OnConnecting(func(_ context.Context, e centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		cred := &centrifuge.Credentials{}
		if secret != "" {
			tok, err := parser.Parse(e.Token, key)
			if err != nil {
				return centrifuge.ConnectReply{}, centrifuge.DisconnectInvalidToken
			}
			sub, err := tok.Claims.GetSubject()
			if err != nil || sub == "" {
				return centrifuge.ConnectReply{}, centrifuge.DisconnectInvalidToken
			}
			cred.UserID = sub
		}
		reply := centrifuge.ConnectReply{Credentials: cred, WriteDelay: writeDelay}
		if onConnect != "" {
			reply.Subscriptions = map[string]centrifuge.SubscribeOptions{onConnect: {}}
		}
		return reply, nil
	})
	node.OnConnect(func(c *centrifuge.Client) {
		c.OnSubscribe(func(_ centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			cb(centrifuge.SubscribeReply{}, nil)
		})
		c.OnRPC(func(e centrifuge.RPCEvent, cb centrifuge.RPCCallback) {
			if e.Method != "echo" {
				cb(centrifuge.RPCReply{}, centrifuge.ErrorMethodNotFound)
				return
			}
			cb(centrifuge.RPCReply{Data: e.Data}, nil)
		})
	})
	if err := node.Run(); err != nil {
		return nil, errors.Join(errors.New("run node"), err)
	}
	return node, nil
}
