// Command wse-cli is a small command-line client for a WSE server: connect,
// subscribe, tail a topic, publish through the control API, send a client
// message. `wse-server client` is the same program. Run it with --help.
//
// Exit codes: 0 done, 1 the server refused or the connection failed, 2 bad
// arguments.
package main

import (
	"os"

	"github.com/wse-go/wse/clients/go/wsecli"
)

func main() {
	os.Exit(wsecli.Run("wse-cli", os.Args[1:], os.Stdout, os.Stderr))
}
