package server

import (
	"errors"
	"testing"
)

// TestBrokerSettings checks the broker settings: names, exclusion of the
// mesh, the presence TTL floor, and the broker each one builds.
func TestBrokerSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		ok   bool
		kind string
	}{
		{nil, true, ""},
		{[]string{"--broker", "redis", "--redis-url", "redis://127.0.0.1:1"}, true, "redis"},
		{[]string{"--broker", "nats"}, true, "nats"},
		{[]string{"--broker", "kafka"}, false, ""},
		{[]string{"--broker", "redis", "--cluster-port", "7000"}, false, ""},
		{[]string{"--broker", "redis", "--broker-presence-ttl", "1s"}, false, ""},
		{[]string{"--broker", "redis", "--redis-url", "::not a url"}, true, "bad-url"},
	} {
		c, err := Load(tc.args, nil)
		if (err == nil) != tc.ok {
			t.Errorf("%v: error %v, want ok=%v", tc.args, err, tc.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("%v: %v does not wrap ErrInvalidConfig", tc.args, err)
			}
			continue
		}
		b, err := c.newBroker(nil)
		switch tc.kind {
		case "":
			if b != nil || err != nil {
				t.Errorf("%v: broker %v, %v; want none", tc.args, b, err)
			}
		case "bad-url":
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("%v: %v, want ErrInvalidConfig", tc.args, err)
			}
		default:
			if err != nil || b == nil {
				t.Errorf("%v: %v", tc.args, err)
			}
		}
	}
}
