package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/portico-gw/portico/internal/adminapi"
)

// TestOIDCFlags: every --oidc-* flag is on `portico server` with its
// environment variable; the client secret and the role map come from the
// environment, a repeated flag beats it, and a bad mapping is refused
// naming the flag.
func TestOIDCFlags(t *testing.T) {
	f := serverCmd().Flags()
	for _, name := range []string{"oidc-issuer", "oidc-client-id", "oidc-client-secret", "oidc-redirect-url", "oidc-scopes",
		"oidc-groups-claim", "oidc-username-claim", "oidc-role-map"} {
		if fl := f.Lookup(name); fl == nil || !strings.Contains(fl.Usage, "(env "+envName(envPrefix, name)+")") {
			t.Errorf("--%s: missing or without its environment variable", name)
		}
	}
	t.Setenv("PORTICO_OIDC_CLIENT_SECRET", "from-the-environment")
	t.Setenv("PORTICO_OIDC_ROLE_MAP", "ops=super_admin,devs=default:api_provider")
	read := func(args ...string) (adminapi.OIDCConfig, error) {
		var cfg adminapi.OIDCConfig
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		finish := oidcFlags(fs, &cfg)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := applyEnv(fs, envPrefix); err != nil {
			return cfg, err
		}
		return cfg, finish()
	}
	cfg, err := read("--oidc-issuer", "https://id.example.com")
	want := []adminapi.OIDCRoleMapping{{Group: "ops", Role: "super_admin"}, {Group: "devs", Project: "default", Role: "api_provider"}}
	if err != nil || cfg.ClientSecret != "from-the-environment" || !slices.Equal(cfg.RoleMap, want) || cfg.GroupsClaim != "groups" {
		t.Fatalf("from the environment: %+v, %v", cfg, err)
	}
	cfg, err = read("--oidc-role-map", "a=super_admin", "--oidc-role-map", "b=shop:viewer")
	want = []adminapi.OIDCRoleMapping{{Group: "a", Role: "super_admin"}, {Group: "b", Project: "shop", Role: "viewer"}}
	if err != nil || !slices.Equal(cfg.RoleMap, want) {
		t.Fatalf("repeated flag: %+v, %v", cfg.RoleMap, err)
	}
	if _, err := read("--oidc-role-map", "ops=admin"); err == nil || !strings.Contains(err.Error(), "--oidc-role-map") {
		t.Fatalf("a bad mapping: %v", err)
	}
}
