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
		{"key given", Credential{Type: "key-auth", Key: "my-key-123"}, nil},
		{"no type", Credential{}, []string{"type"}},
		{"bad type", Credential{Type: "ldap"}, []string{"type"}},
		{"basic", Credential{Type: "basic-auth", Username: "alice", Password: "correct horse"}, nil},
		{"basic without user", Credential{Type: "basic-auth"}, []string{"username"}},
		{"basic short password", Credential{Type: "basic-auth", Username: "a", Password: "x"}, []string{"password"}},
		{"hmac seed", Credential{Type: "hmac-auth", AccessKey: "2e4d0bbad47e3b5e3a0c", SecretKey: "815ba6d666d58ef1e79b"}, nil},
		{"field of another type", Credential{Type: "hmac-auth", Password: "xxxxxxxxxx"}, []string{"password"}},
		{"user with colon", Credential{Type: "basic-auth", Username: "a:b"}, []string{"username"}},
		{"jwt", Credential{Type: "jwt-auth", Key: "k", Algorithm: "HS512"}, nil},
		{"jwt bad alg", Credential{Type: "jwt-auth", Algorithm: "none"}, []string{"algorithm"}},
		{"jwt rs256 needs key", Credential{Type: "jwt-auth", Algorithm: "RS256"}, []string{"secret"}},
		{"oauth2", Credential{Type: "oauth2", ClientID: "c", ClientSecret: "longenough"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fieldsOf(tc.c.Validate()); !slices.Equal(got, tc.want) {
				t.Errorf("fields %v, want %v", got, tc.want)
			}
		})
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
