package protocol

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// parseMsg decodes a client message the way ClassifyText does.
func parseMsg(t *testing.T, text string) map[string]any {
	t.Helper()
	in := ClassifyText([]byte(text))
	if in.Msg == nil {
		t.Fatalf("%s classified as %v", text, in.Kind)
	}
	return in.Msg
}

func TestParseSubscriptionRequestReadsEveryField(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want SubscriptionRequest
		err  bool
	}{
		{"defaults", `{"t":"subscription_update","p":{"topics":["a","b"]}}`,
			SubscriptionRequest{Action: ActionSubscribe, Topics: []string{"a", "b"}}, false},
		{"unsubscribe", `{"t":"subscription","p":{"action":"unsubscribe","topics":[]}}`,
			SubscriptionRequest{Action: ActionUnsubscribe, Topics: []string{}}, false},
		{"unknown action kept", `{"t":"subscription","p":{"action":"rename","topics":[]}}`,
			SubscriptionRequest{Action: "rename", Topics: []string{}}, false},
		{"non-string action", `{"t":"subscription","p":{"action":5,"topics":[]}}`,
			SubscriptionRequest{Topics: []string{}}, false},
		{"invalid topics counted", `{"t":"subscription_update","p":{"topics":["a",1,null,{},"b"]}}`,
			SubscriptionRequest{Action: ActionSubscribe, Topics: []string{"a", "b"}, Invalid: 3}, false},
		{"presence and recovery", `{"t":"subscription_update","p":{"action":"subscribe","topics":["a"],"presence":{"name":"x"},"recover":true,` +
			`"recovery":{"a":{"epoch":"0000abcd","offset":456},"bad1":{"epoch":1,"offset":1},"bad2":{"epoch":"e","offset":-1},"bad3":{"epoch":"e","offset":1.5},"bad4":"x"}}}`,
			SubscriptionRequest{Action: ActionSubscribe, Topics: []string{"a"}, Presence: json.RawMessage(`{"name":"x"}`), Recover: true,
				Recovery: map[string]Position{"a": {Epoch: "0000abcd", Offset: 456}}}, false},
		{"presence not an object", `{"t":"subscription_update","p":{"topics":[],"presence":"x","recover":"yes"}}`,
			SubscriptionRequest{Action: ActionSubscribe, Topics: []string{}}, false},
		{"payload normalized", `{"type":"x","payload":{"topics":["a"]}}`,
			SubscriptionRequest{Action: ActionSubscribe, Topics: []string{"a"}}, false},
		{"no p", `{"t":"subscription_update"}`, SubscriptionRequest{}, true},
		{"p not an object", `{"t":"subscription_update","p":[]}`, SubscriptionRequest{}, true},
		{"no topics", `{"t":"subscription_update","p":{"action":"subscribe"}}`, SubscriptionRequest{}, true},
		{"topics not a list", `{"t":"subscription_update","p":{"topics":"a"}}`, SubscriptionRequest{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSubscriptionRequest(parseMsg(t, tc.in))
			if tc.err {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestSubscriptionReplyFrameMatchesProtocol(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		reply SubscriptionReply
		want  string
	}{
		{"empty lists are arrays", SubscriptionReply{Action: "subscribe", Success: true},
			`{"c":"WSE","t":"subscription_update","p":{"action":"subscribe","success":true,"success_topics":[],"failed_topics":[],"failed_codes":{}},"v":1}`},
		{"full", SubscriptionReply{
			Action: "subscribe", Success: true, SuccessTopics: []string{"b", "a"},
			FailedTopics: []FailedTopic{{"x", CodeForbidden}, {"y\n", CodeInvalidTopic}, {"x", CodeForbidden}},
			Recovery: map[string]RecoveryResult{
				"b": {Epoch: "0000abcd", Offset: 7, Recovered: true, Count: 3},
				"a": {Epoch: "", Offset: 0, Recovered: false, Count: 0},
			},
		}, `{"c":"WSE","t":"subscription_update","p":{"action":"subscribe","success":true,"success_topics":["b","a"],` +
			`"failed_topics":["x","y\n","x"],"failed_codes":{"x":"FORBIDDEN","y\n":"INVALID_TOPIC"},` +
			`"recovery":{"a":{"epoch":"","offset":0,"recovered":false,"count":0},"b":{"epoch":"0000abcd","offset":7,"recovered":true,"count":3}}},"v":1}`},
		{"unsubscribe", SubscriptionReply{Action: "unsubscribe", Success: false, Unsubscribed: []string{"a"}},
			`{"c":"WSE","t":"subscription_update","p":{"action":"unsubscribe","success":false,"success_topics":[],"failed_topics":[],"failed_codes":{},"unsubscribed_topics":["a"]},"v":1}`},
		{"unsubscribe of nothing", SubscriptionReply{Action: "unsubscribe", Success: true},
			`{"c":"WSE","t":"subscription_update","p":{"action":"unsubscribe","success":true,"success_topics":[],"failed_topics":[],"failed_codes":{},"unsubscribed_topics":[]},"v":1}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.reply.Frame()
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Fatal("invalid JSON")
			}
		})
	}
}

func TestParseClientHelloReadsNegotiation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want ClientHello
	}{
		{`{"t":"client_hello","p":{"client_version":"2.4.1","protocol_version":2,"features":{"encryption":true},"encryption_public_key":"BASE"}}`,
			ClientHello{ProtocolVersion: 2, ClientVersion: "2.4.1", Encryption: true, EncryptionPublicKey: "BASE"}},
		{`{"t":"client_hello"}`, ClientHello{ProtocolVersion: 1}},
		{`{"t":"client_hello","p":{"protocol_version":0,"features":[]}}`, ClientHello{ProtocolVersion: 1}},
		{`{"t":"client_hello","p":{"protocol_version":1.5,"client_version":3}}`, ClientHello{ProtocolVersion: 1}},
	}
	for _, tc := range cases {
		if got := ParseClientHello(parseMsg(t, tc.in)); got != tc.want {
			t.Errorf("ParseClientHello(%s) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}
