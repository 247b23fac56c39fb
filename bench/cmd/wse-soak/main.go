// Command wse-soak drives a fleet of real WSE Go clients (clients/go)
// against wse-server for a long run and checks that nothing is lost: every
// client subscribes to one of -topics topics with recovery, a publisher
// POSTs to every topic through the control API at -rate publications per
// second, -churn of the clients per minute lose their TCP connection (the
// client reconnects and recovers), and each client checks that the offsets
// it delivers follow one another. At the end publishing stops, the fleet
// settles and each client's last offset is compared with the number of
// publications its topic got. Every minute it prints the server's RSS,
// goroutines and open descriptors and the delivery latency p99 of that
// minute; the last line is one summary: "soak: PASS …" or "soak: FAIL …"
// (exit status 1).
//
//	wse-soak -url ws://127.0.0.1:5007/wse -api http://127.0.0.1:5008 \
//	    -secret S -server-pid PID -clients 19000 -topics 1000 -dur 10m
//
// With -failover, clients dial the -url list in order and take the next
// address when one refuses: the restart-under-load check of
// bench/chaos.sh uses it with -expect-close 4300 to see every client
// closed with 4300 by a draining node and reconnected to another. All
// addresses must be loopback or private (network namespaces); the run
// stops by itself after -maxtime.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/bench/internal/stats"
	wseclient "github.com/wse-go/wse/clients/go"
)

// options are the command-line settings.
type options struct {
	urls        []string
	api         string
	apiKey      string
	secret      string
	pid         int
	clients     int
	topics      int
	rate        float64
	dur         time.Duration
	warmup      time.Duration
	churn       float64
	dialers     int
	settle      time.Duration
	maxTime     time.Duration
	failover    bool
	expectClose int
	checkRSS    bool
	allowGaps   bool
	label       string
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("wse-soak", flag.ContinueOnError)
	urls := fs.String("url", "ws://127.0.0.1:5007/wse", "WebSocket URL(s), comma-separated")
	fs.StringVar(&o.api, "api", "http://127.0.0.1:5008", "control API of the node that publishes")
	fs.StringVar(&o.apiKey, "api-key", "", "the control API key (--api-key), if any")
	fs.StringVar(&o.secret, "secret", "", "the server's HS256 secret (--jwt-secret)")
	fs.IntVar(&o.pid, "server-pid", 0, "wse-server process to sample (RSS, descriptors; 0 = none)")
	fs.IntVar(&o.clients, "clients", 19000, "clients")
	fs.IntVar(&o.topics, "topics", 1000, "topics (client i subscribes to soak:i%topics)")
	fs.Float64Var(&o.rate, "rate", 200, "publications per second over all topics")
	fs.DurationVar(&o.dur, "dur", 10*time.Minute, "publishing time after the fleet is connected")
	fs.DurationVar(&o.warmup, "warmup", time.Minute, "start of the run excluded from the flatness checks")
	fs.Float64Var(&o.churn, "churn", 0.10, "fraction of the clients that lose their connection per minute")
	fs.IntVar(&o.dialers, "dialers", 64, "parallel dials while the fleet connects")
	fs.DurationVar(&o.settle, "settle", 30*time.Second, "longest wait after publishing for clients to catch up")
	fs.DurationVar(&o.maxTime, "maxtime", 30*time.Minute, "hard bound of the whole run")
	fs.BoolVar(&o.failover, "failover", false, "dial the -url list in order, taking the next address on refusal")
	fs.IntVar(&o.expectClose, "expect-close", 0, "a close code every client must see once (restart under load)")
	fs.BoolVar(&o.checkRSS, "check-rss", true, "fail when RSS after warm-up leaves ±10% of its post-warm-up value")
	fs.StringVar(&o.label, "label", "soak", "first word of the summary line")
	fs.BoolVar(&o.allowGaps, "allow-gaps", false, "accept losses the clients were told of (EventMissedData): chaos runs")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.urls = strings.Split(*urls, ",")
	switch {
	case o.secret == "":
		return o, errors.New("-secret is required")
	case o.clients <= 0 || o.topics <= 0 || o.rate <= 0:
		return o, errors.New("-clients, -topics and -rate must be positive")
	}
	for _, u := range append(slices.Clone(o.urls), o.api) {
		if err := checkLocal(u); err != nil {
			return o, err
		}
	}
	return o, nil
}

// checkLocal refuses addresses outside loopback and private ranges.
func checkLocal(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q: %w", raw, err)
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !(ip.IsLoopback() || ip.IsPrivate()) {
		return fmt.Errorf("%q: only loopback or private addresses (network namespaces)", raw)
	}
	return nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "wse-soak:", err)
		}
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.maxTime)
	defer cancel()
	r := newRun(o)
	ok, err := r.run(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wse-soak:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// fleetClient is one client of the fleet and what it has seen.
type fleetClient struct {
	idx   int
	topic int
	c     *wseclient.Client
	// conn is the client's current TCP connection (NetDial records it) so
	// that churn can cut it.
	conn atomic.Pointer[net.Conn]
	// connectedAt is the unix-nano time of the last EventConnected.
	connectedAt atomic.Int64
	connects    atomic.Int64
	// closeSeen is set when the server closed with -expect-close.
	closeSeen atomic.Bool
	// node is the index in -url of the current connection.
	node atomic.Int32

	// lastSeq is the publisher's sequence number ("n") of the last
	// delivered tick; the dispatcher writes it, settle reads it.
	lastSeq atomic.Uint64

	// Dispatcher goroutine only (handlers run one at a time).
	epoch    string
	last     uint64
	received uint64
	// gapSeen says an EventMissedData came since the last tick.
	gapSeen bool
}

// run is one soak run.
type run struct {
	o         options
	published []atomic.Uint64 // by topic
	pubErrors atomic.Uint64
	fleet     []*fleetClient

	lat        atomic.Pointer[stats.Histogram] // this minute's latencies
	allLat     stats.Histogram
	orderBad   atomic.Uint64
	gaps       atomic.Uint64 // EventMissedData
	epochSkips atomic.Uint64 // epoch changed without EventMissedData
	silent     atomic.Uint64 // ticks skipped without EventMissedData before them
	dups       atomic.Uint64 // ticks delivered twice or out of order
	seenLost   atomic.Uint64 // ticks skipped after an EventMissedData (visible loss)
	stopped    atomic.Uint64 // clients whose client stopped for good
	cuts       atomic.Uint64
}

func newRun(o options) *run {
	r := &run{o: o, published: make([]atomic.Uint64, o.topics)}
	r.lat.Store(&stats.Histogram{})
	return r
}

// topicName returns the name of topic i.
func topicName(i int) string { return "soak:" + strconv.Itoa(i) }

// sample is one minute's server figures.
type sample struct {
	at         time.Duration
	rss        int64
	goroutines int
	fds        int
	p99        time.Duration
	delivered  uint64
	published  uint64
	connected  int
	load       float64
}

func (r *run) run(ctx context.Context) (bool, error) {
	begin := time.Now()
	if err := r.connectFleet(ctx); err != nil {
		return false, err
	}
	fmt.Printf("%s: %d clients connected in %s\n", r.o.label, len(r.fleet), time.Since(begin).Round(time.Second))

	pubCtx, stopPub := context.WithCancel(ctx)
	var pubWG sync.WaitGroup
	pubWG.Go(func() { r.publish(pubCtx) })
	churnCtx, stopChurn := context.WithCancel(ctx)
	var churnWG sync.WaitGroup
	if r.o.churn > 0 {
		churnWG.Go(func() { r.churn(churnCtx) })
	}

	var samples []sample
	start := time.Now()
	tick := time.NewTicker(min(time.Minute, r.o.dur))
	var lastDelivered, lastPublished uint64
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			s := r.sample(time.Since(start))
			s.delivered -= lastDelivered
			s.published -= lastPublished
			lastDelivered += s.delivered
			lastPublished += s.published
			samples = append(samples, s)
			fmt.Printf("%s: t=%s rss=%dMiB goroutines=%d fds=%d p99=%s delivered=%d published=%d connected=%d load=%.1f\n",
				r.o.label, s.at.Round(time.Second), s.rss>>20, s.goroutines, s.fds, s.p99, s.delivered, s.published, s.connected, s.load)
			if time.Since(start) >= r.o.dur {
				break loop
			}
		}
	}
	tick.Stop()
	stopChurn()
	churnWG.Wait()
	stopPub()
	pubWG.Wait()
	settled := r.settle(ctx)
	ok := r.verdict(samples, settled)
	for _, fc := range r.fleet {
		_ = fc.c.Close()
	}
	return ok, nil
}

// connectFleet dials every client with -dialers in parallel.
func (r *run) connectFleet(ctx context.Context) error {
	r.fleet = make([]*fleetClient, r.o.clients)
	next := atomic.Int64{}
	var firstErr atomic.Pointer[error]
	var wg sync.WaitGroup
	for range r.o.dialers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= r.o.clients || firstErr.Load() != nil {
					return
				}
				fc, err := r.dial(ctx, i)
				if err != nil {
					err = fmt.Errorf("client %d: %w", i, err)
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				r.fleet[i] = fc
			}
		})
	}
	wg.Wait()
	if p := firstErr.Load(); p != nil {
		for _, fc := range r.fleet {
			if fc != nil {
				_ = fc.c.Close()
			}
		}
		return *p
	}
	return nil
}

// dial connects client i.
func (r *run) dial(ctx context.Context, i int) (*fleetClient, error) {
	fc := &fleetClient{idx: i, topic: i % r.o.topics}
	tok, err := wse.EncodeJWT(map[string]any{"sub": "soak-" + strconv.Itoa(i), "exp": time.Now().Add(24 * time.Hour).Unix()}, []byte(r.o.secret))
	if err != nil {
		return nil, err
	}
	home := 0
	if !r.o.failover {
		home = i % len(r.o.urls)
	}
	opts := wseclient.Options{
		Token:  tok,
		Topics: []string{topicName(fc.topic)},
		// Small queues: 19,000 clients in one process.
		QueueSize: 64,
		Reconnect: wseclient.Reconnect{Base: 500 * time.Millisecond, Max: 5 * time.Second},
		NetDial:   r.netDial(fc, i),
		OnMessage: func(m wseclient.Message) { r.onMessage(fc, m) },
		OnEvent:   func(ev wseclient.Event) { r.onEvent(fc, ev) },
	}
	dctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	c, err := wseclient.Dial(dctx, r.o.urls[home], opts)
	if err != nil {
		return nil, err
	}
	fc.c = c
	return fc, nil
}

// netDial opens client i's TCP connections from one of 127.0.0.1–.8 (one
// source address runs out of ports past ~28,000 connections), records the
// connection for churn, and with -failover tries the -url hosts in order.
func (r *run) netDial(fc *fleetClient, i int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	hosts := make([]string, len(r.o.urls))
	for j, u := range r.o.urls {
		p, _ := url.Parse(u)
		hosts[j] = p.Host
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: 10 * time.Second}
		if ip := net.ParseIP(strings.Split(addr, ":")[0]); ip != nil && ip.IsLoopback() {
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%8))}
		}
		targets := []string{addr}
		if r.o.failover {
			targets = hosts
		}
		var err error
		for _, t := range targets {
			var nc net.Conn
			if nc, err = d.DialContext(ctx, network, t); err == nil {
				fc.conn.Store(&nc)
				fc.node.Store(int32(slices.Index(hosts, t)))
				return nc, nil
			}
		}
		return nil, err
	}
}

// tick is the payload of a soak publication: its send time and its
// sequence number in its topic (1, 2, …).
type tick struct {
	TS int64  `json:"ts"`
	N  uint64 `json:"n"`
}

// onMessage checks one delivered message (dispatcher goroutine).
func (r *run) onMessage(fc *fleetClient, m wseclient.Message) {
	if m.Type != "tick" || m.Offset == 0 {
		return
	}
	switch {
	case fc.epoch == "":
	case m.Epoch != fc.epoch:
		r.epochSkips.Add(1)
	case m.Offset != fc.last+1:
		r.orderBad.Add(1)
	}
	prevEpoch, prevOffset := fc.epoch, fc.last
	fc.epoch, fc.last = m.Epoch, m.Offset
	fc.received++
	var p tick
	if json.Unmarshal(m.Payload, &p) != nil {
		return
	}
	// The publisher's numbering tells what was lost whatever node stamped
	// the message: a hole must follow a reported gap.
	switch prev := fc.lastSeq.Load(); {
	case prev == 0 || p.N == prev+1:
	case p.N <= prev:
		if r.dups.Add(1) <= 5 {
			fmt.Fprintf(os.Stderr, "%s: duplicate: client %d topic %s n=%d after n=%d (epoch %s offset %d; before: epoch %s offset %d)\n",
				r.o.label, fc.idx, m.Topic, p.N, prev, m.Epoch, m.Offset, prevEpoch, prevOffset)
		}
	case fc.gapSeen:
		r.seenLost.Add(p.N - prev - 1)
	default:
		r.silent.Add(p.N - prev - 1)
	}
	fc.gapSeen = false
	fc.lastSeq.Store(max(fc.lastSeq.Load(), p.N))
	if p.TS > fc.connectedAt.Load() {
		// Live deliveries only: replays after a reconnect are late by design.
		d := time.Now().UnixNano() - p.TS
		r.lat.Load().Record(d)
		r.allLat.Record(d)
	}
}

// onEvent follows connections and recovery gaps (dispatcher goroutine).
func (r *run) onEvent(fc *fleetClient, ev wseclient.Event) {
	switch ev.Kind {
	case wseclient.EventConnected:
		fc.connectedAt.Store(time.Now().UnixNano())
		fc.connects.Add(1)
	case wseclient.EventDisconnected:
		var ce *wseclient.CloseError
		if errors.As(ev.Err, &ce) && r.o.expectClose != 0 && int(ce.Code) == r.o.expectClose {
			fc.closeSeen.Store(true)
		}
	case wseclient.EventMissedData:
		r.gaps.Add(1)
		fc.gapSeen = true
		fc.epoch, fc.last = ev.To.Epoch, ev.To.Offset
	case wseclient.EventClosed:
		r.stopped.Add(1)
	}
}

// publish POSTs ticks over the topics at -rate until ctx ends. Worker w
// owns the topics t with t%workers == w and posts them one at a time, so
// that the publications of one topic are numbered and applied in order; a
// failed POST is retried with the same number.
func (r *run) publish(ctx context.Context) {
	workers := min(8, r.o.topics)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			interval := time.Duration(float64(time.Second) * float64(workers) / r.o.rate)
			next := time.Now()
			for t := w; ctx.Err() == nil; {
				next = next.Add(interval)
				if d := time.Until(next); d > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(d):
					}
				}
				if r.post(ctx, client, t) {
					if t += workers; t >= r.o.topics {
						t = w
					}
				}
			}
		})
	}
	wg.Wait()
}

// post publishes topic t's next tick and reports whether it was accepted.
func (r *run) post(ctx context.Context, client *http.Client, t int) bool {
	n := r.published[t].Load() + 1
	body := fmt.Sprintf(`{"topic":%q,"data":{"t":"tick","p":{"ts":%d,"n":%d}}}`, topicName(t), time.Now().UnixNano(), n)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.o.api+"/api/publish", strings.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	if r.o.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.o.apiKey)
	}
	resp, err := client.Do(req)
	if err != nil {
		r.pubErrors.Add(1)
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		r.pubErrors.Add(1)
		return false
	}
	r.published[t].Store(n)
	return true
}

// churn cuts the TCP connection of -churn of the clients per minute,
// spread over the minute.
func (r *run) churn(ctx context.Context) {
	perSec := r.o.churn * float64(len(r.fleet)) / 60
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	owed := 0.0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		owed += perSec / 10
		for ; owed >= 1; owed-- {
			fc := r.fleet[rand.IntN(len(r.fleet))]
			if p := fc.conn.Load(); p != nil {
				_ = (*p).Close()
				r.cuts.Add(1)
			}
		}
	}
}

// sample reads the server's figures and takes this minute's latencies.
func (r *run) sample(at time.Duration) sample {
	s := sample{at: at}
	if r.o.pid > 0 {
		s.rss, _ = stats.ProcRSS(r.o.pid)
		if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", r.o.pid)); err == nil {
			s.fds = len(ents)
		}
	}
	s.goroutines = r.goroutines()
	h := r.lat.Swap(&stats.Histogram{})
	s.p99 = time.Duration(h.Quantile(0.99))
	for _, fc := range r.fleet {
		if fc.c.Connected() {
			s.connected++
		}
	}
	for i := range r.published {
		s.published += r.published[i].Load()
	}
	s.delivered = r.allLat.Count()
	if la, err := stats.LoadAvg(); err == nil {
		s.load = la[0]
	}
	return s
}

var goroutinesLine = regexp.MustCompile(`(?m)^go_goroutines (\S+)$`)

// goroutines reads go_goroutines from the publishing node's /metrics.
func (r *run) goroutines() int {
	resp, err := http.Get(r.o.api + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := goroutinesLine.FindSubmatch(b)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return int(v)
}

// settle waits until every client delivered its topic's last publication
// (or -settle passes) and reports how many did.
func (r *run) settle(ctx context.Context) int {
	deadline := time.Now().Add(r.o.settle)
	for {
		caught := 0
		for _, fc := range r.fleet {
			if fc.lastSeq.Load() >= r.published[fc.topic].Load() {
				caught++
			}
		}
		if caught == len(r.fleet) || time.Now().After(deadline) || ctx.Err() != nil {
			return caught
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// verdict prints the summary line and reports whether the run passed.
func (r *run) verdict(samples []sample, settled int) bool {
	var published, lost uint64
	for i := range r.published {
		published += r.published[i].Load()
	}
	behind := 0
	reconnects := int64(0)
	closeSeen := 0
	for _, fc := range r.fleet {
		if got, want := fc.lastSeq.Load(), r.published[fc.topic].Load(); got < want {
			behind++
			lost += want - got
		}
		reconnects += fc.connects.Load() - 1
		if fc.closeSeen.Load() {
			closeSeen++
		}
	}
	var fails []string
	// Never: a hole without a reported gap, a duplicate, offsets out of
	// order within an epoch, a client that does not catch up.
	if r.silent.Load() > 0 || r.dups.Load() > 0 || r.orderBad.Load() > 0 || lost > 0 {
		fails = append(fails, "loss")
	}
	// Without -allow-gaps (the single-node soak) nothing may be lost at
	// all, not even with notice. A gap event after which no tick turns out
	// missing (a recovery reply later than the client's RecoveryTimeout on
	// a loaded machine) is reported in gaps= but is not a loss.
	if !r.o.allowGaps && (r.seenLost.Load() > 0 || r.epochSkips.Load() > 0) {
		fails = append(fails, "gaps")
	}
	if r.o.expectClose != 0 && closeSeen != len(r.fleet) {
		fails = append(fails, fmt.Sprintf("close %d seen by %d of %d", r.o.expectClose, closeSeen, len(r.fleet)))
	}
	if r.stopped.Load() > 0 {
		fails = append(fails, "clients stopped")
	}
	rssLine, flat := r.flatness(samples)
	if !flat {
		fails = append(fails, "not flat")
	}
	p99s := make([]string, len(samples))
	for i, s := range samples {
		p99s[i] = s.p99.Round(100 * time.Microsecond).String()
	}
	verdict := "PASS"
	if len(fails) > 0 {
		verdict = "FAIL(" + strings.Join(fails, ",") + ")"
	}
	load := 0.0
	if la, err := stats.LoadAvg(); err == nil {
		load = la[0]
	}
	fmt.Printf("%s: %s clients=%d topics=%d published=%d settled=%d/%d behind=%d lost=%d silent_lost=%d dups=%d gaps=%d gap_lost=%d order_errors=%d epoch_skips=%d cuts=%d reconnects=%d close_seen=%d publish_errors=%d p99=%s p99_per_min=[%s] %s load=%.1f\n",
		r.o.label, verdict, len(r.fleet), r.o.topics, published, settled, len(r.fleet), behind, lost, r.silent.Load(), r.dups.Load(), r.gaps.Load(), r.seenLost.Load(),
		r.orderBad.Load(), r.epochSkips.Load(), r.cuts.Load(), reconnects, closeSeen, r.pubErrors.Load(),
		time.Duration(r.allLat.Quantile(0.99)).Round(100*time.Microsecond), strings.Join(p99s, " "), rssLine, load)
	return len(fails) == 0
}

// flatness describes RSS, goroutines and descriptors after warm-up and
// reports whether they stayed flat: RSS within ±10% of its first
// post-warm-up sample (when -check-rss), goroutines and descriptors within
// 5% (+50) of theirs.
func (r *run) flatness(samples []sample) (string, bool) {
	var after []sample
	for _, s := range samples {
		if s.at > r.o.warmup {
			after = append(after, s)
		}
	}
	if len(after) == 0 || r.o.pid == 0 {
		return "rss=n/a", true
	}
	base := after[0]
	ok := true
	lo, hi := base.rss, base.rss
	gHi, fHi := base.goroutines, base.fds
	for _, s := range after {
		lo, hi = min(lo, s.rss), max(hi, s.rss)
		gHi, fHi = max(gHi, s.goroutines), max(fHi, s.fds)
	}
	dev := 100 * float64(max(hi-base.rss, base.rss-lo)) / float64(base.rss)
	if r.o.checkRSS && dev > 10 {
		ok = false
	}
	if float64(gHi) > float64(base.goroutines)*1.05+50 || float64(fHi) > float64(base.fds)*1.05+50 {
		ok = false
	}
	return fmt.Sprintf("rss_MiB=%d..%d(±%.1f%%) goroutines=%d..%d fds=%d..%d", lo>>20, hi>>20, dev, base.goroutines, gHi, base.fds, fHi), ok
}
