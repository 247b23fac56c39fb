// Command wse-server runs the WSE engine as a standalone server: a WebSocket
// endpoint (default ws://127.0.0.1:5007/wse) with a demo page at /, and a
// JSON control API (default http://127.0.0.1:5008) for applications written
// in any language. Run it with --help for every setting.
//
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT drain) or --help, 1
// when it cannot start or a second signal cut the drain short, 2 for an
// invalid setting.
package main
