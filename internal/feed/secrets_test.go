package feed

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// TestOpenSecretsRegistries: a registry's sealed credentials open into
// Secret, the JSON of spec.RegistryCredentials, with the right key and
// the registry's own id; sealed for another id or without a key they stay
// closed; nothing sealed is left behind, and a cache never writes them
// opened.
func TestOpenSecretsRegistries(t *testing.T) {
	keys := mustKeyring(t)
	creds, _ := json.Marshal(spec.RegistryCredentials{Password: "nacos-pw", Token: ""})
	sealed, err := keys.Seal(string(creds), "reg-1")
	if err != nil {
		t.Fatal(err)
	}
	mk := func() *spec.Snapshot {
		return &spec.Snapshot{Revision: 7, Groups: []spec.GroupSnapshot{{
			Group: spec.GatewayGroup{Name: "g", Revision: 7},
			Registries: []spec.Registry{
				{ID: "reg-1", Name: "nacos", Type: "nacos", Username: "gw", HasPassword: true, Sealed: sealed},
				{ID: "reg-2", Name: "moved", Type: "nacos", HasPassword: true, Sealed: sealed},
				{ID: "reg-3", Name: "dns", Type: "dns"},
			},
		}}}
	}
	s := mk()
	OpenSecrets(spec.SnapshotUpdate{Snapshot: s}, keys)
	rs := s.Groups[0].Registries
	var got spec.RegistryCredentials
	if err := json.Unmarshal([]byte(rs[0].Secret), &got); err != nil || got.Password != "nacos-pw" || got.Token != "" {
		t.Errorf("opened %q (%v), want the credentials' JSON", rs[0].Secret, err)
	}
	if rs[1].Secret != "" || rs[2].Secret != "" {
		t.Errorf("opened %q and %q; want nothing for credentials sealed for another id, nor for none", rs[1].Secret, rs[2].Secret)
	}
	for _, r := range rs {
		if r.Sealed != "" {
			t.Errorf("registry %s still sealed after opening", r.Name)
		}
	}

	c := &Cache{Dir: t.TempDir(), Group: "g"}
	if err := c.Save(s, time.Now()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(c.path(7))
	if strings.Contains(string(b), "nacos-pw") || strings.Contains(string(b), `"secret"`) {
		t.Errorf("a registry's opened credentials were written to the cache: %s", b)
	}

	s = mk()
	OpenSecrets(spec.SnapshotUpdate{Snapshot: s}, nil)
	if r := s.Groups[0].Registries[0]; r.Secret != "" || r.Sealed != "" {
		t.Errorf("without a key: %+v; want nothing open and nothing sealed left", r)
	}
}
