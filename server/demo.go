package server

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"strings"
)

// webFiles are the demo chat and the admin dashboard: the pages and styles
// in server/web, and the scripts that `make web-build` bundles from web/src
// into server/web/dist (committed, so that go build needs only Go; the
// web-check target fails when they are stale).
//
//go:embed web/*.html web/*.css web/dist/*.js
var webFiles embed.FS

// demoPage is the demo chat page template; it receives the WebSocket path.
var demoPage = template.Must(template.ParseFS(webFiles, "web/index.html"))

// assetTypes are the content types of the files served under assets/.
var assetTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
}

// Content security policies of the pages: scripts and styles from the
// server only; the chat may open its WebSocket, the dashboard only calls
// the control API.
const (
	demoCSP  = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:"
	adminCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'"
)

// demoHandler returns the handler that serves the demo chat at /, its
// assets under /assets/, and a 404 on every other path.
func demoHandler(wsPath string) (http.Handler, error) {
	var page bytes.Buffer
	if err := demoPage.Execute(&page, struct{ Path string }{wsPath}); err != nil {
		return nil, fmt.Errorf("server: demo page: %w", err)
	}
	body := page.Bytes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/":
			servePage(w, r, body, demoCSP)
		case strings.HasPrefix(r.URL.Path, "/assets/"):
			serveAsset(w, r, strings.TrimPrefix(r.URL.Path, "/assets/"))
		default:
			http.NotFound(w, r)
		}
	}), nil
}

// adminPages serves the dashboard at /admin and its assets under
// /admin/assets/ without the API key (they hold no data: the page asks for
// the key and sends it with every API call), and every other path through
// next.
func adminPages(next http.Handler) http.Handler {
	page, err := webFiles.ReadFile("web/admin.html")
	if err != nil {
		panic("server: embedded admin page missing: " + err.Error())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/admin" || r.URL.Path == "/admin/":
			servePage(w, r, page, adminCSP)
		case strings.HasPrefix(r.URL.Path, "/admin/assets/"):
			serveAsset(w, r, strings.TrimPrefix(r.URL.Path, "/admin/assets/"))
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// getOnly answers 405 for methods other than GET and HEAD; it reports
// whether the request may go on.
func getOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// servePage writes an HTML page with its content security policy.
func servePage(w http.ResponseWriter, r *http.Request, body []byte, csp string) {
	if !getOnly(w, r) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", csp)
	_, _ = w.Write(body)
}

// serveAsset writes one of the embedded styles (web/NAME.css) or scripts
// (web/dist/NAME.js).
func serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	ext := path.Ext(name)
	ctype, ok := assetTypes[ext]
	if !ok || strings.ContainsAny(name, "/\\") {
		http.NotFound(w, r)
		return
	}
	file := "web/" + name
	if ext == ".js" {
		file = "web/dist/" + name
	}
	body, err := webFiles.ReadFile(file)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if !getOnly(w, r) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(body)
}
