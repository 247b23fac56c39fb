package topic

import (
	"reflect"
	"testing"
)

func TestACLAllowsFailsClosed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		acl   ACL
		topic string
		want  bool
	}{
		{"ZeroACL", ACL{}, "chat", false},
		{"EmptyAllowWithDeny", ACL{Deny: []string{"secret"}}, "chat", false},
		{"ExactAllow", ACL{Allow: []string{"chat"}}, "chat", true},
		{"GlobAllow", ACL{Allow: []string{"chat.*"}}, "chat.room", true},
		{"NoAllowMatch", ACL{Allow: []string{"chat.*"}}, "news.today", false},
		{"SecondAllowMatches", ACL{Allow: []string{"news.*", "chat.*"}}, "chat.room", true},
		{"DenyWins", ACL{Allow: []string{"chat.*"}, Deny: []string{"chat.admin"}}, "chat.admin", false},
		{"DenyGlobWins", ACL{Allow: []string{"*"}, Deny: []string{"*.admin*"}}, "chat.admins", false},
		{"DenyNotMatching", ACL{Allow: []string{"chat.*"}, Deny: []string{"chat.admin"}}, "chat.room", true},
		{"AllowAll", ACL{Allow: []string{"*"}}, "anything", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.acl.Allows(tt.topic); got != tt.want {
				t.Fatalf("%+v.Allows(%q) = %v, want %v", tt.acl, tt.topic, got, tt.want)
			}
		})
	}
}

func TestACLMergeCombinesRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b ACL
		want ACL
	}{
		{"BothZero", ACL{}, ACL{}, ACL{}},
		{"LeftOnly", ACL{Allow: []string{"a"}}, ACL{}, ACL{Allow: []string{"a"}}},
		{"RightOnly", ACL{}, ACL{Deny: []string{"d"}}, ACL{Deny: []string{"d"}}},
		{"Union", ACL{Allow: []string{"a"}, Deny: []string{"x"}}, ACL{Allow: []string{"b"}, Deny: []string{"y"}},
			ACL{Allow: []string{"a", "b"}, Deny: []string{"x", "y"}}},
		{"Duplicates", ACL{Allow: []string{"a", "b", "a"}}, ACL{Allow: []string{"b", "c"}},
			ACL{Allow: []string{"a", "b", "c"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.a.Merge(tt.b); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Merge = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestACLMergeDoesNotAlias(t *testing.T) {
	t.Parallel()
	a := ACL{Allow: make([]string, 1, 8), Deny: []string{"d"}}
	a.Allow[0] = "a"
	m := a.Merge(ACL{Allow: []string{"b"}})
	m.Allow[0] = "changed"
	m.Deny[0] = "changed"
	if a.Allow[0] != "a" || a.Deny[0] != "d" {
		t.Fatalf("Merge result shares storage with its input: %+v", a)
	}
	if spare := a.Allow[:2]; spare[1] != "" {
		t.Fatalf("Merge appended into its input's spare capacity: %q", spare)
	}
}

func TestACLMergeKeepsDenyPrecedence(t *testing.T) {
	t.Parallel()
	claim := ACL{Allow: []string{"chat.*"}, Deny: []string{"chat.admin"}}
	server := ACL{Allow: []string{"user:42:*", "chat.admin"}}
	m := claim.Merge(server)
	for topic, want := range map[string]bool{"chat.room": true, "user:42:inbox": true, "chat.admin": false, "user:43:inbox": false} {
		if got := m.Allows(topic); got != want {
			t.Errorf("merged Allows(%q) = %v, want %v", topic, got, want)
		}
	}
}
