package wse_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wse-go/wse"
)

// queueReq is a client request to join (or leave) group of topics.
func queueReq(action, group string, topics ...string) string {
	b, _ := json.Marshal(map[string]any{"t": "subscription_update", "p": map[string]any{
		"action": action, "topics": topics, "queue_group": group,
	}})
	return string(b)
}

// joinGroup connects a client and makes it a member of group of topic.
func joinGroup(t *testing.T, srv *wse.Server, group, topic string) *client {
	t.Helper()
	c, _ := ready(t, wsURL(srv, ""), nil)
	c.send(queueReq("subscribe", group, topic))
	if got := fmt.Sprint(payload(c.readType("subscription_update"))["success_topics"]); got != "["+topic+"]" {
		t.Fatalf("join %s/%s: granted %s", topic, group, got)
	}
	return c
}

// counter reads tick messages from c until stop, recording each n.
type counter struct {
	mu   sync.Mutex
	seen map[int]int
}

func (k *counter) add(n int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.seen[n]++
}

func (k *counter) total() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	sum := 0
	for _, v := range k.seen {
		sum += v
	}
	return sum
}

func TestQueueGroupGivesEachPublicationToOneMember(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyAny})
	members := []*client{joinGroup(t, srv, "workers", "jobs"), joinGroup(t, srv, "workers", "jobs"), joinGroup(t, srv, "workers", "jobs")}
	other := joinGroup(t, srv, "audit", "jobs")
	normal, _ := ready(t, wsURL(srv, ""), nil)
	subscribeReply(t, normal, "jobs")
	const msgs = 30
	for i := range msgs {
		n, err := srv.Broadcast("jobs", fmt.Sprintf(`{"t":"tick","p":{"n":%d}}`, i))
		if err != nil || n != 3 { // the normal subscriber and one member of each group
			t.Fatalf("Broadcast = %d, %v", n, err)
		}
	}
	for i := range msgs {
		if m := normal.readType("tick"); payload(m)["n"] != float64(i) || m["tp"] != "jobs" {
			t.Fatalf("normal subscriber got %v, want n=%d", m, i)
		}
		if m := other.readType("tick"); payload(m)["n"] != float64(i) {
			t.Fatalf("single-member group got %v, want n=%d", m, i)
		}
	}
	// Round robin: each of the three members gets every third message.
	seen := map[float64]bool{}
	for _, c := range members {
		for range msgs / 3 {
			n := payload(c.readType("tick"))["n"].(float64)
			if seen[n] {
				t.Fatalf("message %v delivered to two members", n)
			}
			seen[n] = true
		}
		expectNothing(t, c)
	}
	info := srv.QueueGroupInfo("jobs")
	if fmt.Sprint(info) != fmt.Sprint([]wse.QueueGroup{{Name: "audit", Members: 1, Delivered: msgs}, {Name: "workers", Members: 3, Delivered: msgs}}) {
		t.Fatalf("QueueGroupInfo = %+v", info)
	}
	// A member that disconnects leaves its group.
	_ = members[0].conn.Close()
	eventually(t, "member gone", func() bool { return srv.QueueGroupInfo("jobs")[1].Members == 2 })
}

func TestQueueGroupMemberLeavingMidStreamLosesNothing(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyAny})
	const msgs = 3000
	k := &counter{seen: map[int]int{}}
	var wg sync.WaitGroup
	var leaver *client
	for i := range 3 {
		c := joinGroup(t, srv, "workers", "jobs")
		if i == 0 {
			leaver = c
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k.total() < msgs {
				data, _, err := c.tryRead(5 * time.Second)
				if err != nil {
					return
				}
				var m map[string]any
				if json.Unmarshal(data, &m) == nil && m["t"] == "tick" {
					k.add(int(payload(m)["n"].(float64)))
				}
			}
		}()
	}
	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := range msgs {
			if _, err := srv.Broadcast("jobs", fmt.Sprintf(`{"t":"tick","p":{"n":%d}}`, i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	// The leaver takes part for a while, then leaves the group; what was
	// queued for it before it left still reaches it, before the reply.
	for got := 0; got < 200; {
		if m := leaver.readJSON(); m["t"] == "tick" {
			k.add(int(payload(m)["n"].(float64)))
			got++
		}
	}
	leaver.send(queueReq("unsubscribe", "workers", "jobs"))
	for {
		m := leaver.readJSON()
		if m["t"] == "subscription_update" {
			break
		}
		if m["t"] == "tick" {
			k.add(int(payload(m)["n"].(float64)))
		}
	}
	<-published
	wg.Wait()
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := range msgs {
		if k.seen[i] != 1 {
			t.Fatalf("message %d delivered %d times", i, k.seen[i])
		}
	}
}

func TestQueueGroupSkipsASlowMember(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyAny, MaxOutboundQueueBytes: limit,
		SocketSendBuffer: 16 << 10})
	fast := joinGroup(t, srv, "workers", "jobs")
	slow, m := readyWith(t, wsURL(srv, ""), smallRcvBuf) // never reads
	_ = slow
	if err := srv.SubscribeQueue(connID(m), []string{"jobs"}, "workers"); err != nil {
		t.Fatal(err)
	}
	msg := `{"t":"tick","p":{"s":"` + strings.Repeat("z", 4000) + `"}}`
	const msgs = 200 // 800 KB: far more than the slow member's queue takes
	done := make(chan int)
	go func() {
		got := 0
		for {
			data, _, err := fast.tryRead(5 * time.Second)
			if err != nil {
				done <- got
				return
			}
			if strings.Contains(string(data), `"tick"`) {
				got++
			}
		}
	}()
	for range msgs {
		if _, err := srv.Broadcast("jobs", msg); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond) // let the fast member's queue drain
	}
	got := <-done
	info := srv.QueueGroupInfo("jobs")[0]
	if info.Dropped != 0 || info.Delivered != msgs {
		t.Fatalf("group %+v: every publication must reach a member", info)
	}
	if got < msgs*3/4 {
		t.Fatalf("fast member got %d of %d: the slow one was not skipped", got, msgs)
	}
}

func TestSubscribeQueueRefusesBadInput(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyAny})
	c, m := ready(t, wsURL(srv, ""), nil)
	id := connID(m)
	for _, tc := range []struct {
		topics []string
		group  string
		want   error
	}{
		{[]string{"jobs"}, "", wse.ErrInvalidTopic},
		{[]string{"jobs.*"}, "w", wse.ErrInvalidTopic},
		{[]string{""}, "w", wse.ErrInvalidTopic},
	} {
		if err := srv.SubscribeQueue(id, tc.topics, tc.group); !errors.Is(err, tc.want) {
			t.Fatalf("SubscribeQueue(%v, %q) = %v, want %v", tc.topics, tc.group, err, tc.want)
		}
	}
	if err := srv.SubscribeQueue("nope", []string{"jobs"}, "w"); !errors.Is(err, wse.ErrUnknownConnection) {
		t.Fatalf("unknown connection: %v", err)
	}
	c.send(queueReq("subscribe", "w", "jobs.*", "ok"))
	reply := payload(c.readType("subscription_update"))
	if fmt.Sprint(reply["success_topics"]) != "[ok]" || reply["failed_codes"].(map[string]any)["jobs.*"] != "INVALID_TOPIC" || reply["queue_group"] != "w" {
		t.Fatalf("reply %v", reply)
	}
}

func TestClusterQueueGroupGivesEachPublicationToOneMemberAcrossNodes(t *testing.T) {
	t.Parallel()
	nodes := clusterNodes(t, 3)
	a, b, c := nodes[0], nodes[1], nodes[2]
	tok := func(user string) http.Header { return bearer(token(t, user, nil)) }
	var members []*client
	for i, n := range []*wse.Server{a, b, c, c} {
		m, _ := ready(t, wsURL(n, ""), tok(fmt.Sprintf("worker%d", i)))
		m.send(queueReq("subscribe", "workers", "jobs"))
		m.readType("subscription_update")
		members = append(members, m)
	}
	normal, _ := ready(t, wsURL(c, ""), tok("watcher"))
	subscribeReply(t, normal, "jobs")
	eventually(t, "A knows the members on B and C", func() bool {
		info := a.QueueGroupInfo("jobs")
		return len(info) == 1 && info[0].Members == 1 && fmt.Sprint(info[0].Peers) == "[node-1 node-2]"
	})
	const msgs = 300
	for i := range msgs {
		if _, err := a.Broadcast("jobs", fmt.Sprintf(`{"t":"job","p":{"n":%d}}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range msgs {
		if m := normal.readType("job"); payload(m)["n"] != float64(i) {
			t.Fatalf("normal subscriber got %v, want n=%d", m, i)
		}
	}
	k := &counter{seen: map[int]int{}}
	per := make([]int, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				data, _, err := m.tryRead(time.Second)
				if err != nil {
					return
				}
				var v map[string]any
				if json.Unmarshal(data, &v) == nil && v["t"] == "job" {
					k.add(int(payload(v)["n"].(float64)))
					per[i]++
				}
			}
		}()
	}
	wg.Wait()
	for i := range msgs {
		if k.seen[i] != 1 {
			t.Fatalf("job %d delivered %d times across the cluster (per member %v)", i, k.seen[i], per)
		}
	}
	// Nodes are chosen in turn: A, B and C each get a third, and C's two
	// members share C's third.
	if per[0] != msgs/3 || per[1] != msgs/3 || per[2]+per[3] != msgs/3 {
		t.Fatalf("deliveries per member %v", per)
	}
}
