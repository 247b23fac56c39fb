package bridge

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/wse-go/wse"
)

// ErrBadHandle reports a handle that was never issued or was released.
var ErrBadHandle = errors.New("wse_server: server handle is closed")

// Handle is one WSEServer of the Python side.
type Handle struct {
	srv *wse.Server
	// bufs recycles drain buffers between calls.
	bufs sync.Pool
}

var (
	handlesMu sync.RWMutex
	handles   = map[int64]*Handle{}
	lastID    atomic.Int64
)

// New creates a server from the JSON of its options and returns its handle.
func New(optsJSON []byte) (int64, error) {
	var o Options
	if err := decodeArgs(optsJSON, &o); err != nil {
		return 0, &ConfigError{Keyword: "options", Reason: err.Error()}
	}
	srv, err := newServer(o)
	if err != nil {
		return 0, err
	}
	id := lastID.Add(1)
	handlesMu.Lock()
	handles[id] = &Handle{srv: srv}
	handlesMu.Unlock()
	return id, nil
}

// Get returns the server of handle id.
func Get(id int64) (*Handle, error) {
	handlesMu.RLock()
	h := handles[id]
	handlesMu.RUnlock()
	if h == nil {
		return nil, ErrBadHandle
	}
	return h, nil
}

// Release stops the server of handle id and forgets the handle.
func Release(id int64) {
	handlesMu.Lock()
	h := handles[id]
	delete(handles, id)
	handlesMu.Unlock()
	if h != nil {
		h.srv.Stop()
	}
}

// Server returns the engine behind the handle.
func (h *Handle) Server() *wse.Server { return h.srv }

// Drain waits up to timeoutMS for events and returns at most max of them
// encoded by EncodeBatch, or nil when none came. Give the buffer back with
// Recycle once its bytes have been copied out.
func (h *Handle) Drain(max, timeoutMS int) (buf []byte, n int) {
	if max <= 0 {
		return nil, 0
	}
	evs := h.srv.DrainInbound(max, msDuration(timeoutMS))
	if len(evs) == 0 {
		return nil, 0
	}
	var b []byte
	if p, ok := h.bufs.Get().(*[]byte); ok {
		b = *p
	}
	return EncodeBatch(b, evs), len(evs)
}

// Recycle gives a buffer returned by Drain back for reuse.
func (h *Handle) Recycle(buf []byte) {
	if cap(buf) <= 4<<20 {
		h.bufs.Put(&buf)
	}
}

// Broadcast publishes text to topic (BroadcastLocal when local). As with the
// original, publishing on a server that is not running does nothing.
func (h *Handle) Broadcast(topic, text string, local bool) error {
	var err error
	if local {
		_, err = h.srv.BroadcastLocal(topic, text)
	} else {
		_, err = h.srv.Broadcast(topic, text)
	}
	if errors.Is(err, wse.ErrServerStopped) {
		return nil
	}
	return err
}

// BroadcastAll sends data to every connection, as text or binary.
func (h *Handle) BroadcastAll(data []byte, binary bool) {
	if binary {
		h.srv.BroadcastAllBytes(data)
	} else {
		h.srv.BroadcastAll(string(data))
	}
}

// Send sends data to one connection, as text or binary. An unknown or
// closed connection, a stopped server and a full outbound queue (counted
// by the engine as a slow-consumer drop) are ignored, as with the original.
func (h *Handle) Send(connID string, data []byte, binary bool) error {
	var err error
	if binary {
		err = h.srv.SendBytes(connID, data)
	} else {
		err = h.srv.Send(connID, string(data))
	}
	return ignoreGone(err)
}

// ignoreGone drops the errors the original does not raise for a connection
// that is gone or a message that was shed.
func ignoreGone(err error) error {
	if errors.Is(err, wse.ErrUnknownConnection) || errors.Is(err, wse.ErrServerStopped) || errors.Is(err, wse.ErrQueueFull) {
		return nil
	}
	return err
}

// Error kinds, the Python exception each error becomes.
const (
	KindRuntime = 1 // RuntimeError
	KindValue   = 2 // ValueError
	KindType    = 3 // TypeError
)

// ArgError is a bad argument to a method: ValueError on the Python side.
type ArgError struct{ Msg string }

func (e *ArgError) Error() string { return e.Msg }

// Kind returns the Python exception kind of err.
func Kind(err error) int {
	var ce *ConfigError
	var ae *ArgError
	switch {
	case errors.As(err, &ce), errors.As(err, &ae), errors.Is(err, wse.ErrInvalidTopic),
		errors.Is(err, wse.ErrInvalidEvent), errors.Is(err, wse.ErrInvalidPresenceData),
		errors.Is(err, wse.ErrInvalidCloseCode):
		return KindValue
	}
	return KindRuntime
}

// Panicked wraps a recovered panic value as an error.
func Panicked(v any) error {
	return fmt.Errorf("wse_server: internal error in the Go library: %v", v)
}
