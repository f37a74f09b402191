package spec

import (
	"errors"
	"slices"
	"testing"
)

func fieldsOf(err error) []string {
	var fe FieldErrors
	if !errors.As(err, &fe) {
		return nil
	}
	var out []string
	for _, e := range fe {
		out = append(out, e.Field)
	}
	return out
}

func TestApplicationValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		app  Application
		want []string
	}{
		{"project owned", Application{Name: "mobile", ProjectID: "default", Services: []string{"a"}}, nil},
		{"user owned", Application{Name: "mine"}, nil},
		{"no name", Application{}, []string{"name"}},
		{"bad project", Application{Name: "x", ProjectID: "Not A Slug"}, []string{"project"}},
		{"services without project", Application{Name: "x", Services: []string{"a"}}, []string{"services"}},
		{"duplicate service", Application{Name: "x", ProjectID: "p", Services: []string{"a", "a", ""}}, []string{"services[1]", "services[2]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fieldsOf(tc.app.Validate()); !slices.Equal(got, tc.want) {
				t.Errorf("fields %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCredentialValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Credential
		want []string
	}{
		{"key generated", Credential{Type: "key-auth"}, nil},
		{"key given", Credential{Type: "key-auth", Key: "my-key-1234567890"}, nil},
		{"key too short", Credential{Type: "key-auth", Key: "k"}, []string{"key"}},
		{"key one short", Credential{Type: "key-auth", Key: "my-key-123456789"[:MinKeyLength-1]}, []string{"key"}},
		{"jwt key is a name, not a secret", Credential{Type: "jwt-auth", Key: "k"}, nil},
		{"basic password one short", Credential{Type: "basic-auth", Username: "a", Password: "correct-hors"[:MinPasswordLength-1]}, []string{"password"}},
		{"hmac short secret", Credential{Type: "hmac-auth", SecretKey: "815ba6d666d58ef"}, []string{"secret_key"}},
		{"jwt short hs secret", Credential{Type: "jwt-auth", Secret: "short-secret"}, []string{"secret"}},
		{"oauth2 short secret", Credential{Type: "oauth2", ClientSecret: "longenough"}, []string{"client_secret"}},
		{"no type", Credential{}, []string{"type"}},
		{"bad type", Credential{Type: "ldap"}, []string{"type"}},
		{"basic", Credential{Type: "basic-auth", Username: "alice", Password: "correct horse"}, nil},
		{"basic without user", Credential{Type: "basic-auth"}, []string{"username"}},
		{"basic short password", Credential{Type: "basic-auth", Username: "a", Password: "x"}, []string{"password"}},
		{"hmac seed", Credential{Type: "hmac-auth", AccessKey: "2e4d0bbad47e3b5e3a0c", SecretKey: "815ba6d666d58ef1e79b"}, nil},
		{"field of another type", Credential{Type: "hmac-auth", Password: "xxxxxxxxxx"}, []string{"password"}},
		{"user with colon", Credential{Type: "basic-auth", Username: "a:b"}, []string{"username"}},
		{"jwt", Credential{Type: "jwt-auth", Key: "k", Algorithm: "HS512"}, nil},
		{"mtls", Credential{Type: "mtls-auth", Subject: "client-1.example.com"}, nil},
		{"mtls without subject", Credential{Type: "mtls-auth"}, []string{"subject"}},
		{"mtls with a key", Credential{Type: "mtls-auth", Subject: "a", Key: "k"}, []string{"key"}},
		{"subject on key-auth", Credential{Type: "key-auth", Subject: "a"}, []string{"subject"}},
		{"jwt bad alg", Credential{Type: "jwt-auth", Algorithm: "none"}, []string{"algorithm"}},
		{"jwt rs256 needs key", Credential{Type: "jwt-auth", Algorithm: "RS256"}, []string{"secret"}},
		{"oauth2", Credential{Type: "oauth2", ClientID: "c", ClientSecret: "long-enough-secret"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fieldsOf(tc.c.Validate()); !slices.Equal(got, tc.want) {
				t.Errorf("fields %v, want %v", got, tc.want)
			}
		})
	}
}

func TestKeyHint(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"", ""},
		{"k", ""},
		{"0123456789abcde", ""},
		{"0123456789abcdef", "...cdef"},
		{"WXYZ2345ABCDEFGHJKMNPQRSTV", "...RSTV"},
	} {
		if got := KeyHint(tc.key); got != tc.want {
			t.Errorf("KeyHint(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestCredentialRedacted(t *testing.T) {
	c := Credential{Type: "key-auth", Key: "k", Hint: "k"}.Redacted()
	if c.Key != "" || c.Hint != "k" {
		t.Errorf("key-auth redacted: %+v", c)
	}
	j := Credential{Type: "jwt-auth", Key: "k", Secret: "s"}.Redacted()
	if j.Key != "k" || j.Secret != "" {
		t.Errorf("jwt-auth redacted: %+v", j)
	}
}
