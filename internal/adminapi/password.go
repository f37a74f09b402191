package adminapi

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/portico-gw/portico/internal/spec"
)

// Password policy for passwords people choose here (a new user's, a reset,
// an accepted invitation, a change of one's own). The bootstrap admin's
// password comes from the environment of whoever installs Portico and is
// not checked: refusing it would leave the install without a user.
const (
	minPasswordChars = 12
	// maxPasswordBytes is bcrypt's limit: it reads no further, so a longer
	// password would be accepted and silently cut.
	maxPasswordBytes = 72
	// minUsernameInPassword: a username shorter than this is not looked
	// for, or a user "al" could not have a password containing "al".
	minUsernameInPassword = 3
)

//go:embed easy_passwords.txt
var easyPasswordsText string

// easyPasswords is the embedded list as a set, built on first use.
var easyPasswords = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for line := range strings.Lines(easyPasswordsText) {
		if w := strings.TrimSpace(line); w != "" {
			m[w] = true
		}
	}
	return m
})

// keyboardRows are runs of neighbouring keys (US layout), forwards; a
// password that is a piece of one, or of one backwards, is a keyboard walk.
var keyboardRows = []string{"`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/-['=]"}

// checkPasswordPolicy answers a 400 naming field when pw breaks a rule of
// the policy, saying which; username is the account's.
func checkPasswordPolicy(field, username, pw string) error {
	if msg := passwordProblem(username, pw); msg != "" {
		return fieldError(field, "%s", msg)
	}
	return nil
}

// passwordProblem is the rule pw breaks, "" when none.
func passwordProblem(username, pw string) string {
	switch {
	case !utf8.ValidString(pw):
		return "must be valid UTF-8"
	case strings.ContainsFunc(pw, unicode.IsControl):
		return "must not hold control characters"
	case utf8.RuneCountInString(pw) < minPasswordChars:
		return "must be at least 12 characters long"
	case len(pw) > maxPasswordBytes:
		return "must be at most 72 bytes long (bcrypt ignores the rest)"
	}
	lower := strings.ToLower(pw)
	if u := strings.ToLower(username); utf8.RuneCountInString(u) >= minUsernameInPassword && strings.Contains(lower, u) {
		return "must not contain the username"
	}
	if repeated(lower) {
		return "must not be one character or a short pattern repeated"
	}
	if sequence(lower) {
		return "must not be a simple sequence (abcd…, 1234…, 9876…) or a row of the keyboard"
	}
	if easy(lower) {
		return "is one of the most common passwords (or one with digits or punctuation added at the end): choose another"
	}
	return ""
}

// repeated reports whether s is a pattern of one to three characters
// repeated ("aaaa…", "abab…", "123123…").
func repeated(s string) bool {
	r := []rune(s)
	for n := 1; n <= 3 && n < len(r); n++ {
		ok := true
		for i := n; i < len(r) && ok; i++ {
			ok = r[i] == r[i-n]
		}
		if ok {
			return true
		}
	}
	return false
}

// sequence reports whether s climbs or falls one step at a time (digits
// wrap around: 7890123…), or is a piece of a keyboard row.
func sequence(s string) bool {
	r := []rune(s)
	for _, step := range []rune{1, -1} {
		ok := true
		for i := 1; i < len(r) && ok; i++ {
			next := r[i-1] + step
			if isDigit(r[i-1]) && isDigit(r[i]) {
				next = '0' + (r[i-1]-'0'+step+10)%10
			}
			ok = r[i] == next
		}
		if ok {
			return true
		}
	}
	for _, row := range keyboardRows {
		if strings.Contains(row, s) || strings.Contains(reverse(row), s) {
			return true
		}
	}
	return false
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// easy reports whether s (lowercase) is on the list, as it is or without
// the digits and punctuation people add at the end to pass a rule
// ("Password2024!").
func easy(s string) bool {
	list := easyPasswords()
	if list[s] {
		return true
	}
	stem := strings.TrimRightFunc(s, func(r rune) bool { return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) })
	return stem != "" && list[stem]
}

// passwordFieldErrors adds the policy's complaint about pw to fe.
func passwordFieldErrors(fe *spec.FieldErrors, field, username, pw string) {
	if msg := passwordProblem(username, pw); msg != "" {
		fe.Add(field, "%s", msg)
	}
}
