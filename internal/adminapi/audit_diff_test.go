package adminapi

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestSecretName: the names whose values the audit masks, and the
// public ones that contain a secret word.
func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "Password": true, "has_password": true, "db_passwd": true,
		"secret": true, "client_secret": true, "secret_key": true,
		"token": true, "accessToken": true, "X-Auth-Token": true,
		"key": true, "private_key": true, "access_key": true, "X-Api-Key": true, "api_key": true,
		"sealed": true, "hash": true, "Authorization": true, "Cookie": true, "Set-Cookie": true,
		"key_id": false, "token_id": false, "Key-Id": false, "hash_on": false, "hash_on_cookie": false,
		"token_ttl": false, "token_type": false,
		"name": false, "host": false, "username": false, "hint": false, "client_id": false, "pass_host": false,
	} {
		if got := secretName(name); got != want {
			t.Errorf("secretName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestMask: secret members are masked at any depth, inside arrays too;
// null, empty and booleans show whether one is set.
func TestMask(t *testing.T) {
	in := `{"name":"n","password":"p","token":"","secret":null,"has_password":true,"key":42,
		"plugins":{"proxy-rewrite":{"headers":{"set":{"Authorization":"Bearer x","X-Trace":"1"}}}},
		"list":[{"private_key":"k"},{"api_key":[]},{"cookie":{"a":"b"}}],"hash_on":"cookie:sid"}`
	want := `{"has_password":true,"hash_on":"cookie:sid","key":"***","list":[{"private_key":"***"},{"api_key":[]},{"cookie":"***"}],` +
		`"name":"n","password":"***","plugins":{"proxy-rewrite":{"headers":{"set":{"Authorization":"***","X-Trace":"1"}}}},"secret":null,"token":""}`
	got, err := maskedJSON(json.RawMessage(in))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("maskedJSON:\n got %s\nwant %s", got, want)
	}
	if got, err := maskedJSON(nil); got != nil || err != nil {
		t.Errorf("maskedJSON(nil) = %s, %v", got, err)
	}
}

// TestChangeJSON: before, after and the paths that changed, computed on
// the values before masking.
func TestChangeJSON(t *testing.T) {
	type node struct {
		Host string `json:"host"`
		Port int    `json:"port"`
	}
	type obj struct {
		Name     string            `json:"name"`
		Password string            `json:"password,omitempty"`
		Nodes    []node            `json:"nodes"`
		Labels   map[string]string `json:"labels,omitempty"`
		Retries  *int              `json:"retries,omitempty"`
	}
	three := 3
	base := obj{Name: "a", Password: "stored", Nodes: []node{{"h1", 80}, {"h2", 80}}, Labels: map[string]string{"env": "prod"}}
	tests := []struct {
		name          string
		before, after any
		changed       []string
	}{
		{"nothing", base, base, []string{}},
		{"a leaf in an array", base, obj{Name: "a", Password: "stored", Nodes: []node{{"h1", 80}, {"h2", 81}}, Labels: base.Labels}, []string{"nodes[1].port"}},
		{"an array of another length", base, obj{Name: "a", Password: "stored", Nodes: []node{{"h1", 80}}, Labels: base.Labels}, []string{"nodes"}},
		{"a member added and one removed", base, obj{Name: "a", Password: "stored", Nodes: base.Nodes, Retries: &three}, []string{"labels", "retries"}},
		{"a map member", base, obj{Name: "a", Password: "stored", Nodes: base.Nodes, Labels: map[string]string{"env": "dev"}}, []string{"labels.env"}},
		{"a secret replaced", base, obj{Name: "a", Password: "set by this change", Nodes: base.Nodes, Labels: base.Labels}, []string{"password"}},
		{"created", nil, obj{Name: "a", Nodes: []node{}}, []string{"name", "nodes"}},
		{"deleted", obj{Name: "a", Password: "stored", Nodes: []node{}}, nil, []string{"name", "nodes", "password"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := changeJSON(tc.before, tc.after)
			if err != nil {
				t.Fatal(err)
			}
			var d struct {
				Before, After map[string]any
				Changed       []string
			}
			if err := json.Unmarshal(b, &d); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.Changed, tc.changed) || d.Changed == nil {
				t.Errorf("changed %q, want %q (detail %s)", d.Changed, tc.changed, b)
			}
			for _, side := range []map[string]any{d.Before, d.After} {
				if p, ok := side["password"]; ok && p != masked {
					t.Errorf("password shown as %v: %s", p, b)
				}
			}
			if (tc.before == nil) != (d.Before == nil) || (tc.after == nil) != (d.After == nil) {
				t.Errorf("before/after null-ness wrong: %s", b)
			}
		})
	}
	if _, err := changeJSON(nil, func() {}); err == nil {
		t.Error("changeJSON of something that is not JSON succeeded")
	}
}
