package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/wse-go/wse/clients/go/wsecli"
	"github.com/wse-go/wse/internal/buildinfo"
	"github.com/wse-go/wse/server"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run parses, loads, runs and waits; it returns the exit code. A first
// argument that is not a flag names a subcommand.
func run(args []string) int {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return subcommand(args[0], args[1:])
	}
	if slices.Contains(args, "--version") || slices.Contains(args, "-version") {
		fmt.Println("wse-server", buildinfo.Get())
		return 0
	}
	cfg, err := server.LoadEnviron(args, os.Environ())
	if errors.Is(err, flag.ErrHelp) {
		server.Usage(os.Stdout)
		return 0
	}
	if err != nil {
		return fail(err, 2)
	}
	log := cfg.Logger(os.Stderr)
	srv, err := server.New(cfg, log)
	if err != nil {
		return fail(err, 2)
	}
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, os.Interrupt)
	reload := make(chan os.Signal, 1)
	signal.Notify(reload, syscall.SIGHUP)
	if err := srv.Start(); err != nil {
		return fail(err, 1)
	}
	demo := ""
	if cfg.Demo {
		demo = fmt.Sprintf(", demo page http://%s/", srv.Addr())
	}
	fmt.Printf("wse-server: WebSocket %s%s, dashboard http://%s/admin, control API http://%s\n", srv.WebSocketURL(), demo, srv.APIAddr(), srv.APIAddr())
	fmt.Printf("wse-server: %s\n", cfg.PolicySummary())

	sig := waitStop(signals, reload, srv, log)
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

// subcommand runs `wse-server name args…` and returns the exit code.
func subcommand(name string, args []string) int {
	switch name {
	case "version":
		in := buildinfo.Get()
		commit := in.Commit
		if commit == "" {
			commit = "unknown"
		} else if in.Modified {
			commit += " (modified)"
		}
		fmt.Printf("wse-server %s\ncommit     %s\n", in.Version, commit)
		if in.Date != "" {
			fmt.Printf("date       %s\n", in.Date)
		}
		fmt.Printf("go         %s\nplatform   %s\n", in.GoVersion, in.Platform)
		return 0
	case "genconfig":
		if len(args) > 0 {
			return fail(fmt.Errorf("genconfig takes no arguments (redirect its output: wse-server genconfig > wse.yaml)"), 2)
		}
		if err := server.WriteConfigTemplate(os.Stdout); err != nil {
			return fail(err, 1)
		}
		return 0
	case "checkconfig":
		if len(args) != 1 {
			return fail(fmt.Errorf("usage: wse-server checkconfig FILE"), 2)
		}
		if _, err := server.CheckConfig(args[0]); err != nil {
			return fail(err, 2)
		}
		fmt.Printf("%s: valid\n", args[0])
		return 0
	case "gentoken":
		tok, err := server.GenToken(args, os.Environ())
		if err != nil {
			return fail(err, 2)
		}
		fmt.Println(tok)
		return 0
	case "client":
		return wsecli.Run("wse-server client", args, os.Stdout, os.Stderr)
	case "help":
		server.Usage(os.Stdout)
		return 0
	}
	names := make([]string, 0, len(server.Commands()))
	for _, c := range server.Commands() {
		names = append(names, c.Name)
	}
	return fail(fmt.Errorf("unknown command %q%s; commands: %s (settings are --flags)", name, server.DidYouMean(name, names), strings.Join(names, ", ")), 2)
}

// fail prints err on one line under the program's name and returns code.
// The server package's own "server: " prefix is dropped so that the line
// does not stutter.
func fail(err error, code int) int {
	fmt.Fprintf(os.Stderr, "wse-server: %s\n", strings.TrimPrefix(err.Error(), "server: "))
	return code
}

// waitStop returns the first stop signal; until then each SIGHUP reloads
// the cluster TLS files (certificate rotation without a restart).
func waitStop(stop, reload <-chan os.Signal, srv *server.Server, log *slog.Logger) os.Signal {
	for {
		select {
		case sig := <-stop:
			return sig
		case <-reload:
			if err := srv.ReloadTLS(); err != nil {
				log.Error("SIGHUP: cluster TLS not reloaded", "error", err)
				continue
			}
			log.Info("SIGHUP: cluster TLS reloaded")
		}
	}
}
