package adminapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

func TestPasswordPolicy(t *testing.T) {
	tests := []struct {
		name, username, pw string
		want               string // part of the complaint; "" passes
	}{
		{"a passphrase", "alice", personPassword, ""},
		{"the e2e passphrase", "m-viewer", "Matrix-Role-Passphrase-417", ""},
		{"letters beyond ASCII count as characters", "alice", "пароль-надёжный", ""},
		{"a short username is not looked for", "al", "always-albatross-77", ""},
		{"exactly 12", "alice", "tr0ub4dor&3x", ""},
		{"exactly 72 bytes", "alice", strings.Repeat("xy7-", 18), ""},

		{"too short", "alice", "Tr0ub4dor&3", "at least 12 characters"},
		{"too long for bcrypt", "alice", strings.Repeat("xy7-", 18) + "z", "at most 72 bytes"},
		{"control characters", "alice", "correct\nhorse-battery", "control characters"},
		{"invalid UTF-8", "alice", "correct-horse-\xff\xfe", "UTF-8"},
		{"the username", "alice", "my-name-is-ALICE-ok", "username"},
		{"one character", "alice", "xxxxxxxxxxxxxx", "repeated"},
		{"a short pattern", "alice", "abcabcabcabcab", "repeated"},
		{"digits repeated", "alice", "121212121212", "repeated"},
		{"letters up", "alice", "abcdefghijklm", "sequence"},
		{"digits up, wrapping", "alice", "123456789012", "sequence"},
		{"digits down", "alice", "987654321098", "sequence"},
		{"a keyboard row", "alice", "qwertyuiop[]", "keyboard"},
		{"a keyboard row backwards", "alice", "][poiuytrewq", "keyboard"},
		{"a keyboard column walk", "alice", "1qaz2wsx3edc", "keyboard"},
		{"a common password", "alice", "mickeymouse12", "common"},
		{"a common one with a year", "alice", "Password2024!", "common"},
		{"a common one with punctuation", "alice", "iloveyou!!!!!", "common"},
		{"leetspeak on the list", "alice", "P@ssw0rd123456", "common"},
		{"a common one, capitalised", "alice", "Football12345", "common"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := passwordProblem(tt.username, tt.pw)
			switch {
			case tt.want == "" && got != "":
				t.Errorf("passwordProblem(%q) = %q, want it accepted", tt.pw, got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("passwordProblem(%q) = %q, want it to say %q", tt.pw, got, tt.want)
			}
		})
	}
	// The error names the field it is given.
	err := checkPasswordPolicy("new_password", "alice", "short")
	if fe, ok := errors.AsType[spec.FieldErrors](err); !ok || len(fe) != 1 || fe[0].Field != "new_password" {
		t.Errorf("checkPasswordPolicy: %v, want one field error naming new_password", err)
	}
	if err := checkPasswordPolicy("password", "alice", personPassword); err != nil {
		t.Errorf("checkPasswordPolicy of a good password: %v", err)
	}
}

// TestEasyPasswordsList: the embedded list is loaded, lowercase, one per
// line, a few hundred long.
func TestEasyPasswordsList(t *testing.T) {
	list := easyPasswords()
	if len(list) < 300 {
		t.Errorf("%d easy passwords, want a few hundred", len(list))
	}
	for w := range list {
		if w != strings.ToLower(w) || strings.TrimSpace(w) != w {
			t.Errorf("%q is not lowercase and trimmed", w)
		}
	}
	for _, w := range []string{"123456", "password", "qwerty", "iloveyou", "letmein", "admin"} {
		if !list[w] {
			t.Errorf("%q is missing", w)
		}
	}
}
