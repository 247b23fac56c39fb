package topic

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateChecksNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		topic string
		ok    bool
	}{
		{"Simple", "chat", true},
		{"Dotted", "chat.room.42", true},
		{"Colons", "user:42:inbox", true},
		{"Glob", "chat.*", true},
		{"Unicode", "комната.日本", true},
		{"Emoji", "room.🎉", true},
		{"Space", "my room", true},
		{"Tilde", "~", true},
		{"OneByte", "x", true},
		{"MaxLen", strings.Repeat("a", MaxLen), true},
		{"MaxLenMultiByte", strings.Repeat("é", MaxLen/2), true},
		{"Empty", "", false},
		{"TooLong", strings.Repeat("a", MaxLen+1), false},
		{"TooLongMultiByte", strings.Repeat("é", MaxLen/2) + "a", false},
		{"Newline", "a\nb", false},
		{"CarriageReturn", "a\r", false},
		{"Tab", "\tb", false},
		{"NUL", "a\x00", false},
		{"Unit separator", "a\x1f", false},
		{"DEL", "a\x7f", false},
		{"InvalidUTF8", "a\xffb", false},
		{"TruncatedUTF8", "\xe6\x97", false},
		{"Surrogate", "\xed\xa0\x80", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(tt.topic)
			if tt.ok && err != nil {
				t.Fatalf("Validate(%q) = %v, want nil", tt.topic, err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate(%q) = %v, want ErrInvalid", tt.topic, err)
			}
		})
	}
}

func TestIsPatternFindsGlobCharacters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    string
		want bool
	}{
		{"chat", false}, {"", false}, {"chat.*", true}, {"a?c", true}, {"{user_id}", false},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			t.Parallel()
			if got := IsPattern(tt.s); got != tt.want {
				t.Fatalf("IsPattern(%q) = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}

func TestExpandReplacesUserID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, template, userID, want string
		globErr                      bool
	}{
		{"Once", "user:{user_id}", "42", "user:42", false},
		{"Twice", "{user_id}.to.{user_id}", "a", "a.to.a", false},
		{"None", "chat.*", "42", "chat.*", false},
		{"EmptyUserID", "user:{user_id}:*", "", "user::*", false},
		{"NotRecursive", "u:{user_id}", "{user_id}", "u:{user_id}", false},
		{"OtherBraces", "u:{user}", "42", "u:{user}", false},
		{"StarUserID", "user:{user_id}:*", "*", "user:*:*", true},
		{"QuestionUserID", "user:{user_id}", "a?", "user:a?", true},
		{"StarUserIDUnused", "chat.*", "*", "chat.*", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Expand(tt.template, tt.userID); got != tt.want {
				t.Fatalf("Expand(%q, %q) = %q, want %q", tt.template, tt.userID, got, tt.want)
			}
			got, err := ExpandGlob(tt.template, tt.userID)
			if tt.globErr {
				if !errors.Is(err, ErrUnsafeUserID) || got != "" {
					t.Fatalf("ExpandGlob(%q, %q) = %q, %v; want ErrUnsafeUserID", tt.template, tt.userID, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ExpandGlob(%q, %q) = %q, %v; want %q", tt.template, tt.userID, got, err, tt.want)
			}
		})
	}
}
