package wseclient

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"github.com/wse-go/wse/internal/backoff"
)

// Defaults applied by Dial to zero Options fields.
const (
	// DefaultPingInterval is the default Options.PingInterval.
	DefaultPingInterval = 15 * time.Second
	// DefaultReadTimeout is the default Options.ReadTimeout.
	DefaultReadTimeout = 45 * time.Second
	// DefaultWriteTimeout is the default Options.WriteTimeout.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultConnectTimeout is the default Options.ConnectTimeout.
	DefaultConnectTimeout = 10 * time.Second
	// DefaultRecoveryTimeout is the default Options.RecoveryTimeout.
	DefaultRecoveryTimeout = 10 * time.Second
	// DefaultQueueSize is the default Options.QueueSize.
	DefaultQueueSize = 1024
)

// closeWait bounds the wait for the server's answer to the client's close
// frame.
const closeWait = time.Second

// refreshTimeout bounds a call of Options.RefreshToken.
const refreshTimeout = 30 * time.Second

// Handler handles one message. Handlers run one at a time, in arrival order,
// on the client's dispatcher goroutine.
type Handler func(Message)

// Options configures a Client. A zero field means the default named in its
// comment.
type Options struct {
	// Token is sent as "Authorization: Bearer <Token>". RefreshToken
	// replaces it after a 4401 close.
	Token string
	// Cookie is sent as the Cookie header, e.g. "access_token=…". The
	// server reads the access_token cookie before the Authorization header,
	// so a token that RefreshToken must be able to replace belongs in Token.
	Cookie string
	// Header holds extra handshake headers.
	Header http.Header
	// Topics are subscribed as soon as the first connection is ready; Dial
	// returns after the server replied. Refused topics are reported by an
	// EventSubscribeFailed.
	Topics []string
	// MsgPack asks the server for MessagePack send_event frames
	// (format=msgpack in the URL).
	MsgPack bool
	// Encryption asks for end-to-end encryption on every connection: a
	// fresh ECDH P-256 key pair per connection, its public key in
	// client_hello, the AES-256-GCM key derived from server_hello's. The
	// connection becomes ready (EventConnected, Dial returns) only after
	// server_hello. On an encrypted connection the server's messages come
	// as "E:" binary frames, which the client opens before decoding, and
	// Send and the client's subscription requests are sealed the same way
	// (pings and PONGs stay plaintext). A server with encryption disabled,
	// or one that refuses the key, leaves the connection in plaintext: the
	// client reports EventEncryptionRefused and goes on; Client.Encrypted
	// tells which case holds. A client that must not talk in plaintext
	// closes itself on that event.
	Encryption bool
	// Reconnect configures reconnection.
	Reconnect Reconnect
	// WaitForServer makes Dial retry, with the Reconnect backoff, while the
	// server cannot be reached or does not answer (network errors, HTTP
	// refusals such as 503 while it drains, no server_ready), until ctx
	// ends or Reconnect.MaxAttempts attempts failed: for a service that may
	// start before its WSE server. A close code (4401, 4403, …) still ends
	// Dial at once. Without it Dial makes one attempt.
	WaitForServer bool
	// RefreshToken, when set, is called after the server closed with 4401
	// (token refused or expired), also during Dial; the token it returns
	// replaces Token and the client reconnects. A call may take up to 30s;
	// an error stops the client with ErrAuthFailed. Without it, 4401 stops
	// the client.
	RefreshToken func(ctx context.Context) (string, error)
	// Handlers are message handlers by type, registered before the first
	// message can arrive (see Client.On).
	Handlers map[string]Handler
	// OnMessage, when set, receives every message after the handlers of its
	// type and before those added with Client.OnAny.
	OnMessage Handler
	// OnEvent, when set, receives every event before the handlers added
	// with Client.OnEvent.
	OnEvent func(Event)
	// MessageBuffer, when positive, enables Client.Messages with that
	// capacity: every message is also sent there after its handlers ran.
	MessageBuffer int
	// EventBuffer, when positive, enables Client.Events with that capacity.
	EventBuffer int
	// DisableRecovery stops the client from asking for replays: gaps are
	// reported by EventMissedData and delivery goes on.
	DisableRecovery bool
	// PingInterval is the period of the client's pings (default 15s;
	// negative: no pings).
	PingInterval time.Duration
	// ReadTimeout ends a connection that received nothing for that long
	// (default 45s); the server pings every 25s and answers client pings.
	ReadTimeout time.Duration
	// WriteTimeout bounds every frame write (default 10s).
	WriteTimeout time.Duration
	// ConnectTimeout bounds dialing, the upgrade and the wait for
	// server_ready, and for server_hello with Encryption (default 10s).
	ConnectTimeout time.Duration
	// RecoveryTimeout is how long a recovery request may go unanswered
	// before it is repeated (default 10s).
	RecoveryTimeout time.Duration
	// MaxMessageSize bounds an inbound message, after decompression
	// (default DefaultMaxMessageSize, 16 MiB).
	MaxMessageSize int64
	// QueueSize is the capacity of the queue between the reader and the
	// dispatcher (default 1024). When it is full the reader waits, and the
	// server eventually drops the connection as a slow consumer (4429).
	QueueSize int
	// NetDial, when set, opens the TCP connections.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSConfig is used for wss:// URLs.
	TLSConfig *tls.Config
}

// Reconnect configures reconnection after a connection ends.
type Reconnect struct {
	// Disabled stops the client when its connection ends.
	Disabled bool
	// Base is the delay before the first attempt (default 1s).
	Base time.Duration
	// Factor multiplies the delay after every failed attempt (default 1.5).
	Factor float64
	// Max caps the delay (default 30s).
	Max time.Duration
	// Jitter is the largest fraction a delay is shortened by at random
	// (default 0.2; negative: none).
	Jitter float64
	// MaxAttempts stops the client with ErrGaveUp after that many failed
	// attempts in a row (0: unlimited).
	MaxAttempts int
}

// policy returns the backoff policy of r.
func (r Reconnect) policy() backoff.Policy {
	return backoff.Policy{Base: r.Base, Factor: r.Factor, Max: r.Max, Jitter: r.Jitter}
}

// withDefaults returns o with the defaults applied.
func (o Options) withDefaults() Options {
	if o.PingInterval == 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.RecoveryTimeout <= 0 {
		o.RecoveryTimeout = DefaultRecoveryTimeout
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	return o
}
