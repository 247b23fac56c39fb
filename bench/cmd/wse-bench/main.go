// Command wse-bench is WSE's load tool. It runs one scenario against one
// server (wse-server, the Centrifuge peer or the raw floor), all on loopback,
// and appends one JSON line per run; "wse-bench report" turns such lines
// into markdown tables of medians with the ratios WSE/peer and WSE/floor.
//
//	wse-bench run -scenario fanout -target wse -n 1000 -size 100 -server-pid PID -out results.jsonl
//	wse-bench report results.jsonl
//
// Scenarios:
//
//   - connect: open -n connections (-concurrency dials in parallel) with a
//     fresh JWT each; connects/s and handshake time (dial to the first
//     server frame that proves the connection is authenticated and usable).
//   - idle: open -n connections, wait -settle, report the server's RSS
//     growth per connection (/proc/PID/status) and its goroutines.
//   - fanout: -n subscribers of one topic; a publisher POSTs -size byte
//     messages stamped with a sequence number and a send time, either at a
//     fixed -rate (messages/s) or as fast as the servers deliver (-rate 0:
//     -publishers POST back to back while fewer than -window messages are
//     not yet delivered to every subscriber). Deliveries/s, latency
//     percentiles and loss (expected - received) over a -dur window after
//     -warmup. At a fixed rate the stamp is the scheduled send time, so a
//     publisher held back by a slow server shows as latency.
//   - p2p: -n connections each keep -inflight requests outstanding that the
//     server answers to the same connection (wse: {"t":"ping"} -> PONG,
//     wse-server has no echo path; peer: RPC "echo"; floor: frame echo).
//   - cluster-fanout: fanout with the subscribers on one wse-server node
//     (-url, -api) and the publisher on another (-pub-api); it exits 2 with
//     "cluster: not available" when the publishing node reports no cluster
//     link (GET /health cluster_connected).
//
// Every URL must be loopback; connections spread over source addresses
// 127.0.0.1, .2, … when one runs out of ports; the run exits by itself after
// -maxtime whatever happens.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wse-go/wse/bench/internal/wsclient"
)

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runCmd(os.Args[2:])
	case "report":
		err = reportCmd(os.Args[2:], os.Stdout)
	case "-h", "-help", "--help", "help":
		usage(os.Stdout)
		return
	default:
		usage(os.Stderr)
		os.Exit(2)
	}
	switch {
	case errors.Is(err, errClusterUnavailable):
		fmt.Fprintln(os.Stderr, "cluster: not available")
		os.Exit(2)
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: wse-bench run -scenario connect|idle|fanout|p2p|cluster-fanout -target wse|centrifuge|raw [flags]")
	fmt.Fprintln(w, "       wse-bench report results.jsonl...")
	fmt.Fprintln(w, "run 'wse-bench run -h' for the flags")
}

// errClusterUnavailable is returned by the cluster-fanout scenario.
var errClusterUnavailable = errors.New("cluster: not available")

// options are the flags of "run".
type options struct {
	scenario, target, label, out string
	wsURL, apiURL, topic, secret string
	pubAPI                       string
	n, size, window, publishers  int
	concurrency, inflight, pid   int
	rate                         float64
	dur, warmup, settle, maxtime time.Duration
	srcFirst                     string
	srcCount, bufSize, loops     int
}

func parseOptions(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("wse-bench run", flag.ContinueOnError)
	fs.StringVar(&o.scenario, "scenario", "fanout", "connect, idle, fanout, p2p or cluster-fanout")
	fs.StringVar(&o.target, "target", "wse", "wse, centrifuge or raw")
	fs.StringVar(&o.label, "label", "", "free text stored with the result (e.g. the repetition)")
	fs.StringVar(&o.out, "out", "", "append the JSON result line to this file")
	fs.StringVar(&o.wsURL, "url", "", "WebSocket URL (default: the target's)")
	fs.StringVar(&o.apiURL, "api", "", "base URL of the publish/stats endpoints (default: the target's)")
	fs.StringVar(&o.pubAPI, "pub-api", "", "base URL the publisher uses (default -api; cluster-fanout: another node)")
	fs.StringVar(&o.topic, "topic", "bench", "topic (channel) of the fan-out")
	fs.StringVar(&o.secret, "jwt-secret", "", "HS256 secret: every connection gets its own token (wse: cookie; centrifuge: connect command; raw: unused)")
	fs.IntVar(&o.n, "n", 100, "connections (subscribers)")
	fs.IntVar(&o.size, "size", 100, "message size in bytes (fanout)")
	fs.Float64Var(&o.rate, "rate", 0, "messages published per second (fanout); 0 = as fast as delivered, bounded by -window")
	fs.IntVar(&o.window, "window", 8, "fanout at -rate 0: most messages published but not yet delivered to every subscriber")
	fs.IntVar(&o.publishers, "publishers", 1, "fanout at -rate 0: concurrent publishing goroutines (a fixed -rate uses 1)")
	fs.IntVar(&o.concurrency, "concurrency", 64, "dials in parallel")
	fs.IntVar(&o.inflight, "inflight", 1, "p2p: outstanding requests per connection")
	fs.IntVar(&o.pid, "server-pid", 0, "server process id, for CPU and RSS (0: not measured)")
	fs.DurationVar(&o.dur, "dur", 10*time.Second, "measured window")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "load before the measured window")
	fs.DurationVar(&o.settle, "settle", 5*time.Second, "idle: wait after connecting before sampling")
	fs.DurationVar(&o.maxtime, "maxtime", 5*time.Minute, "hard bound of the whole run")
	fs.StringVar(&o.srcFirst, "src", "127.0.0.1", "first source address")
	fs.IntVar(&o.srcCount, "src-count", 16, "source addresses to move through when one runs out of ports")
	fs.IntVar(&o.loops, "loops", 1, "epoll loops (goroutines) serving the connections once connected")
	fs.IntVar(&o.bufSize, "buf", 0, "initial read buffer per connection (default 4096; 1024 for idle and connect)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	switch o.scenario {
	case "connect", "idle", "fanout", "p2p":
	case "cluster-fanout":
		if o.target != "wse" {
			return nil, fmt.Errorf("%w: cluster-fanout needs -target wse", errUsage)
		}
	default:
		return nil, fmt.Errorf("%w: unknown -scenario %q", errUsage, o.scenario)
	}
	t, ok := targets[o.target]
	if !ok {
		return nil, fmt.Errorf("%w: unknown -target %q", errUsage, o.target)
	}
	if o.wsURL == "" {
		o.wsURL = t.defaultWS
	}
	if o.apiURL == "" {
		o.apiURL = t.defaultAPI
	}
	o.apiURL = strings.TrimRight(o.apiURL, "/")
	if o.pubAPI == "" {
		o.pubAPI = o.apiURL
	}
	o.pubAPI = strings.TrimRight(o.pubAPI, "/")
	for _, u := range []string{o.wsURL, o.apiURL, o.pubAPI} {
		if err := wsclient.CheckURL(u); err != nil {
			return nil, fmt.Errorf("%w: %w", errUsage, err)
		}
	}
	if o.n < 1 || o.loops < 1 || o.size < 1 || o.window < 1 || o.publishers < 1 || o.concurrency < 1 || o.inflight < 1 || o.rate < 0 {
		return nil, fmt.Errorf("%w: -n, -loops, -size, -window, -publishers, -concurrency and -inflight must be positive, -rate not negative", errUsage)
	}
	if o.dur <= 0 || o.maxtime <= 0 {
		return nil, fmt.Errorf("%w: -dur and -maxtime must be positive", errUsage)
	}
	if o.bufSize == 0 {
		o.bufSize = 4096
		if o.scenario == "idle" || o.scenario == "connect" {
			o.bufSize = 1024
		}
	}
	return o, nil
}

func runCmd(args []string) error {
	o, err := parseOptions(args)
	if err != nil {
		return err
	}
	time.AfterFunc(o.maxtime, func() {
		fmt.Fprintf(os.Stderr, "wse-bench: -maxtime %v reached, exiting\n", o.maxtime)
		os.Exit(3)
	})
	r, err := runScenario(o)
	if r != nil {
		if werr := r.write(o.out); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}
