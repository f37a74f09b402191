package accesslog

import (
	"strings"
	"testing"
)

func TestRedactorAppend(t *testing.T) {
	def, err := NewRedactor(DefaultRedacted)
	if err != nil {
		t.Fatal(err)
	}
	globs, err := NewRedactor([]string{"*token*", "X-Sig*", "exact"})
	if err != nil {
		t.Fatal(err)
	}
	none, err := NewRedactor(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		r     *Redactor
		query string
		want  string
	}{
		{"empty", def, "", ""},
		{"nothing to hide", def, "page=2&sort=desc", "page=2&sort=desc"},
		{"one secret", def, "page=2&api_key=abc123", "page=2&api_key=***"},
		{"first and last", def, "token=t&x=1&password=p", "token=***&x=1&password=***"},
		{"case-insensitive", def, "API_KEY=abc&Token=t", "API_KEY=***&Token=***"},
		{"percent-encoded name", def, "%61pi%5Fkey=abc", "%61pi%5Fkey=***"},
		{"encoded upper case name", def, "%54OKEN=abc", "%54OKEN=***"},
		{"plus in name is a space", def, "api+key=v", "api+key=v"},
		{"empty value", def, "key=&a=1", "key=***&a=1"},
		{"name without value kept", def, "token&a=1", "token&a=1"},
		{"value with equals", def, "sig=a=b==&a=1", "sig=***&a=1"},
		{"repeated", def, "code=1&code=2", "code=***&code=***"},
		{"trailing ampersand", def, "a=1&", "a=1&"},
		{"double ampersand", def, "a=1&&key=2", "a=1&&key=***"},
		{"malformed escape kept literal", def, "%zzkey=1&ke%y=2", "%zzkey=1&ke%y=2"},
		{"prefix is not the name", def, "keyring=1&monkey=2", "keyring=1&monkey=2"},
		{"glob inside", globs, "my_token_v2=1&tok=2", "my_token_v2=***&tok=2"},
		{"glob prefix", globs, "x-signature=1&y-sig=2", "x-signature=***&y-sig=2"},
		{"glob exact", globs, "exact=1&exactly=2", "exact=***&exactly=2"},
		{"empty redactor", none, "token=1", "token=1"},
		{"nil redactor", nil, "token=1", "token=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(tc.r.Append(nil, tc.query)); got != tc.want {
				t.Errorf("Append(%q) = %q, want %q", tc.query, got, tc.want)
			}
			// Appending keeps what dst held.
			if got := string(tc.r.Append([]byte("pre|"), tc.query)); got != "pre|"+tc.want {
				t.Errorf("Append after a prefix = %q", got)
			}
		})
	}
}

func TestNewRedactorRefuses(t *testing.T) {
	for _, names := range [][]string{{""}, {"  "}, {"a=b"}, {"a&b"}} {
		if _, err := NewRedactor(names); err == nil {
			t.Errorf("NewRedactor(%q) accepted", names)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"a*", "a", true},
		{"a*", "ba", false},
		{"*a", "ba", true},
		{"*token*", "token", true},
		{"*token*", "xtokenx", true},
		{"*token*", "toke", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"a**b", "ab", true},
		{"abc", "abcd", false},
	} {
		if got := globMatch(tc.pattern, []byte(tc.name)); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pattern, tc.name, got)
		}
	}
}

func TestRedactorAllocatesNothing(t *testing.T) {
	r, err := NewRedactor(append([]string{"*token*"}, DefaultRedacted...))
	if err != nil {
		t.Fatal(err)
	}
	q := "page=2&api_key=abc&%61ccess_token=x&sort=" + strings.Repeat("z", 100)
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(1000, func() { buf = r.Append(buf[:0], q) }); n != 0 {
		t.Errorf("Append allocates %v times", n)
	}
}
