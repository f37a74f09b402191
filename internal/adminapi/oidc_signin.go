package adminapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// oidcEndpoints are the rows of single sign-on (appended to the table).
// They are always there, so the OpenAPI document does not depend on the
// configuration; without an issuer they answer 404 "single sign-on is not
// configured".
func (s *server) oidcEndpoints() []endpoint {
	return []endpoint{
		{method: "GET", path: oidcStartPath, tag: "session", summary: "Single sign-on: 302 to the OpenID provider (authorization code flow with PKCE, state and nonce, kept for 10 minutes in an HttpOnly cookie); ?next= is the console page to return to (default /); 404 when single sign-on is not configured",
			query: []string{"next"}, status: http.StatusFound, public: true, handle: (*call).oidcStart},
		{method: "GET", path: oidcCallbackPath, tag: "session", summary: "Single sign-on: where the OpenID provider returns the browser. Checks state, redeems the code, verifies the ID token, creates or updates the user (source oidc; roles from the provider's groups), sets the console's session cookie and answers 302 to next; a refusal is audited as auth.login_failed (400 state, 401 token, 403 disabled user, 409 username of another account)",
			query: []string{"code", "state", "iss", "session_state", "error", "error_description", "error_uri"}, status: http.StatusFound, public: true, providerQuery: true, handle: (*call).oidcCallback},
	}
}

// oidcQueryParams describe the parameters of the two endpoints; the
// callback's are the provider's (RFC 6749 4.1.2, RFC 9207, OpenID
// Connect Session Management), so an answer with them is not refused.
// "state" is described by the table already.
var oidcQueryParams = map[string]queryParam{
	"next":              {schema: obj{"type": "string", "default": "/"}, desc: "single sign-on: the console page (a path of this site) to return to"},
	"code":              {schema: obj{"type": "string"}, desc: "single sign-on: the provider's authorization code"},
	"iss":               {schema: obj{"type": "string"}, desc: "single sign-on: the provider's issuer (RFC 9207); another one is refused"},
	"session_state":     {schema: obj{"type": "string"}, desc: "single sign-on: the provider's session, kept in the auth.login audit event"},
	"error":             {schema: obj{"type": "string"}, desc: "single sign-on: the provider's refusal (access_denied, …)"},
	"error_description": {schema: obj{"type": "string"}, desc: "single sign-on: the provider's words about its refusal"},
	"error_uri":         {schema: obj{"type": "string"}, desc: "single sign-on: the provider's page about its refusal"},
}

func init() {
	// Added here rather than in table.go, so that the rows and what they
	// read stay together.
	for name, qp := range oidcQueryParams {
		if _, ok := queryParams[name]; !ok {
			queryParams[name] = qp
		}
	}
}

// oidcIdentity is what a verified sign-in says of the user.
type oidcIdentity struct {
	external string // "issuer subject"
	username string // of a new user
	name     string
	email    string
	groups   []string
	session  string // the provider's session_state, for the audit log
}

// identity reads the claims of the ID token, completed from the userinfo
// endpoint when it lacks the username or groups claim (providers keep
// large claims out of their tokens).
func (o *oidcState) identity(ctx context.Context, p *oidcProvider, idt *oidc.IDToken, tok *oauth2.Token) (oidcIdentity, error) {
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return oidcIdentity{}, unauthorized("claims", "the ID token's claims are not a JSON object")
	}
	needGroups := len(o.cfg.RoleMap) > 0 && lookupClaim(claims, o.cfg.GroupsClaim) == nil
	if (needGroups || lookupClaim(claims, o.cfg.UsernameClaim) == nil) && p.p.UserInfoEndpoint() != "" {
		ui, err := p.p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return oidcIdentity{}, fmt.Errorf("single sign-on: read the userinfo endpoint: %w", err)
		}
		if ui.Subject != idt.Subject {
			return oidcIdentity{}, unauthorized("userinfo", "the userinfo endpoint names another subject than the ID token")
		}
		var more map[string]any
		if err := ui.Claims(&more); err == nil {
			for k, v := range more {
				if _, ok := claims[k]; !ok {
					claims[k] = v
				}
			}
		}
	}
	if idt.Subject == "" {
		return oidcIdentity{}, unauthorized("sub", "the ID token names no subject")
	}
	id := oidcIdentity{external: o.cfg.Issuer + " " + idt.Subject, groups: claimStrings(lookupClaim(claims, o.cfg.GroupsClaim))}
	id.name, _ = claims["name"].(string)
	id.email, _ = claims["email"].(string)
	id.name, id.email = clip(id.name, 200), clip(id.email, 254)
	for _, k := range []string{o.cfg.UsernameClaim, "email", "sub"} {
		if v, _ := lookupClaim(claims, k).(string); spec.ValidUsername(v) {
			id.username = v
			break
		}
	}
	if id.username == "" {
		return oidcIdentity{}, unauthorized("username", "none of the claims %s, email and sub is a valid username (1–64 letters, digits and . _ @ -)", o.cfg.UsernameClaim)
	}
	return id, nil
}

// lookupClaim finds a claim by name, or by a dotted path into objects
// when no claim has the whole name.
func lookupClaim(claims map[string]any, name string) any {
	if v, ok := claims[name]; ok {
		return v
	}
	var cur any = claims
	for part := range strings.SplitSeq(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// claimStrings reads a list of strings, or one string, of a claim.
func claimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// ssoSignIn finds or creates the user of id, applies the role map and
// opens a session, in one transaction: a refusal leaves nothing behind.
func (c *call) ssoSignIn(id oidcIdentity, next string) (any, error) {
	s, client := c.s, clientAddr(c.r)
	now := s.now()
	var tok string
	var t *store.Token
	err := c.tx(func(tx store.Tx) error {
		u, err := tx.UserByExternal(c.ctx(), id.external)
		created := errors.Is(err, store.ErrNotFound)
		switch {
		case created:
			u = spec.User{Username: id.username, Role: rbac.User, DisplayName: id.name, Email: id.email}
			if err := tx.CreateExternalUser(c.ctx(), &u, id.external); errors.Is(err, store.ErrConflict) {
				// Never take over an account by its name: an administrator
				// renames or removes the other one first.
				return refuse(id.username, "username taken", withDetail(err,
					"the username %q belongs to another account; an administrator must rename or remove it before this provider's user can sign in", id.username))
			} else if err != nil {
				return fmt.Errorf("single sign-on: %w", err)
			}
		case err != nil:
			return fmt.Errorf("single sign-on: %w", err)
		}
		if u.Disabled {
			return refuse(u.Username, "disabled", withDetail(errForbidden, "the account %q is disabled", u.Username))
		}
		c.user = u
		if created {
			if err := c.audit(tx, "user.create", "/users/"+u.ID, map[string]string{"username": u.Username, "source": spec.UserOIDC}); err != nil {
				return err
			}
		}
		if err := c.syncUser(tx, &u, id); err != nil {
			return err
		}
		tok = rand.Text()
		t = &store.Token{ID: newID(), UserID: u.ID, Hash: tokenHash(tok), Name: "session", Kind: store.TokenSession,
			ExpiresAt: now.Add(s.ttl), CreatedAt: now, Client: client, UserAgent: userAgent(c.r)}
		if err := tx.CreateToken(c.ctx(), t); err != nil {
			return fmt.Errorf("single sign-on %q: create token: %w", u.Username, err)
		}
		if err := tx.TouchLogin(c.ctx(), u.ID, now); err != nil {
			return fmt.Errorf("single sign-on %q: %w", u.Username, err)
		}
		detail := map[string]string{"username": u.Username, "client": client, "method": "oidc"}
		if id.session != "" {
			detail["provider_session"] = id.session
		}
		return c.audit(tx, "auth.login", "/users/"+u.ID, detail)
	})
	if err != nil {
		return nil, err
	}
	http.SetCookie(c.w, &http.Cookie{Name: SessionCookie, Value: tok, Path: "/", Expires: t.ExpiresAt, HttpOnly: true,
		Secure: c.r.TLS != nil || s.oidc.secure, SameSite: http.SameSiteLaxMode})
	s.log.Info("single sign-on", "username", c.user.Username, "client", client)
	return c.found(next), nil
}

// syncUser keeps the user what the provider says: name and email, and,
// through the role map, the system role and project memberships. Each of
// the two follows the provider only when the map has a mapping of its
// kind, so an install that maps only its administrators still gives
// project roles by hand. For a project several groups map, the first
// mapping in the map wins.
func (c *call) syncUser(tx store.Tx, u *spec.User, id oidcIdentity) error {
	ctx, cfg := c.ctx(), c.s.oidc.cfg
	changed := false
	if id.name != "" && id.name != u.DisplayName {
		u.DisplayName, changed = id.name, true
	}
	if id.email != "" && id.email != u.Email {
		u.Email, changed = id.email, true
	}
	var systemMapped bool
	want, wantProjects := rbac.User, map[string]string{}
	for _, m := range cfg.RoleMap {
		in := slices.Contains(id.groups, m.Group)
		switch {
		case m.Project == "":
			systemMapped = true
			if in {
				want = m.Role
			}
		case in:
			if _, ok := wantProjects[m.Project]; !ok {
				wantProjects[m.Project] = m.Role
			}
		}
	}
	projectsMapped := slices.ContainsFunc(cfg.RoleMap, func(m OIDCRoleMapping) bool { return m.Project != "" })
	if systemMapped && want != u.Role {
		keep := false
		if u.Role == rbac.SuperAdmin {
			n, err := tx.CountActiveSuperAdmins(ctx)
			if err != nil {
				return fmt.Errorf("single sign-on %q: %w", u.Username, err)
			}
			// Like a demotion by hand: the last administrator stays one.
			if keep = n <= 1; keep {
				c.s.log.Warn("single sign-on: the provider no longer makes the last super_admin one; kept", "username", u.Username)
			}
		}
		if !keep {
			if err := c.audit(tx, "user.update", "/users/"+u.ID, map[string]string{"username": u.Username,
				"role": want, "from": u.Role, "source": spec.UserOIDC}); err != nil {
				return err
			}
			u.Role, changed = want, true
		}
	}
	if changed {
		if err := tx.UpdateUser(ctx, u); err != nil {
			return fmt.Errorf("single sign-on %q: %w", u.Username, err)
		}
	}
	if !projectsMapped {
		return nil
	}
	return c.syncMembers(tx, u, wantProjects)
}

// syncMembers makes the user's memberships exactly want (project → role).
// A mapping to a project or custom role that does not exist is skipped
// with a warning: it grants nothing rather than failing every sign-in.
func (c *call) syncMembers(tx store.Tx, u *spec.User, want map[string]string) error {
	ctx := c.ctx()
	for project, role := range want {
		missing := ""
		if _, err := tx.GetProject(ctx, project); errors.Is(err, store.ErrNotFound) {
			missing = "project"
		} else if err != nil {
			return fmt.Errorf("single sign-on %q: %w", u.Username, err)
		}
		if _, builtin := rbac.BuiltinRoles[role]; missing == "" && !builtin {
			if _, err := tx.GetRole(ctx, role); errors.Is(err, store.ErrNotFound) {
				missing = "role"
			} else if err != nil {
				return fmt.Errorf("single sign-on %q: %w", u.Username, err)
			}
		}
		if missing != "" {
			c.s.log.Warn("single sign-on: role mapping names a missing "+missing+"; skipped", "username", u.Username, "project", project, "role", role)
			delete(want, project)
		}
	}
	have, err := tx.ListUserMembers(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("single sign-on %q: %w", u.Username, err)
	}
	for _, m := range have {
		if _, ok := want[m.Project]; ok {
			continue
		}
		if err := tx.DeleteMember(ctx, m.Project, u.ID); err != nil {
			return fmt.Errorf("single sign-on %q: %w", u.Username, err)
		}
		if err := c.audit(tx, "member.delete", "/projects/"+m.Project+"/members/"+u.ID, map[string]string{
			"username": u.Username, "role": m.Role, "source": spec.UserOIDC}); err != nil {
			return err
		}
	}
	projects := make([]string, 0, len(want))
	for p := range want {
		projects = append(projects, p)
	}
	slices.Sort(projects) // one order of audit events for one change
	for _, p := range projects {
		i := slices.IndexFunc(have, func(m spec.Member) bool { return m.Project == p })
		if i >= 0 && have[i].Role == want[p] {
			continue
		}
		action := "member.create"
		if i >= 0 {
			action = "member.update"
		}
		if _, err := tx.PutMember(ctx, &spec.Member{Project: p, UserID: u.ID, Role: want[p]}); err != nil {
			return fmt.Errorf("single sign-on %q: %w", u.Username, err)
		}
		if err := c.audit(tx, action, "/projects/"+p+"/members/"+u.ID, map[string]string{
			"username": u.Username, "role": want[p], "source": spec.UserOIDC}); err != nil {
			return err
		}
	}
	return nil
}
