// Command capi is the C ABI of the Python binding, built with
// go build -buildmode=c-shared into libwse.so, which wse_server loads with
// ctypes.
//
// Conventions: servers are integer handles, never Go pointers. Functions
// return an int64; a negative value -T is an error whose message and kind
// the caller takes once with wse_take_error(T), so that concurrent callers
// never share an error slot. Buffers the library returns are malloc'ed and
// given back with wse_free. Every export recovers panics into an error.
package main

/*
#include <stdlib.h>
#include <stdint.h>
*/
import "C"

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/wse-go/wse/bindings/python/bridge"
)

func main() {}

// pendingError is an error waiting for wse_take_error.
type pendingError struct {
	kind int
	msg  string
}

var (
	errMu     sync.Mutex
	errs      = map[int64]pendingError{}
	lastToken atomic.Int64
)

// fail records err and returns the negative token the caller returns.
func fail(err error) C.int64_t {
	t := lastToken.Add(1)
	errMu.Lock()
	errs[t] = pendingError{kind: bridge.Kind(err), msg: err.Error()}
	errMu.Unlock()
	return C.int64_t(-t)
}

// guard turns a panic into an error result; use as defer guard(&rc).
func guard(rc *C.int64_t) {
	if v := recover(); v != nil {
		*rc = fail(bridge.Panicked(v))
	}
}

func goBytes(p *C.char, n C.size_t) []byte { return C.GoBytes(unsafe.Pointer(p), C.int(n)) }

func goString(p *C.char, n C.size_t) string { return C.GoStringN(p, C.int(n)) }

// output copies b into a malloc'ed buffer for the caller.
func output(b []byte, out **C.char, outLen *C.size_t) {
	*out = (*C.char)(C.CBytes(b))
	*outLen = C.size_t(len(b))
}

// outputJSON encodes v as JSON into a malloc'ed buffer for the caller.
func outputJSON(v any, out **C.char, outLen *C.size_t) C.int64_t {
	b, err := json.Marshal(v)
	if err != nil {
		return fail(err)
	}
	output(b, out, outLen)
	return 0
}

//export wse_take_error
func wse_take_error(token C.int64_t, out **C.char, outLen *C.size_t) C.int {
	errMu.Lock()
	e, ok := errs[int64(token)]
	delete(errs, int64(token))
	errMu.Unlock()
	if !ok {
		e = pendingError{kind: bridge.KindRuntime, msg: "wse_server: unknown error token"}
	}
	output([]byte(e.msg), out, outLen)
	return C.int(e.kind)
}

//export wse_free
func wse_free(p *C.char) { C.free(unsafe.Pointer(p)) }

//export wse_new
func wse_new(opts *C.char, n C.size_t) (rc C.int64_t) {
	defer guard(&rc)
	id, err := bridge.New(goBytes(opts, n))
	if err != nil {
		return fail(err)
	}
	return C.int64_t(id)
}

//export wse_release
func wse_release(h C.int64_t) (rc C.int64_t) {
	defer guard(&rc)
	bridge.Release(int64(h))
	return 0
}

//export wse_call
func wse_call(h C.int64_t, method *C.char, mlen C.size_t, args *C.char, alen C.size_t, out **C.char, outLen *C.size_t) (rc C.int64_t) {
	defer guard(&rc)
	var res any
	var err error
	if h == 0 {
		res, err = bridge.CallModule(goString(method, mlen), goBytes(args, alen))
	} else {
		var hd *bridge.Handle
		if hd, err = bridge.Get(int64(h)); err == nil {
			res, err = hd.Call(goString(method, mlen), goBytes(args, alen))
		}
	}
	if err != nil {
		return fail(err)
	}
	return outputJSON(res, out, outLen)
}

//export wse_drain
func wse_drain(h C.int64_t, max C.int, timeoutMS C.int, out **C.char, outLen *C.size_t) (rc C.int64_t) {
	defer guard(&rc)
	hd, err := bridge.Get(int64(h))
	if err != nil {
		return fail(err)
	}
	buf, n := hd.Drain(int(max), int(timeoutMS))
	if n == 0 {
		return 0
	}
	output(buf, out, outLen)
	hd.Recycle(buf)
	return C.int64_t(n)
}

//export wse_broadcast
func wse_broadcast(h C.int64_t, topic *C.char, tlen C.size_t, text *C.char, n C.size_t, local C.int) (rc C.int64_t) {
	defer guard(&rc)
	hd, err := bridge.Get(int64(h))
	if err == nil {
		err = hd.Broadcast(goString(topic, tlen), goString(text, n), local != 0)
	}
	if err != nil {
		return fail(err)
	}
	return 0
}

//export wse_broadcast_all
func wse_broadcast_all(h C.int64_t, data *C.char, n C.size_t, binary C.int) (rc C.int64_t) {
	defer guard(&rc)
	hd, err := bridge.Get(int64(h))
	if err != nil {
		return fail(err)
	}
	hd.BroadcastAll(goBytes(data, n), binary != 0)
	return 0
}

//export wse_send
func wse_send(h C.int64_t, connID *C.char, idLen C.size_t, data *C.char, n C.size_t, binary C.int) (rc C.int64_t) {
	defer guard(&rc)
	hd, err := bridge.Get(int64(h))
	if err == nil {
		err = hd.Send(goString(connID, idLen), goBytes(data, n), binary != 0)
	}
	if err != nil {
		return fail(err)
	}
	return 0
}

//export wse_connection_count
func wse_connection_count(h C.int64_t) (rc C.int64_t) {
	defer guard(&rc)
	hd, err := bridge.Get(int64(h))
	if err != nil {
		return fail(err)
	}
	return C.int64_t(hd.Server().ConnectionCount())
}

//export wse_is_running
func wse_is_running(h C.int64_t) (rc C.int64_t) {
	defer guard(&rc)
	hd, err := bridge.Get(int64(h))
	if err != nil {
		return fail(err)
	}
	if hd.Server().IsRunning() {
		return 1
	}
	return 0
}

//export wse_inbound_queue_depth
func wse_inbound_queue_depth(h C.int64_t) (rc C.int64_t) {
	defer guard(&rc)
	hd, err := bridge.Get(int64(h))
	if err != nil {
		return fail(err)
	}
	return C.int64_t(hd.Server().InboundQueueDepth())
}
