package wsconn

import (
	"fmt"
	"net"
	"net/http"

	"github.com/gobwas/ws"
)

// Upgrade performs the RFC 6455 server handshake on an HTTP request: it
// hijacks the connection and writes the 101 response. It returns the
// connection and a copy of any bytes the client sent past the handshake (pass
// both to Engine.Adopt). On failure it has written an HTTP error response,
// closed the connection, and returns an error wrapping ErrHandshake.
func Upgrade(w http.ResponseWriter, r *http.Request) (net.Conn, []byte, error) {
	nc, rw, _, err := ws.HTTPUpgrader{}.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			_ = nc.Close()
		}
		return nil, nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	var buffered []byte
	if n := rw.Reader.Buffered(); n > 0 {
		b, _ := rw.Reader.Peek(n)
		buffered = append([]byte(nil), b...)
	}
	return nc, buffered, nil
}
