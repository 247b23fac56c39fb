package wseclient

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// stampedMsg is a publication of topic at (epoch, offset).
func stampedMsg(topic, epoch string, offset uint64) Message {
	return Message{Type: "tick", Topic: topic, Epoch: epoch, Offset: offset}
}

// trace renders what a tracker call produced: delivered stamps, events and
// recovery requests, e.g. "A/e1:3 missed(A e1:3..e2:0) ask(A e1:3)".
func trace(o *trackOut) string {
	var parts []string
	for _, it := range o.items {
		switch {
		case it.ev != nil && it.ev.Kind == EventMissedData:
			parts = append(parts, fmt.Sprintf("missed(%s %s:%d..%s:%d)", it.ev.Topic, it.ev.From.Epoch, it.ev.From.Offset, it.ev.To.Epoch, it.ev.To.Offset))
		case it.ev != nil:
			parts = append(parts, it.ev.Kind.String())
		case it.msg.Topic != "":
			parts = append(parts, fmt.Sprintf("%s/%s:%d", it.msg.Topic, it.msg.Epoch, it.msg.Offset))
		default:
			parts = append(parts, "id:"+it.msg.ID)
		}
	}
	for topic, p := range o.recover {
		parts = append(parts, fmt.Sprintf("ask(%s %s:%d)", topic, p.Epoch, p.Offset))
	}
	return strings.Join(parts, " ")
}

// step is one input to a tracker: a message or a subscription reply.
type step struct {
	msg   *Message
	reply *reply
	after time.Duration // time passed since the start
	want  string        // trace of the output
}

func msgStep(topic, epoch string, offset uint64, want string) step {
	m := stampedMsg(topic, epoch, offset)
	return step{msg: &m, want: want}
}

func replyStep(topic, epoch string, offset uint64, recovered bool, want string) step {
	return step{reply: &reply{Action: actionSubscribe, Granted: []string{topic},
		Recovery: map[string]RecoveryResult{topic: {Epoch: epoch, Offset: offset, Recovered: recovered}}}, want: want}
}

func TestTrackerDeliversEachOffsetOnceOrReportsTheGap(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		recoverable bool
		steps       []step
	}{
		{"in order with duplicates", true, []step{
			msgStep("A", "e1", 5, "A/e1:5"),
			msgStep("A", "e1", 6, "A/e1:6"),
			msgStep("A", "e1", 6, ""),
			msgStep("A", "e1", 2, ""),
			msgStep("A", "e1", 7, "A/e1:7"),
		}},
		{"gap repaired by replay", true, []step{
			msgStep("A", "e1", 3, "A/e1:3"),
			msgStep("A", "e1", 5, "ask(A e1:3)"),
			msgStep("A", "e1", 6, ""),
			msgStep("A", "e1", 4, "A/e1:4"),
			msgStep("A", "e1", 5, "A/e1:5"),
			msgStep("A", "e1", 6, "A/e1:6"),
			replyStep("A", "e1", 6, true, ""),
			msgStep("A", "e1", 7, "A/e1:7"),
		}},
		{"replay after the reply of an earlier request", true, []step{
			msgStep("A", "e1", 3, "A/e1:3"),
			msgStep("A", "e1", 6, "ask(A e1:3)"),
			replyStep("A", "e1", 6, true, "ask(A e1:3)"),
			msgStep("A", "e1", 4, "A/e1:4"),
			msgStep("A", "e1", 5, "A/e1:5"),
			msgStep("A", "e1", 6, "A/e1:6"),
			replyStep("A", "e1", 6, true, ""),
		}},
		{"not recovered: re-baseline and go on", true, []step{
			msgStep("A", "e1", 3, "A/e1:3"),
			msgStep("A", "e1", 900, "ask(A e1:3)"),
			msgStep("A", "e1", 901, ""),
			replyStep("A", "e1", 899, false, "missed(A e1:3..e1:899) A/e1:900 A/e1:901"),
		}},
		{"epoch change while connected", true, []step{
			msgStep("A", "e1", 3, "A/e1:3"),
			msgStep("A", "e2", 1, "ask(A e1:3)"),
			replyStep("A", "e2", 0, false, "missed(A e1:3..e2:0) A/e2:1"),
			msgStep("A", "e2", 2, "A/e2:2"),
		}},
		{"no recovery: report and deliver", false, []step{
			msgStep("A", "e1", 3, "A/e1:3"),
			msgStep("A", "e1", 6, "missed(A e1:3..e1:5) A/e1:6"),
			msgStep("A", "e2", 1, "missed(A e1:6..e2:0) A/e2:1"),
		}},
		{"empty topic baseline", true, []step{
			replyStep("A", "", 0, false, ""),
			msgStep("A", "e1", 1, "A/e1:1"),
		}},
		{"empty topic baseline with a gap asks from the new epoch", true, []step{
			replyStep("A", "", 0, false, ""),
			msgStep("A", "e1", 3, "ask(A e1:0)"),
			msgStep("A", "e1", 1, "A/e1:1"),
			msgStep("A", "e1", 2, "A/e1:2"),
			replyStep("A", "e1", 3, true, "A/e1:3"),
		}},
		{"baseline from a reply", true, []step{
			replyStep("A", "e1", 10, false, ""),
			msgStep("A", "e1", 11, "A/e1:11"),
		}},
		{"reply behind the delivered position", true, []step{
			msgStep("A", "e1", 10, "A/e1:10"),
			replyStep("A", "e1", 8, false, ""),
			msgStep("A", "e1", 11, "A/e1:11"),
		}},
		{"unanswered request is repeated after the timeout", true, []step{
			msgStep("A", "e1", 1, "A/e1:1"),
			msgStep("A", "e1", 3, "ask(A e1:1)"),
			{msg: &Message{Topic: "A", Epoch: "e1", Offset: 4}, after: 5 * time.Second, want: ""},
			{msg: &Message{Topic: "A", Epoch: "e1", Offset: 5}, after: 11 * time.Second, want: "ask(A e1:1)"},
		}},
		{"refused recovery reports the gap", true, []step{
			msgStep("A", "e1", 1, "A/e1:1"),
			msgStep("A", "e1", 3, "ask(A e1:1)"),
			{reply: &reply{Action: actionSubscribe, Failed: []FailedTopic{{Topic: "A", Code: "FORBIDDEN"}}}, want: "missed(A e1:1..e1:2) A/e1:3"},
			msgStep("A", "e1", 5, "missed(A e1:3..e1:4) A/e1:5"),
		}},
		{"granted without a position reports the gap", true, []step{
			msgStep("A", "e1", 1, "A/e1:1"),
			msgStep("A", "e1", 3, "ask(A e1:1)"),
			{reply: &reply{Action: actionSubscribe, Granted: []string{"A"}}, want: "missed(A e1:1..e1:2) A/e1:3"},
		}},
		{"topics are independent", true, []step{
			msgStep("A", "e1", 1, "A/e1:1"),
			msgStep("B", "e9", 7, "B/e9:7"),
			msgStep("A", "e1", 3, "ask(A e1:1)"),
			msgStep("B", "e9", 8, "B/e9:8"),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := newTracker(10 * time.Second)
			tr.reset(tc.recoverable)
			start := time.Unix(1_700_000_000, 0)
			for i, s := range tc.steps {
				var o trackOut
				now := start.Add(s.after)
				if s.msg != nil {
					tr.accept(*s.msg, now, &o)
				} else {
					tr.reply(s.reply, now, &o)
				}
				if got := trace(&o); got != s.want {
					t.Fatalf("step %d: got %q, want %q", i, got, s.want)
				}
			}
		})
	}
}

func TestTrackerPrepareAsksFromKnownPositions(t *testing.T) {
	t.Parallel()
	tr := newTracker(time.Second)
	tr.reset(true)
	now := time.Now()
	var o trackOut
	tr.accept(stampedMsg("A", "e1", 4), now, &o)
	tr.reply(&reply{Action: actionSubscribe, Granted: []string{"E"}, Recovery: map[string]RecoveryResult{"E": {}}}, now, &o)
	from := tr.prepare([]string{"A", "B", "E"}, now)
	if want := map[string]Position{"A": {"e1", 4}}; !reflect.DeepEqual(from, want) {
		t.Fatalf("prepare = %v, want %v", from, want)
	}
	for _, topic := range []string{"A", "B", "E"} {
		if !tr.topics[topic].pending {
			t.Fatalf("%s not pending after prepare", topic)
		}
	}
	tr.reset(false)
	if from := tr.prepare([]string{"A"}, now); from != nil {
		t.Fatalf("prepare without recovery = %v", from)
	}
	if tr.topics["A"].pending {
		t.Fatal("reset left A pending")
	}
	if want := map[string]Position{"A": {"e1", 4}, "E": {}}; !reflect.DeepEqual(tr.positions(), want) {
		t.Fatalf("positions = %v, want %v", tr.positions(), want)
	}
}

func TestTrackerResetDropsHeldMessages(t *testing.T) {
	t.Parallel()
	tr := newTracker(time.Second)
	tr.reset(true)
	now := time.Now()
	var o trackOut
	tr.accept(stampedMsg("A", "e1", 1), now, &o)
	tr.accept(stampedMsg("A", "e1", 3), now, &o)
	tr.reset(true)
	if st := tr.topics["A"]; st.pending || st.held != nil || st.pos != (Position{"e1", 1}) {
		t.Fatalf("state after reset %+v", st)
	}
}

func TestTrackerBoundsHeldMessages(t *testing.T) {
	t.Parallel()
	tr := newTracker(time.Minute)
	tr.reset(true)
	now := time.Now()
	var o trackOut
	tr.accept(stampedMsg("A", "e1", 1), now, &o)
	for off := uint64(3); off < 3+2*maxHeld; off++ {
		tr.accept(stampedMsg("A", "e1", off), now, &o)
	}
	if n := len(tr.topics["A"].held); n != maxHeld {
		t.Fatalf("held %d messages, want %d", n, maxHeld)
	}
}

func TestTrackerForgetsUnsubscribedTopics(t *testing.T) {
	t.Parallel()
	tr := newTracker(time.Second)
	tr.reset(true)
	var o trackOut
	tr.accept(stampedMsg("A", "e1", 1), time.Now(), &o)
	tr.reply(&reply{Action: actionUnsubscribe, Granted: []string{"A"}}, time.Now(), &o)
	if _, ok := tr.topics["A"]; ok {
		t.Fatal("A still tracked after unsubscribe")
	}
}

func TestTrackerDropsRepeatedIDsOfUnstampedMessages(t *testing.T) {
	t.Parallel()
	tr := newTracker(time.Second)
	var o trackOut
	for _, id := range []string{"a", "b", "a", "", "", "b", "c"} {
		tr.accept(Message{Type: "x", ID: id}, time.Now(), &o)
	}
	if got := trace(&o); got != "id:a id:b id: id: id:c" {
		t.Fatalf("delivered %q", got)
	}
	for i := range idWindowSize {
		tr.accept(Message{ID: fmt.Sprint("fill", i)}, time.Now(), &o)
	}
	o = trackOut{}
	tr.accept(Message{ID: "a"}, time.Now(), &o)
	if trace(&o) != "id:a" {
		t.Fatal("an id older than the window was dropped")
	}
}
