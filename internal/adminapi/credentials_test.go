package adminapi

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/spec"
)

// TestCredentialWeakSecrets: a short client-chosen secret is refused with
// a 400 naming its field, and a key's hint in lists reveals nothing
// derived from the stored hash.
func TestCredentialWeakSecrets(t *testing.T) {
	a := newTestAPI(t)
	var app spec.Application
	a.mustJSON("POST", "/applications", map[string]any{"name": "weak", "project": "default"}, http.StatusCreated, &app)
	base := "/applications/" + app.ID + "/credentials"

	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"one-character key", map[string]any{"type": "key-auth", "key": "k"}, "key"},
		{"15-character key", map[string]any{"type": "key-auth", "key": "abcdefghijklmno"}, "key"},
		{"short password", map[string]any{"type": "basic-auth", "username": "bob", "password": "short-pw"}, "password"},
		{"short client secret", map[string]any{"type": "oauth2", "client_secret": "tooshort"}, "client_secret"},
		{"short hmac secret", map[string]any{"type": "hmac-auth", "secret_key": "tooshort"}, "secret_key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do("POST", base, tc.body)
			if r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), tc.field) {
				t.Errorf("status %d fields %v, want 400 naming %s", r.status, r.fields(t), tc.field)
			}
		})
	}

	const chosen = "my-chosen-key-0123456789"
	var given, generated spec.Credential
	a.mustJSON("POST", base, map[string]any{"type": "key-auth", "key": chosen}, http.StatusCreated, &given)
	a.mustJSON("POST", base, map[string]any{"type": "key-auth"}, http.StatusCreated, &generated)
	if len(generated.Key) < spec.MinKeyLength {
		t.Errorf("generated key %q is shorter than %d", generated.Key, spec.MinKeyLength)
	}
	var list listResultOf[spec.Credential]
	a.mustJSON("GET", base, nil, http.StatusOK, &list)
	hints := map[string]string{}
	for _, c := range list.Items {
		hints[c.ID] = c.Hint
	}
	for _, tc := range []struct {
		c    spec.Credential
		key  string
		want string
	}{
		{given, chosen, "...6789"},
		{generated, generated.Key, "..." + generated.Key[len(generated.Key)-4:]},
	} {
		hint := hints[tc.c.ID]
		if hint != tc.want || tc.c.Hint != tc.want {
			t.Errorf("hint listed %q, created %q, want %q", hint, tc.c.Hint, tc.want)
		}
		if sum := credential.HashKey(tc.key); strings.Contains(hint, "sha256") || strings.Contains(hint, sum[:8]) {
			t.Errorf("hint %q shows the key's hash %s", hint, sum)
		}
	}
}
