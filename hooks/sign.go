package hooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of every hook request.
const (
	// HeaderHook names the hook: connect, subscribe, publish, rpc,
	// disconnect or presence_leave.
	HeaderHook = "X-WSE-Hook"
	// HeaderTimestamp is the request's Unix time in seconds.
	HeaderTimestamp = "X-WSE-Timestamp"
	// HeaderSignature is "v1=" and the hex HMAC-SHA256, keyed by the
	// shared secret, of the timestamp, a '.', and the body.
	HeaderSignature = "X-WSE-Signature"
	// DefaultReplayWindow is how far a timestamp may be from the
	// receiver's clock for VerifyRequest to accept it.
	DefaultReplayWindow = 5 * time.Minute
)

// signaturePrefix versions the signature scheme.
const signaturePrefix = "v1="

// Sign returns the HeaderSignature value for body sent at ts (Unix seconds).
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature and its timestamp against secret: the
// timestamp must be within window of now (DefaultReplayWindow when window
// is 0), and the signature must be Sign's for it. Errors wrap ErrSignature.
func Verify(secret []byte, timestamp, signature string, body []byte, window time.Duration, now time.Time) error {
	if window <= 0 {
		window = DefaultReplayWindow
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not Unix seconds", ErrSignature, timestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > window || d < -window {
		return fmt.Errorf("%w: timestamp %d is %s from now, outside the %s replay window", ErrSignature, ts, d.Round(time.Second), window)
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(strings.TrimSpace(signature))) {
		return fmt.Errorf("%w: signature does not match", ErrSignature)
	}
	return nil
}

// VerifyRequest reads r's body (at most maxBytes) and checks its signature
// headers, for Go backends and tests. It returns the body.
func VerifyRequest(r *http.Request, secret []byte, window time.Duration, maxBytes int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("hooks: read body: %w", err)
	}
	if int64(len(body)) > maxBytes {
		return nil, fmt.Errorf("hooks: body over %d bytes", maxBytes)
	}
	if err := Verify(secret, r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), body, window, time.Now()); err != nil {
		return nil, err
	}
	return body, nil
}
