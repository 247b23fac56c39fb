package wsecli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	wseclient "github.com/wse-go/wse/clients/go"
	"github.com/wse-go/wse/internal/buildinfo"
)

// defaultAPI is the control API of a wse-server started with no flags.
const defaultAPI = "http://127.0.0.1:5008"

// Exit codes of Run.
const (
	exitOK      = 0
	exitFailed  = 1 // the server refused or the connection failed
	exitUsage   = 2 // bad arguments
	httpTimeout = 30 * time.Second
)

// globals are the flags every command takes.
type globals struct {
	url     string
	api     string
	apiKey  string
	token   string
	timeout time.Duration
	json    bool
	wait    bool
}

// command is one subcommand.
type command struct {
	name    string
	args    string
	summary string
	run     func(ctx context.Context, g globals, fs *flag.FlagSet, args []string, out io.Writer) error
	// flags adds the command's own flags to fs.
	flags func(fs *flag.FlagSet)
}

// commands lists the subcommands in --help order.
func commands() []command {
	return []command{
		{name: "connect", summary: "connect, print the connection id, user and features, and exit", run: connect},
		{name: "subscribe", args: "TOPIC…", summary: "subscribe, print which topics were granted or refused, and exit (1 if any was refused)", run: subscribe},
		{name: "tail", args: "[--count N] [--for DURATION] TOPIC…", summary: "subscribe and print every message as it arrives, until interrupted", run: tail, flags: tailFlags},
		{name: "publish", args: "TOPIC DATA", summary: "publish DATA (JSON, or plain text) to TOPIC through the control API", run: publish},
		{name: "send", args: "TYPE DATA", summary: "send one client message of TYPE with payload DATA (JSON) over WebSocket", run: send},
	}
}

// errUsage marks an error in the arguments (exit 2).
var errUsage = errors.New("usage")

// Run runs the client with args (without the program name) and returns the
// exit code: 0 done, 1 refused or failed, 2 bad arguments. prog names the
// program in messages ("wse-cli" or "wse-server client"). It stops at
// SIGINT; tail also stops after --count messages or --for.
func Run(prog string, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return run(ctx, prog, args, stdout, stderr)
}

func run(ctx context.Context, prog string, args []string, stdout, stderr io.Writer) int {
	var g globals
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&g.url, "url", serverURL(os.LookupEnv), "WebSocket URL of the server (default from WSE_HOST, WSE_PORT, WSE_PATH)")
	fs.StringVar(&g.api, "api", apiURL(os.LookupEnv), "control API base URL, for publish (default from WSE_API_ADDR)")
	fs.StringVar(&g.apiKey, "api-key", os.Getenv("WSE_API_KEY"), "control API key (Authorization: Bearer; default WSE_API_KEY)")
	fs.BoolVar(&g.wait, "wait", false, "wait, within --timeout, for a server that is not up yet")
	fs.StringVar(&g.token, "token", "", "JWT sent as Authorization: Bearer (wse-server gentoken mints one)")
	fs.DurationVar(&g.timeout, "timeout", 10*time.Second, "bound on connecting and on each request")
	fs.BoolVar(&g.json, "json", false, "print messages as the JSON the server sent")
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "%s: %s\n", prog, fmt.Sprintf(format, a...))
		return code
	}
	version := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(prog, fs, stdout)
			return exitOK
		}
		return fail(exitUsage, "%v (see %s --help)", err, prog)
	}
	if *version {
		fmt.Fprintln(stdout, prog, buildinfo.Get())
		return exitOK
	}
	if fs.NArg() == 0 {
		usage(prog, fs, stderr)
		return exitUsage
	}
	name := fs.Arg(0)
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		cfs := flag.NewFlagSet(prog+" "+name, flag.ContinueOnError)
		cfs.SetOutput(io.Discard)
		if c.flags != nil {
			c.flags(cfs)
		}
		if err := cfs.Parse(fs.Args()[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(stdout, "Usage: %s [global flags] %s %s\n\n%s.\n", prog, c.name, c.args, c.summary)
				return exitOK
			}
			return fail(exitUsage, "%s: %v", name, err)
		}
		err := c.run(ctx, g, cfs, cfs.Args(), stdout)
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, errUsage):
			return fail(exitUsage, "%s: %v; usage: %s %s %s", name, err, prog, c.name, c.args)
		default:
			return fail(exitFailed, "%s: %v", name, err)
		}
	}
	return fail(exitUsage, "unknown command %q (see %s --help)", name, prog)
}

func usage(prog string, fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "Usage: %s [global flags] <command> [args]\n\nA command-line client for a WSE server.\n\nCommands:\n", prog)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %-36s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintf(w, "\nGlobal flags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		def := ""
		if f.DefValue != "" && f.DefValue != "false" {
			def = " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "  --%-10s %s%s\n", f.Name, f.Usage, def)
	})
}

// serverURL is the WebSocket URL of a wse-server configured by the same
// WSE_HOST, WSE_PORT and WSE_PATH variables (each defaulting as the
// server's), so that a shell that configures the server configures the
// client too.
func serverURL(lookup func(string) (string, bool)) string {
	get := func(k, def string) string {
		if v, ok := lookup(k); ok && v != "" {
			return v
		}
		return def
	}
	host := get("WSE_HOST", "127.0.0.1")
	if host == "0.0.0.0" || host == "::" || host == "" {
		host = "127.0.0.1"
	}
	return "ws://" + net.JoinHostPort(host, get("WSE_PORT", "5007")) + get("WSE_PATH", "/wse")
}

// apiURL is the control API base URL of a wse-server configured by the
// same WSE_API_ADDR.
func apiURL(lookup func(string) (string, bool)) string {
	addr, ok := lookup("WSE_API_ADDR")
	if !ok || addr == "" {
		return defaultAPI
	}
	if host, port, err := net.SplitHostPort(addr); err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	return "http://" + addr
}

// dial connects with the global flags; topics are subscribed before it
// returns.
func dial(ctx context.Context, g globals, opts wseclient.Options) (*wseclient.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	opts.Token = g.token
	opts.ConnectTimeout = g.timeout
	opts.Reconnect.Disabled = !g.wait
	opts.WaitForServer = g.wait
	c, err := wseclient.Dial(ctx, g.url, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", g.url, err)
	}
	return c, nil
}

func connect(ctx context.Context, g globals, _ *flag.FlagSet, args []string, out io.Writer) error {
	if len(args) != 0 {
		return fmt.Errorf("%w: connect takes no arguments", errUsage)
	}
	c, err := dial(ctx, g, wseclient.Options{})
	if err != nil {
		return err
	}
	defer c.Close()
	user := c.UserID()
	if user == "" {
		user = "(anonymous)"
	}
	fmt.Fprintf(out, "connected to %s\nconnection %s\nuser       %s\nfeatures   %+v\n", g.url, c.ConnID(), user, c.Features())
	return nil
}

func subscribe(ctx context.Context, g globals, _ *flag.FlagSet, topics []string, out io.Writer) error {
	if len(topics) == 0 {
		return fmt.Errorf("%w: name at least one topic", errUsage)
	}
	c, err := dial(ctx, g, wseclient.Options{})
	if err != nil {
		return err
	}
	defer c.Close()
	sctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	res, err := c.Subscribe(sctx, topics, wseclient.SubscribeOptions{})
	if err != nil {
		return err
	}
	for _, t := range res.Granted {
		fmt.Fprintf(out, "subscribed %s\n", t)
	}
	for _, f := range res.Failed {
		fmt.Fprintf(out, "refused    %s (%s)\n", f.Topic, f.Code)
	}
	if len(res.Failed) > 0 {
		return fmt.Errorf("%d of %d topics refused", len(res.Failed), len(topics))
	}
	return nil
}

// tailFlags are tail's own flags.
func tailFlags(fs *flag.FlagSet) {
	fs.Int("count", 0, "stop after this many messages (0 = never)")
	fs.Duration("for", 0, "stop after this long (0 = never)")
}

func tail(ctx context.Context, g globals, fs *flag.FlagSet, topics []string, out io.Writer) error {
	if len(topics) == 0 {
		return fmt.Errorf("%w: name at least one topic", errUsage)
	}
	count := fs.Lookup("count").Value.(flag.Getter).Get().(int)
	limit := fs.Lookup("for").Value.(flag.Getter).Get().(time.Duration)
	if count < 0 || limit < 0 {
		return fmt.Errorf("%w: --count and --for must not be negative", errUsage)
	}
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	messages := make(chan wseclient.Message, 256)
	c, err := dial(ctx, g, wseclient.Options{MessageBuffer: cap(messages)})
	if err != nil {
		return err
	}
	defer c.Close()
	sctx, cancel := context.WithTimeout(ctx, g.timeout)
	res, err := c.Subscribe(sctx, topics, wseclient.SubscribeOptions{})
	cancel()
	if err != nil {
		return err
	}
	if len(res.Failed) > 0 {
		return fmt.Errorf("refused: %s (%s)", res.Failed[0].Topic, res.Failed[0].Code)
	}
	// One line on stderr would be friendlier, but stdout stays pure data
	// so that `tail | jq` works; the ready line goes first and is marked.
	fmt.Fprintf(out, "# subscribed %s; waiting for messages\n", strings.Join(res.Granted, ", "))
	seen := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.Done():
			if err := c.Err(); err != nil {
				return fmt.Errorf("connection ended: %w", err)
			}
			return nil
		case m, ok := <-c.Messages():
			if !ok {
				return c.Err()
			}
			printMessage(out, m, g.json)
			if seen++; count > 0 && seen >= count {
				return nil
			}
		}
	}
}

// printMessage writes one message on one line: the JSON the server sent
// with asJSON, otherwise "[topic] type payload".
func printMessage(out io.Writer, m wseclient.Message, asJSON bool) {
	if asJSON || m.Type == "" {
		fmt.Fprintf(out, "%s\n", bytes.TrimSpace(m.Raw))
		return
	}
	prefix := ""
	if m.Topic != "" {
		prefix = m.Topic + " "
	}
	fmt.Fprintf(out, "%s%s %s\n", prefix, m.Type, bytes.TrimSpace(m.Payload))
}

// dataJSON returns DATA as a JSON value: itself when it is JSON, else a
// JSON string.
func dataJSON(data string) json.RawMessage {
	if json.Valid([]byte(data)) {
		return json.RawMessage(data)
	}
	b, _ := json.Marshal(data)
	return b
}

func publish(ctx context.Context, g globals, _ *flag.FlagSet, args []string, out io.Writer) error {
	if len(args) != 2 {
		return fmt.Errorf("%w: publish takes TOPIC and DATA", errUsage)
	}
	body, err := json.Marshal(struct {
		Topic string          `json:"topic"`
		Data  json.RawMessage `json:"data"`
	}{args[0], dataJSON(args[1])})
	if err != nil {
		return err
	}
	var reply struct {
		Delivered int `json:"delivered"`
	}
	if err := postAPI(ctx, g, "/api/publish", body, &reply); err != nil {
		return err
	}
	fmt.Fprintf(out, "delivered to %d local connection(s)\n", reply.Delivered)
	return nil
}

// postAPI posts body to the control API and decodes the JSON reply into
// reply; an error status becomes an error carrying the server's message.
func postAPI(ctx context.Context, g globals, path string, body []byte, reply any) error {
	ctx, cancel := context.WithTimeout(ctx, min(g.timeout, httpTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(g.api, "/")+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("control API %s: %w", g.api, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if g.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+g.apiKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("control API: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("control API %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("control API %s: %s %s: %s", path, resp.Status, e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("control API %s: %s", path, resp.Status)
	}
	if err := json.Unmarshal(data, reply); err != nil {
		return fmt.Errorf("control API %s: reply: %w", path, err)
	}
	return nil
}

func send(ctx context.Context, g globals, _ *flag.FlagSet, args []string, out io.Writer) error {
	if len(args) != 2 {
		return fmt.Errorf("%w: send takes TYPE and DATA", errUsage)
	}
	c, err := dial(ctx, g, wseclient.Options{})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Send(args[0], dataJSON(args[1])); err != nil {
		return err
	}
	fmt.Fprintf(out, "sent %s as connection %s\n", args[0], c.ConnID())
	return nil
}
