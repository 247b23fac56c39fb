package server

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
)

//go:embed demo/index.html
var demoSource string

// demoPage is the demo page template; it receives the WebSocket path and the
// JWT cookie name.
var demoPage = template.Must(template.New("demo").Parse(demoSource))

// demoHandler returns the handler that serves the demo page at / and a 404
// on every other path.
func demoHandler(path, cookieName string) (http.Handler, error) {
	var page bytes.Buffer
	if err := demoPage.Execute(&page, struct{ Path, CookieName string }{path, cookieName}); err != nil {
		return nil, fmt.Errorf("server: demo page: %w", err)
	}
	body := page.Bytes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:")
		_, _ = w.Write(body)
	}), nil
}
