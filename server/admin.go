package server

import (
	"cmp"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/monitor"
)

// Bounds of the admin dashboard's snapshot (GET /api/admin/snapshot).
const (
	// adminSamples one-second samples are kept for the rate charts (5 min).
	adminSamples     = 300
	adminSampleEvery = time.Second
	// adminConnections, adminTopics and adminPresenceTopics bound the lists;
	// adminMembers the presence members listed per topic.
	adminConnections    = 200
	adminTopics         = 200
	adminPresenceTopics = 20
	adminMembers        = 50
	// adminPresenceScan is the largest topic whose members are listed:
	// listing copies them all, so bigger topics show their count only.
	adminPresenceScan = 1000
)

// rateSample is one point of the dashboard's charts.
type rateSample struct {
	// T is the sample time in Unix milliseconds.
	T int64 `json:"t"`
	// In and Out are client messages received and frames sent per second;
	// Publications topic publications per second.
	In           float64 `json:"in"`
	Out          float64 `json:"out"`
	Publications float64 `json:"publications"`
	// Connections is the open connection count at T.
	Connections int `json:"connections"`
}

// rateHistory is the bounded ring of rate samples behind the charts.
type rateHistory struct {
	// mu guards every field.
	mu     sync.Mutex
	ring   [adminSamples]rateSample
	head   int // index of the oldest sample
	n      int
	last   wse.Metrics
	lastAt time.Time
}

// add records the rates since the previous call.
func (h *rateHistory) add(now time.Time, m wse.Metrics) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.lastAt.IsZero() {
		secs := now.Sub(h.lastAt).Seconds()
		if secs <= 0 {
			return
		}
		rate := func(cur, prev uint64) float64 {
			if cur < prev {
				return 0
			}
			return float64(cur-prev) / secs
		}
		s := rateSample{
			T:            now.UnixMilli(),
			In:           rate(m.MessagesReceived, h.last.MessagesReceived),
			Out:          rate(m.MessagesSent, h.last.MessagesSent),
			Publications: rate(m.Publications, h.last.Publications),
			Connections:  m.Connections,
		}
		if h.n == len(h.ring) {
			h.head = (h.head + 1) % len(h.ring)
			h.n--
		}
		h.ring[(h.head+h.n)%len(h.ring)] = s
		h.n++
	}
	h.last, h.lastAt = m, now
}

// samples returns the samples, oldest first.
func (h *rateHistory) samples() []rateSample {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]rateSample, h.n)
	for i := range h.n {
		out[i] = h.ring[(h.head+i)%len(h.ring)]
	}
	return out
}

// adminServer is the server's configuration as the dashboard shows it.
type adminServer struct {
	WebSocket            string `json:"websocket"`
	Dev                  bool   `json:"dev"`
	Policy               string `json:"policy"`
	Auth                 bool   `json:"auth"`
	RecoveryBufferSize   int    `json:"recovery_buffer_size"`
	RecoveryMemoryBudget int64  `json:"recovery_memory_budget"`
	MaxConnections       int    `json:"max_connections"`
	ClusterAddr          string `json:"cluster_addr"`
}

// adminTopic is one row of the dashboard's topic table.
type adminTopic struct {
	Topic       string `json:"topic"`
	Subscribers int    `json:"subscribers"`
	// PresenceUsers and PresenceConnections are 0 without presence.
	PresenceUsers       int `json:"presence_users"`
	PresenceConnections int `json:"presence_connections"`
}

// adminPresence lists some members of a topic.
type adminPresence struct {
	Topic   string                `json:"topic"`
	Members map[string]wse.Member `json:"members"`
	// More is the number of members left out.
	More int `json:"more"`
}

// adminSnapshot is the body of GET /api/admin/snapshot: everything the
// dashboard shows, read in one call.
type adminSnapshot struct {
	Server      adminServer          `json:"server"`
	Metrics     wse.Metrics          `json:"metrics"`
	History     []rateSample         `json:"history"`
	Connections []wse.ConnectionInfo `json:"connections"`
	TopicCount  int                  `json:"topic_count"`
	Topics      []adminTopic         `json:"topics"`
	Presence    []adminPresence      `json:"presence"`
	Peers       []wse.ClusterPeer    `json:"peers"`
}

// sampleRates records the dashboard's rate history every adminSampleEvery
// until stop is closed.
func (s *Server) sampleRates(stop <-chan struct{}) {
	tick := time.NewTicker(adminSampleEvery)
	defer tick.Stop()
	s.rates.add(time.Now(), s.engine.Metrics())
	for {
		select {
		case now := <-tick.C:
			s.rates.add(now, s.engine.Metrics())
		case <-stop:
			return
		}
	}
}

func (s *Server) adminSnapshot(w http.ResponseWriter, _ *http.Request) {
	m := s.engine.Metrics()
	snap := adminSnapshot{
		Server: adminServer{
			WebSocket:            s.WebSocketURL(),
			Dev:                  s.cfg.Dev,
			Policy:               s.cfg.PolicySummary(),
			Auth:                 s.cfg.JWTSecret != "",
			RecoveryBufferSize:   s.cfg.RecoveryBufferSize,
			RecoveryMemoryBudget: s.cfg.RecoveryMemoryBudget,
			MaxConnections:       s.cfg.MaxConnections,
			ClusterAddr:          s.engine.ClusterAddr(),
		},
		Metrics:     m,
		History:     s.rates.samples(),
		Connections: s.engine.ConnectionInfos(adminConnections),
		Peers:       s.engine.ClusterInfo(),
	}
	names := s.engine.Topics()
	snap.TopicCount = len(names)
	topics := make([]adminTopic, 0, len(names))
	for _, t := range names {
		row := adminTopic{Topic: t, Subscribers: s.engine.TopicSubscriberCount(t)}
		if m.PresenceEnabled {
			ps := s.engine.PresenceStats(t)
			row.PresenceUsers, row.PresenceConnections = ps.NumUsers, ps.NumConnections
		}
		topics = append(topics, row)
	}
	slices.SortFunc(topics, func(a, b adminTopic) int {
		return cmp.Or(cmp.Compare(b.Subscribers, a.Subscribers), cmp.Compare(a.Topic, b.Topic))
	})
	snap.Topics = topics[:min(len(topics), adminTopics)]
	snap.Presence = []adminPresence{}
	for _, row := range snap.Topics {
		if row.PresenceUsers == 0 || len(snap.Presence) == adminPresenceTopics {
			continue
		}
		if row.PresenceUsers > adminPresenceScan {
			snap.Presence = append(snap.Presence, adminPresence{Topic: row.Topic, Members: map[string]wse.Member{}, More: row.PresenceUsers})
			continue
		}
		all := s.engine.Presence(row.Topic)
		ids := make([]string, 0, len(all))
		for id := range all {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		p := adminPresence{Topic: row.Topic, Members: make(map[string]wse.Member, min(len(ids), adminMembers))}
		for i, id := range ids {
			if i == adminMembers {
				p.More = len(ids) - i
				break
			}
			p.Members[id] = all[id]
		}
		snap.Presence = append(snap.Presence, p)
	}
	if snap.Peers == nil {
		snap.Peers = []wse.ClusterPeer{}
	}
	monitor.WriteJSON(w, http.StatusOK, snap)
}
