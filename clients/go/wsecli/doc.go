// Package wsecli is the command-line client behind cmd/wse-cli and
// `wse-server client`: a small tool, built on the Go client (package
// wseclient), for trying a WSE server from a shell without any other
// WebSocket tool.
//
//	wse-cli connect                        connect, print the connection, exit
//	wse-cli subscribe TOPIC…               subscribe, print what was granted, exit
//	wse-cli tail [--count N] TOPIC…        subscribe and print messages as they arrive
//	wse-cli publish TOPIC DATA             publish through the control API
//	wse-cli send TYPE DATA                 send one client message over WebSocket
//
// Run is the whole program; it is safe to call from several goroutines with
// different arguments (tests do), and it returns when its command is done or
// its context (interrupt) ends.
package wsecli
