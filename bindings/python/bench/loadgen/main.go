// Command loadgen opens WebSocket clients against a WSE server for the
// binding's benchmark (bench.py): every client authenticates with its own
// HS256 token, then sends -msgs JSON messages of -size bytes as fast as it
// can, and reads and discards whatever the server sends. It prints "ready"
// once every client is connected and "sent N" once every message is
// written, then holds the connections until stdin closes or -hold passes.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/wse-go/wse/auth"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5007", "server host:port")
	path := flag.String("path", "/wse", "WebSocket path")
	clients := flag.Int("n", 1000, "clients")
	msgs := flag.Int("msgs", 0, "messages each client sends")
	size := flag.Int("size", 100, "bytes per message (JSON)")
	secret := flag.String("secret", "", "HS256 secret of the server")
	hold := flag.Duration("hold", 5*time.Minute, "longest time connections are held")
	flag.Parse()
	if *clients < 1 || *clients > 10000 || *msgs < 0 || *msgs > 100000 || *size < 32 {
		log.Fatal("loadgen: -n 1..10000, -msgs 0..100000, -size >= 32")
	}

	conns := make([]net.Conn, *clients)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	var failed atomic.Int64
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dial(*addr, *path, *secret, fmt.Sprintf("bench-%d", i))
			if err != nil {
				failed.Add(1)
				log.Printf("loadgen: client %d: %v", i, err)
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		log.Fatalf("loadgen: %d clients failed to connect", failed.Load())
	}
	for _, c := range conns {
		go func() { _, _ = io.Copy(io.Discard, c) }()
	}
	fmt.Println("ready")

	if *msgs > 0 {
		batch := frames(*size, 16)
		var sent atomic.Int64
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				left := *msgs
				for left > 0 {
					k := min(left, 16)
					if _, err := c.Write(batch[:k*len(batch)/16]); err != nil {
						log.Printf("loadgen: write: %v", err)
						return
					}
					left -= k
					sent.Add(int64(k))
				}
			}()
		}
		wg.Wait()
		fmt.Println("sent", sent.Load())
	}

	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(*hold):
	}
	for _, c := range conns {
		_ = c.Close()
	}
}

// dial upgrades one client with a token for user.
func dial(addr, path, secret, user string) (net.Conn, error) {
	header := http.Header{}
	if secret != "" {
		now := time.Now()
		tok, err := auth.EncodeHS256(map[string]any{"sub": user, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}, []byte(secret))
		if err != nil {
			return nil, fmt.Errorf("token: %w", err)
		}
		header.Set("Authorization", "Bearer "+tok)
	}
	d := ws.Dialer{Header: ws.HandshakeHeaderHTTP(header), Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, br, _, err := d.Dial(ctx, "ws://"+addr+path)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	if br != nil {
		ws.PutReader(br)
	}
	return c, nil
}

// frames returns n masked text frames of a size-byte JSON message,
// back to back, ready for one write.
func frames(size, n int) []byte {
	head := `{"t":"bench","p":{"b":"`
	tail := `"}}`
	msg := head + strings.Repeat("x", size-len(head)-len(tail)) + tail
	var out []byte
	for range n {
		f := ws.NewTextFrame([]byte(msg))
		f = ws.MaskFrameInPlace(f)
		b, err := ws.CompileFrame(f)
		if err != nil {
			log.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}
