package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/wse-go/wse/server"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run parses, loads, runs and waits; it returns the exit code.
func run(args []string) int {
	cfg, err := server.Load(args, os.LookupEnv)
	if errors.Is(err, flag.ErrHelp) {
		server.Usage(os.Stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "wse-server: %v\n", err)
		return 2
	}
	log := cfg.Logger(os.Stderr)
	srv, err := server.New(cfg, log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wse-server: %v\n", err)
		return 2
	}
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, os.Interrupt)
	if err := srv.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "wse-server: %v\n", err)
		return 1
	}
	demo := ""
	if cfg.Demo {
		demo = fmt.Sprintf(", demo page http://%s/", srv.Addr())
	}
	fmt.Printf("wse-server: WebSocket %s%s, dashboard http://%s/admin, control API http://%s\n", srv.WebSocketURL(), demo, srv.APIAddr(), srv.APIAddr())
	fmt.Printf("wse-server: %s\n", cfg.PolicySummary())

	sig := <-signals
	log.Info("shutting down: draining connections", "signal", sig.String(), "timeout", cfg.DrainTimeout)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Shutdown(cfg.DrainTimeout)
	}()
	select {
	case <-done:
		return 0
	case sig := <-signals:
		log.Warn("second signal: exiting now", "signal", sig.String())
		return 1
	}
}
