package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wse-go/wse/bench/internal/stats"
	"github.com/wse-go/wse/bench/internal/wsclient"
)

// runScenario runs o.scenario once and returns its result (also on error,
// when there is something to report).
func runScenario(o *options) (*Result, error) {
	t := targets[o.target]
	r := newResult(o)
	pool, err := wsclient.NewSourcePool(o.srcFirst, o.srcCount)
	if err != nil {
		return nil, err
	}
	dialer, err := wsclient.NewDialer(o.wsURL, nil, pool)
	if err != nil {
		return nil, err
	}
	dialer.BufSize = o.bufSize
	cl := &client{t: t, topic: o.topic, dialer: dialer, loops: o.loops}
	cl.wakeAt.Store(math.MaxInt64)
	if o.secret != "" && t.name != "raw" {
		if cl.tokens, err = mintTokens(o.secret, o.n); err != nil {
			return nil, err
		}
	}
	// Leave the last 10 s of -maxtime for teardown and the report.
	deadline := time.Now().Add(max(o.maxtime-10*time.Second, o.maxtime/2))
	switch o.scenario {
	case "connect":
		err = runConnect(o, cl, r, deadline)
	case "idle":
		err = runIdle(o, cl, r, deadline)
	case "fanout":
		err = runFanout(o, cl, r, deadline)
	case "cluster-fanout":
		if err = awaitCluster(o.pubAPI); err == nil {
			err = runFanout(o, cl, r, deadline)
		}
	case "p2p":
		err = runP2P(o, cl, r, deadline)
	}
	r.SourceAddrs = pool.Used()
	r.Disconnects, r.CloseCodes = cl.disconnectRecord()
	if terr := cl.teardown(30 * time.Second); terr != nil && err == nil {
		err = terr
	}
	for _, c := range cl.conns {
		r.Reordered += c.reordered
	}
	return r, err
}

// fillConnect copies the connect phase figures into r; it fails when no
// connection could be opened.
func fillConnect(r *Result, res *connectResult) error {
	r.Connected = res.ok
	r.ConnectErrors = topErrors(res.errors)
	r.ConnectS = res.elapsed.Seconds()
	if res.elapsed > 0 {
		r.ConnectsPerSec = float64(res.ok) / res.elapsed.Seconds()
	}
	r.Handshake = latencyOf(&res.handshake)
	if res.ok == 0 {
		return fmt.Errorf("%w: no connection opened: %v", errRefused, r.ConnectErrors)
	}
	return nil
}

func runConnect(o *options, cl *client, r *Result, deadline time.Time) error {
	cl.mode = modeIdle
	cpu := startCPU(o.pid)
	res := cl.connect(o.n, o.concurrency, false, deadline)
	cpu.stop(r, int64(res.ok))
	return fillConnect(r, res)
}

func runIdle(o *options, cl *client, r *Result, deadline time.Time) error {
	cl.mode = modeIdle
	if o.pid > 0 {
		r.RSSBaseline, _ = stats.ProcRSS(o.pid)
	}
	r.GoroutinesStart, _ = cl.t.goroutines(o.apiURL)
	res := cl.connect(o.n, o.concurrency, false, deadline)
	if err := fillConnect(r, res); err != nil {
		return err
	}
	time.Sleep(o.settle) // the measurement itself: let the server settle
	if o.pid > 0 {
		rss, err := stats.ProcRSS(o.pid)
		if err != nil {
			return err
		}
		r.RSSLoaded = rss
		r.RSSPerConn = float64(rss-r.RSSBaseline) / float64(res.ok)
	}
	var err error
	if r.Goroutines, err = cl.t.goroutines(o.apiURL); err != nil {
		r.Notes = append(r.Notes, "goroutines: "+err.Error())
	}
	return nil
}

func runP2P(o *options, cl *client, r *Result, deadline time.Time) error {
	cl.mode = modeEcho
	cl.inflight = o.inflight
	cl.sending.Store(true)
	r.Inflight = o.inflight
	res := cl.connect(o.n, o.concurrency, false, deadline)
	if err := fillConnect(r, res); err != nil {
		return err
	}
	time.Sleep(o.warmup)
	e0 := cl.echoes.Load()
	cpu := startCPU(o.pid)
	start := time.Now()
	cl.recording.Store(true)
	time.Sleep(o.dur)
	cl.recording.Store(false)
	e1 := cl.echoes.Load()
	window := time.Since(start)
	cpu.stop(r, e1-e0)
	cl.sending.Store(false)
	r.DurS = window.Seconds()
	r.EchoesPerSec = float64(e1-e0) / window.Seconds()
	r.Latency = latencyOf(&cl.latency)
	if cl.t.name == "wse" {
		r.Notes = append(r.Notes, `wse-server has no echo path: requests are {"t":"ping"}, answered by the engine with PONG`)
	}
	return nil
}

func runFanout(o *options, cl *client, r *Result, deadline time.Time) error {
	cl.mode = modeFanout
	r.Size, r.Rate = o.size, o.rate
	if o.rate == 0 {
		r.Window, r.Publishers = o.window, o.publishers
	} else {
		r.Publishers = 1
	}
	res := cl.connect(o.n, o.concurrency, true, deadline)
	if err := fillConnect(r, res); err != nil {
		return err
	}
	subs := int64(res.ok)
	if err := awaitSubscribers(cl, o, res.ok); err != nil {
		r.Notes = append(r.Notes, err.Error())
	}
	if o.pubAPI != o.apiURL {
		// Another node publishes: give the subscription interest (announced
		// on the topic's first subscriber, long before the last) time to
		// cross the link.
		time.Sleep(500 * time.Millisecond)
		r.Notes = append(r.Notes, "published on "+o.pubAPI+", subscribers on "+o.apiURL)
	}
	p := &publisher{cl: cl, o: o, subs: subs, url: o.pubAPI + "/api/publish"}
	p.start()
	time.Sleep(o.warmup)
	d0, pub0 := cl.delivered.Load(), p.published.Load()
	cpu := startCPU(o.pid)
	start := time.Now()
	cl.recording.Store(true)
	time.Sleep(o.dur)
	cl.recording.Store(false)
	d1, pub1 := cl.delivered.Load(), p.published.Load()
	window := time.Since(start)
	cpu.stop(r, d1-d0)
	p.stop()
	r.DurS = window.Seconds()
	r.DeliveriesPerSec = float64(d1-d0) / window.Seconds()
	r.PublishRate = float64(pub1-pub0) / window.Seconds()
	r.Latency = latencyOf(&cl.latency)
	if p.stalled.Load() {
		r.Notes = append(r.Notes, "publisher stalled: deliveries stopped progressing")
	}

	// Drain: wait for what is still in flight, bounded.
	r.Published, r.PublishErrors = p.published.Load(), p.errors.Load()
	r.Expected = r.Published * subs
	last, lastAt := cl.delivered.Load(), time.Now()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); {
		d := cl.delivered.Load()
		if d >= r.Expected {
			break
		}
		if d != last {
			last, lastAt = d, time.Now()
		} else if time.Since(lastAt) > 3*time.Second {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling the counter, bounded above
	}
	r.Received = cl.delivered.Load()
	r.Lost = r.Expected - r.Received
	return nil
}

// awaitCluster polls the publishing node's /health until it reports a
// cluster link or a connected broker (bounded: 10 s);
// errClusterUnavailable otherwise.
func awaitCluster(api string) error {
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		if b, err := httpGet(api + "/health"); err == nil && (bytes.Contains(b, []byte(`"cluster_connected":true`)) ||
			bytes.Contains(b, []byte(`"connected":true`))) {
			return nil
		}
		time.Sleep(100 * time.Millisecond) // polling with a deadline
	}
	return errClusterUnavailable
}

// awaitSubscribers polls the server until it counts want subscribers of the
// topic (bounded: 10 s).
func awaitSubscribers(cl *client, o *options, want int) error {
	var got int
	var err error
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		got, err = cl.t.subscribers(o.apiURL, o.topic)
		if err == nil && got >= want {
			return nil
		}
		time.Sleep(50 * time.Millisecond) // polling with a deadline
	}
	return fmt.Errorf("server counts %d subscribers, want %d (%v)", got, want, err)
}

// publisher publishes stamped messages: at a fixed rate, or as fast as the
// delivery window allows.
type publisher struct {
	cl   *client
	o    *options
	subs int64
	url  string

	issued    atomic.Int64
	published atomic.Int64
	errors    atomic.Int64
	stopped   atomic.Bool
	stalled   atomic.Bool
	wg        sync.WaitGroup

	// mu guards needs: the delivered count each waiting publisher needs
	// (MaxInt64 when not waiting); cl.wakeAt is their minimum.
	mu    sync.Mutex
	needs []int64
}

func (p *publisher) start() {
	if p.o.rate > 0 {
		p.wg.Go(p.fixedRate)
		return
	}
	p.needs = make([]int64, p.o.publishers)
	p.cl.wake = make([]chan struct{}, p.o.publishers)
	for i := range p.needs {
		p.needs[i] = math.MaxInt64
		p.cl.wake[i] = make(chan struct{}, 1)
	}
	for i := range p.o.publishers {
		p.wg.Go(func() { p.windowed(i) })
	}
}

// stop ends publishing and waits for in-flight requests (bounded by the
// HTTP client's timeout).
func (p *publisher) stop() {
	p.stopped.Store(true)
	p.wg.Wait()
}

// fixedRate publishes message i at start + i/rate, catching up without
// skipping when it falls behind. Messages are stamped with their scheduled
// time, not the time they were sent: latency is open-loop, so a server that
// makes the publisher fall behind pays for it (no coordinated omission).
func (p *publisher) fixedRate() {
	interval := time.Duration(float64(time.Second) / p.o.rate)
	start := time.Now()
	var body, msg []byte
	for i := int64(0); !p.stopped.Load(); i++ {
		slot := start.Add(time.Duration(i) * interval)
		if d := time.Until(slot); d > 0 {
			time.Sleep(d) // pacing, not synchronization
		}
		p.post(&body, &msg, i, slot.UnixNano())
	}
}

// windowed is publishing goroutine i of the as-fast-as-possible mode.
func (p *publisher) windowed(i int) {
	var body, msg []byte
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	w := int64(p.o.window)
	for !p.stopped.Load() {
		seq := p.issued.Add(1) - 1
		if need := (seq - w + 1) * p.subs; !p.await(i, need, timer) {
			return
		}
		p.post(&body, &msg, seq, time.Now().UnixNano())
	}
}

// await blocks until need messages are delivered; false when publishing
// stopped or deliveries stalled for 10 s.
func (p *publisher) await(i int, need int64, timer *time.Timer) bool {
	if p.cl.delivered.Load() >= need {
		return true
	}
	p.setNeed(i, need)
	defer p.setNeed(i, math.MaxInt64)
	last, lastAt := p.cl.delivered.Load(), time.Now()
	for {
		d := p.cl.delivered.Load()
		switch {
		case d >= need:
			return true
		case p.stopped.Load():
			return false
		case d != last:
			last, lastAt = d, time.Now()
		case time.Since(lastAt) > 10*time.Second:
			p.stalled.Store(true)
			return false
		}
		timer.Reset(5 * time.Millisecond)
		select {
		case <-p.cl.wake[i]:
		case <-timer.C:
		}
	}
}

func (p *publisher) setNeed(i int, need int64) {
	p.mu.Lock()
	p.needs[i] = need
	m := int64(math.MaxInt64)
	for _, n := range p.needs {
		m = min(m, n)
	}
	p.cl.wakeAt.Store(m)
	p.mu.Unlock()
}

// post publishes message seq stamped ts and counts the outcome.
func (p *publisher) post(body, msg *[]byte, seq, ts int64) {
	*msg = payload((*msg)[:0], seq, p.o.size, ts)
	*body = p.cl.t.publishBody((*body)[:0], p.o.topic, *msg)
	resp, err := apiClient.Post(p.url, "application/json", bytes.NewReader(*body))
	if err != nil {
		p.errors.Add(1)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		p.errors.Add(1)
		return
	}
	p.published.Add(1)
}
