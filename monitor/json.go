package monitor

import (
	"encoding/json"
	"net/http"
)

// Error codes used in JSON error bodies by this package.
const (
	// CodeNotFound is the code of a request for an unknown path.
	CodeNotFound = "NOT_FOUND"
	// CodeMethodNotAllowed is the code of a request with the wrong method.
	CodeMethodNotAllowed = "METHOD_NOT_ALLOWED"
	// CodeInvalidTopic is the code of a request naming an invalid topic.
	CodeInvalidTopic = "INVALID_TOPIC"
	// CodePresenceDisabled is the code of a presence query on a server
	// without presence.
	CodePresenceDisabled = "PRESENCE_DISABLED"
)

// ErrorBody is the JSON body of every error response:
// {"error":{"code":…,"message":…}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the code and message of an error response.
type ErrorDetail struct {
	// Code is a stable upper-case identifier such as "INVALID_TOPIC".
	Code string `json:"code"`
	// Message is a human-readable explanation.
	Message string `json:"message"`
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"INTERNAL","message":"response not encodable"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// WriteError writes the JSON error body with the given status, code and
// message.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	WriteJSON(w, status, ErrorBody{Error: ErrorDetail{Code: code, Message: message}})
}

// Allow returns a handler that runs h for requests with method and answers
// any other method with a JSON 405 and an Allow header.
func Allow(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			WriteError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" not allowed, use "+method)
			return
		}
		h(w, r)
	}
}

// NotFound answers every request with a JSON 404.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, http.StatusNotFound, CodeNotFound, "no such endpoint: "+r.URL.Path)
}
