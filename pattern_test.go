package wse_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wse-go/wse"
)

// subscribeReply sends a subscription request for topics and returns the
// reply's payload.
func subscribeReply(t *testing.T, c *client, topics ...string) map[string]any {
	t.Helper()
	c.send(subscribeReq(topics...))
	return payload(c.readType("subscription_update"))
}

// expectNothing fails when c receives a frame within a short wait.
func expectNothing(t *testing.T, c *client) {
	t.Helper()
	if data, _, err := c.tryRead(200 * time.Millisecond); err == nil {
		t.Fatalf("unexpected delivery: %s", data)
	}
}

func TestPatternSubscriberGetsEveryMatchingTopicOnce(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{ClientSubscriptions: wse.PolicyAny})
	c, _ := ready(t, wsURL(srv, ""), nil)
	// A pattern and a topic it matches: each publication still arrives once.
	if got := subscribeReply(t, c, "prices.*", "prices.AAPL"); fmt.Sprint(got["success_topics"]) != "[prices.* prices.AAPL]" {
		t.Fatalf("reply %v", got)
	}
	exact, _ := ready(t, wsURL(srv, ""), nil)
	subscribeReply(t, exact, "prices.AAPL")
	for _, tp := range []string{"prices.AAPL", "prices.MSFT.bid", "news.today"} {
		n, err := srv.Broadcast(tp, fmt.Sprintf(`{"t":"tick","p":{"topic":%q}}`, tp))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"prices.AAPL": 2, "prices.MSFT.bid": 1, "news.today": 0}[tp]
		if n != want {
			t.Fatalf("Broadcast(%s) reached %d connections, want %d", tp, n, want)
		}
	}
	for _, want := range []string{"prices.AAPL", "prices.MSFT.bid"} {
		m := c.readType("tick")
		if m["tp"] != want || payload(m)["topic"] != want {
			t.Fatalf("pattern subscriber got %v, want topic %s", m, want)
		}
	}
	expectNothing(t, c)
	if m := exact.readType("tick"); m["tp"] != "prices.AAPL" {
		t.Fatalf("exact subscriber got %v", m)
	}
	expectNothing(t, exact)
	if n := srv.TopicSubscriberCount("prices.*"); n != 1 {
		t.Fatalf("TopicSubscriberCount(prices.*) = %d", n)
	}
	// Leaving the pattern stops its deliveries; the exact topic stays.
	c.send(`{"t":"subscription_update","p":{"action":"unsubscribe","topics":["prices.*"]}}`)
	c.readType("subscription_update")
	if _, err := srv.Broadcast("prices.MSFT.bid", `{"t":"tick"}`); err != nil {
		t.Fatal(err)
	}
	expectNothing(t, c)
}

func TestPatternSubscriptionsFollowTheACL(t *testing.T) {
	t.Parallel()
	srv := startServer(t, wse.Config{
		JWT:          wse.JWTConfig{Secret: testSecret},
		ClientTopics: []string{"prices.*", "user.{user_id}.*"},
	})
	c, _ := ready(t, wsURL(srv, ""), bearer(token(t, "alice", map[string]any{
		"wse_topics": map[string]any{"allow": []string{"news.*"}, "deny": []string{"news.internal*"}},
	})))
	reply := subscribeReply(t, c, "prices.*", "prices.AAPL.*", "user.alice.*", "user.*", "*", "news.*", "news.sport.*")
	if got := fmt.Sprint(reply["success_topics"]); got != "[prices.* prices.AAPL.* user.alice.* news.sport.*]" {
		t.Fatalf("granted %s (reply %v)", got, reply)
	}
	codes := reply["failed_codes"].(map[string]any)
	for _, refused := range []string{"user.*", "*", "news.*"} {
		if codes[refused] != "FORBIDDEN" {
			t.Fatalf("%s: code %v, want FORBIDDEN (reply %v)", refused, codes[refused], reply)
		}
	}
	// The application's Subscribe applies the connection's explicit ACL the
	// same way.
	err := srv.Subscribe(connIDOf(t, srv), []string{"news.*"}, nil)
	if !errors.Is(err, wse.ErrForbidden) {
		t.Fatalf("Subscribe(news.*) = %v, want ErrForbidden", err)
	}
}

// connIDOf returns the id of the server's only connection.
func connIDOf(t *testing.T, srv *wse.Server) string {
	t.Helper()
	ids := srv.Connections()
	if len(ids) != 1 {
		t.Fatalf("connections %v", ids)
	}
	return ids[0]
}

func TestPatternSubscriberRecoversEachConcreteTopic(t *testing.T) {
	t.Parallel()
	srv := recoveryServer(t, wse.RecoveryConfig{})
	c, _ := ready(t, wsURL(srv, ""), nil)
	subscribeReply(t, c, "prices.*")
	publishN(t, srv, "prices.A", 0, 3)
	publishN(t, srv, "prices.B", 0, 2)
	last := map[string]uint64{}
	epoch := map[string]string{} // each topic has its own stream and epoch
	for range 5 {
		m := c.readType("tick")
		tp := m["tp"].(string)
		epoch[tp], last[tp], _ = stamp(t, m)
	}
	if last["prices.A"] != 3 || last["prices.B"] != 2 {
		t.Fatalf("stamps per concrete topic %v", last)
	}
	_ = c.conn.Close()
	publishN(t, srv, "prices.A", 3, 2) // missed: A 4, 5
	publishN(t, srv, "prices.B", 2, 1) // missed: B 3

	c2, _ := ready(t, wsURL(srv, ""), nil)
	b, _ := json.Marshal(map[string]any{"t": "subscription_update", "p": map[string]any{
		"action": "subscribe", "topics": []string{"prices.*"}, "recover": true,
		"recovery": map[string]any{
			"prices.A": map[string]any{"epoch": epoch["prices.A"], "offset": last["prices.A"]},
			"prices.B": map[string]any{"epoch": epoch["prices.B"], "offset": last["prices.B"]},
		},
	}})
	c2.send(string(b))
	got := map[string][]uint64{}
	for range 3 {
		m := c2.readType("tick")
		_, o, _ := stamp(t, m)
		got[m["tp"].(string)] = append(got[m["tp"].(string)], o)
	}
	if fmt.Sprint(got) != "map[prices.A:[4 5] prices.B:[3]]" {
		t.Fatalf("replayed %v", got)
	}
	reply := payload(c2.readType("subscription_update"))
	rec := reply["recovery"].(map[string]any)
	if len(rec) != 2 || rec["prices.A"].(map[string]any)["recovered"] != true || rec["prices.B"].(map[string]any)["count"] != float64(1) {
		t.Fatalf("recovery %v", rec)
	}
	// Live messages after the replay arrive once each, via the pattern or
	// the concrete subscription the recovery added.
	publishN(t, srv, "prices.A", 5, 1)
	publishN(t, srv, "prices.C", 0, 1)
	for _, want := range []string{"prices.A", "prices.C"} {
		if m := c2.readType("tick"); m["tp"] != want {
			t.Fatalf("live %v, want %s", m, want)
		}
	}
	expectNothing(t, c2)
}

func TestClusterPatternSubscriberGetsEachMatchingMessageOnce(t *testing.T) {
	t.Parallel()
	nodes := clusterNodes(t, 2)
	a, b := nodes[0], nodes[1]
	cb, _ := ready(t, wsURL(b, ""), bearer(token(t, "bob", nil)))
	subscribeReply(t, cb, "orders.*", "orders.eu")
	waitRoute(t, a, "orders.marker", cb)
	for i := range 10 {
		for _, tp := range []string{"orders.eu", "orders.us", "trades.eu"} {
			if _, err := a.Broadcast(tp, fmt.Sprintf(`{"t":"o","p":{"i":%d}}`, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := map[string]int{}
	for range 20 {
		m := cb.readType("o")
		count[m["tp"].(string)]++
	}
	if count["orders.eu"] != 10 || count["orders.us"] != 10 {
		t.Fatalf("deliveries per topic %v", count)
	}
	expectNothing(t, cb)
	// Interest routing uses the same matcher: a topic the pattern does not
	// match is not forwarded to B at all.
	before := a.HealthSnapshot().ClusterMessagesSent
	if _, err := a.Broadcast("trades.eu", `{"t":"o"}`); err != nil {
		t.Fatal(err)
	}
	if sent := a.HealthSnapshot().ClusterMessagesSent - before; sent != 0 {
		t.Fatalf("forwarded %d messages that no one on B receives", sent)
	}
}
