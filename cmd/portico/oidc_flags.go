package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/portico-gw/portico/internal/adminapi"
)

// oidcFlags adds the single sign-on flags of `portico server` to f,
// filling cfg. The answer completes cfg once flags and environment are
// read: it parses the role map, naming a bad value, so that a typo stops
// the start instead of granting nothing at the first sign-in.
func oidcFlags(f *pflag.FlagSet, cfg *adminapi.OIDCConfig) func() error {
	var roleMap []string
	f.StringVar(&cfg.Issuer, "oidc-issuer", "", "single sign-on to the console: the OpenID Connect provider's issuer URL (https://id.example.com/realms/main); empty: off (docs/sso.md)")
	f.StringVar(&cfg.ClientID, "oidc-client-id", "", "single sign-on: the client id registered at the provider")
	f.StringVar(&cfg.ClientSecret, "oidc-client-secret", "", "single sign-on: the client's secret (empty for a public client); prefer the environment to the command line")
	f.StringVar(&cfg.RedirectURL, "oidc-redirect-url", "", "single sign-on: the public URL of the callback as registered at the provider, https://HOST/api/v1/auth/oidc/callback")
	f.StringSliceVar(&cfg.Scopes, "oidc-scopes", nil, "single sign-on: scopes asked for (repeatable, or comma-separated; must hold openid); default openid,profile,email and groups when the provider lists it")
	f.StringVar(&cfg.GroupsClaim, "oidc-groups-claim", "groups", "single sign-on: the claim listing the user's groups (a dotted path reaches into objects: realm_access.roles)")
	f.StringVar(&cfg.UsernameClaim, "oidc-username-claim", "preferred_username", "single sign-on: the claim a new user's username comes from (then email, then sub)")
	f.StringSliceVar(&roleMap, "oidc-role-map", nil, "single sign-on: GROUP=super_admin or GROUP=PROJECT:ROLE, applied at every sign-in (repeatable, or comma-separated; quote a group holding commas: '\"cn=ops,dc=example=super_admin\"')")
	return func() error {
		cfg.RoleMap = nil
		for _, v := range roleMap {
			m, err := adminapi.ParseOIDCRoleMapping(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("--oidc-role-map: %w", err)
			}
			cfg.RoleMap = append(cfg.RoleMap, m)
		}
		return nil
	}
}
