package adminapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Single sign-on to the console through an OpenID Connect provider: the
// authorization code flow with PKCE (S256), state and nonce. /start keeps
// what the callback must check in a sealed cookie, so that nothing is
// stored per attempt and any control plane holding the same secret key
// can finish a flow another one started. The callback finds the user by
// the provider's "issuer subject" (never by username: a local account is
// never taken over), maps the provider's groups to roles, and ends like a
// console login: a session token in the session cookie.

// OIDCConfig configures single sign-on through an OpenID Connect
// provider; a zero value turns it off.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL; its discovery document is read
	// at the first sign-in. Empty: single sign-on is off.
	Issuer       string
	ClientID     string
	ClientSecret string // empty for a public client (PKCE alone)
	// RedirectURL is the control plane's public URL of the callback,
	// …/api/v1/auth/oidc/callback, exactly as registered at the provider.
	RedirectURL string
	// Scopes asked for; default openid, profile, email and groups (groups
	// only when the provider lists it in scopes_supported, or lists none).
	Scopes []string
	// GroupsClaim names the claim holding the user's groups (a dotted path
	// reaches into objects: realm_access.roles); default "groups".
	GroupsClaim string
	// UsernameClaim names the claim a new user's username comes from;
	// default "preferred_username", then email, then sub.
	UsernameClaim string
	// RoleMap turns groups into roles at every sign-in (oidcRoles).
	RoleMap []OIDCRoleMapping
}

// OIDCRoleMapping gives the members of a provider group a role: the
// system role super_admin when Project is empty, else Role in Project.
type OIDCRoleMapping struct {
	Group   string
	Project string
	Role    string
}

const (
	oidcStartPath    = "/auth/oidc/start"
	oidcCallbackPath = "/auth/oidc/callback"
	// oidcCookie carries a flow from /start to the callback.
	oidcCookie  = "portico_oidc"
	oidcFlowTTL = 10 * time.Minute
	// oidcTimeout bounds each call to the provider; oidcRetry is how long
	// a failed discovery is answered from memory, so that a provider that
	// is down is not asked again by every click.
	oidcTimeout = 10 * time.Second
	oidcRetry   = 5 * time.Second
	// oidcFlowAAD binds a sealed flow to its purpose: no other value the
	// key seals (credential secrets) opens as one.
	oidcFlowAAD = "portico oidc flow"
)

var defaultOIDCScopes = []string{oidc.ScopeOpenID, "profile", "email", "groups"}

// ParseOIDCRoleMapping reads GROUP=super_admin or GROUP=PROJECT:ROLE. The
// group is everything before the last "=", so LDAP-style group names
// (cn=admins,ou=groups) need no escaping.
func ParseOIDCRoleMapping(s string) (OIDCRoleMapping, error) {
	i := strings.LastIndexByte(s, '=')
	if i < 0 {
		return OIDCRoleMapping{}, fmt.Errorf("role mapping %q: want GROUP=super_admin or GROUP=PROJECT:ROLE", s)
	}
	m := OIDCRoleMapping{Group: s[:i], Role: s[i+1:]}
	if p, r, ok := strings.Cut(m.Role, ":"); ok {
		m.Project, m.Role = p, r
	}
	if err := m.check(); err != nil {
		return OIDCRoleMapping{}, fmt.Errorf("role mapping %q: %w", s, err)
	}
	return m, nil
}

func (m OIDCRoleMapping) check() error {
	switch {
	case m.Group == "":
		return errors.New("the group is empty")
	case m.Project == "" && m.Role != rbac.SuperAdmin:
		return fmt.Errorf("system role %q: only %s can be mapped (everyone else is %s); a project role is PROJECT:ROLE", m.Role, rbac.SuperAdmin, rbac.User)
	case m.Project != "" && !spec.ValidSlug(m.Project):
		return fmt.Errorf("project %q is not a valid project id", m.Project)
	case m.Project != "" && !slices.Contains(rbac.BuiltinProjectRoles, m.Role) && (rbac.IsBuiltin(m.Role) || !spec.ValidRoleName(m.Role)):
		return fmt.Errorf("project role %q: want one of %s or a custom role's name", m.Role, strings.Join(rbac.BuiltinProjectRoles, ", "))
	}
	return nil
}

// Validate checks a configuration before anything is served: the control
// plane refuses to start on an error.
func (c OIDCConfig) Validate() error {
	if c.Issuer == "" {
		if c.ClientID != "" || c.ClientSecret != "" || c.RedirectURL != "" || len(c.Scopes) > 0 || len(c.RoleMap) > 0 {
			return errors.New("no issuer: the other settings of single sign-on need one")
		}
		return nil
	}
	if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("issuer %q: want an http(s) URL without query or fragment", c.Issuer)
	}
	if c.ClientID == "" {
		return errors.New("a client id is required")
	}
	u, err := url.Parse(c.RedirectURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || !strings.HasSuffix(u.Path, Prefix+oidcCallbackPath) || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("redirect URL %q: want the control plane's public URL of the callback, such as https://portico.example.com%s%s", c.RedirectURL, Prefix, oidcCallbackPath)
	}
	if len(c.Scopes) > 0 && !slices.Contains(c.Scopes, oidc.ScopeOpenID) {
		return fmt.Errorf("scopes %v: openid is required", c.Scopes)
	}
	for _, m := range c.RoleMap {
		if err := m.check(); err != nil {
			return fmt.Errorf("role mapping of group %q: %w", m.Group, err)
		}
	}
	return nil
}

// oidcState is single sign-on's configuration and what it learnt of the
// provider. Discovery waits for the first sign-in, so that a provider that
// is down does not keep the control plane from starting.
type oidcState struct {
	cfg        OIDCConfig
	invalid    error // of Validate: the endpoints fail until it is fixed
	client     *http.Client
	cookiePath string
	secure     bool // the public URL is https: cookies are Secure even behind a TLS proxy

	mu      sync.Mutex
	p       *oidcProvider
	lastErr error
	lastTry time.Time
}

// oidcProvider is the discovered provider.
type oidcProvider struct {
	p        *oidc.Provider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newOIDCState(cfg OIDCConfig) *oidcState {
	o := &oidcState{cfg: cfg, invalid: cfg.Validate(), client: &http.Client{Timeout: oidcTimeout},
		cookiePath: Prefix + "/auth/oidc/"}
	if o.cfg.GroupsClaim == "" {
		o.cfg.GroupsClaim = "groups"
	}
	if o.cfg.UsernameClaim == "" {
		o.cfg.UsernameClaim = "preferred_username"
	}
	if u, err := url.Parse(cfg.RedirectURL); err == nil && cfg.RedirectURL != "" {
		// The cookie goes where the browser sends the callback: under a
		// proxy's path prefix too.
		o.cookiePath, o.secure = path.Dir(u.Path)+"/", u.Scheme == "https"
	}
	return o
}

// errSSOOff answers the endpoints of an install without single sign-on.
var errSSOOff = withDetail(store.ErrNotFound, "single sign-on is not configured")

// ready answers the provider, discovering it on first use.
func (o *oidcState) ready(ctx context.Context, now func() time.Time) (*oidcProvider, error) {
	if o == nil || o.cfg.Issuer == "" {
		return nil, errSSOOff
	}
	if o.invalid != nil {
		return nil, fmt.Errorf("single sign-on is misconfigured: %w", o.invalid)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.p != nil {
		return o.p, nil
	}
	if o.lastErr != nil && now().Sub(o.lastTry) < oidcRetry {
		return nil, o.lastErr
	}
	// Not the request's cancellation: a client that gives up must not
	// leave a failure behind for the next one.
	ctx, cancel := context.WithTimeout(oidc.ClientContext(context.WithoutCancel(ctx), o.client), oidcTimeout)
	defer cancel()
	o.lastTry = now()
	p, err := oidc.NewProvider(ctx, o.cfg.Issuer)
	if err != nil {
		o.lastErr = fmt.Errorf("single sign-on: discover the OpenID provider %s: %w", o.cfg.Issuer, err)
		return nil, o.lastErr
	}
	scopes := o.cfg.Scopes
	if len(scopes) == 0 {
		var meta struct {
			Scopes []string `json:"scopes_supported"`
		}
		_ = p.Claims(&meta) // the discovery document was JSON already
		for _, sc := range defaultOIDCScopes {
			// A provider may refuse a scope it does not know: groups is
			// asked for only where it is known, or nothing is listed.
			if sc != "groups" || len(meta.Scopes) == 0 || slices.Contains(meta.Scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	o.p = &oidcProvider{p: p,
		oauth: oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: o.cfg.RedirectURL, Scopes: scopes},
		verifier: p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID, Now: now})}
	o.lastErr = nil
	return o.p, nil
}

// oidcFlow is what the callback checks, sealed into oidcCookie by /start.
type oidcFlow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"r"`
	Expires  int64  `json:"e"` // Unix seconds: the cookie's Max-Age is the browser's to keep, this is ours
}

func (c *call) flowCookie(value string, maxAge int) *http.Cookie {
	o := c.s.oidc
	return &http.Cookie{Name: oidcCookie, Value: value, Path: o.cookiePath, MaxAge: maxAge, HttpOnly: true,
		Secure: c.r.TLS != nil || o.secure, SameSite: http.SameSiteLaxMode}
}

// oidcStart sends the browser to the provider.
func (c *call) oidcStart() (any, error) {
	p, err := c.s.oidc.ready(c.ctx(), c.s.now)
	if err != nil {
		return nil, err
	}
	next, err := oidcNext(c.r.URL.Query().Get("next"))
	if err != nil {
		return nil, err
	}
	f := oidcFlow{State: rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier(), Next: next,
		Expires: c.s.now().Add(oidcFlowTTL).Unix()}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("single sign-on: %w", err)
	}
	sealed, err := c.s.secrets.Seal(string(b), oidcFlowAAD)
	if err != nil {
		return nil, fmt.Errorf("single sign-on: %w", err)
	}
	http.SetCookie(c.w, c.flowCookie(sealed, int(oidcFlowTTL/time.Second)))
	return c.found(p.oauth.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))), nil
}

// found answers 302 to target (the row's status) with a body for
// clients that do not follow it.
func (c *call) found(target string) rawAnswer {
	c.w.Header().Set("Location", target)
	c.w.Header().Set("Cache-Control", "no-store")
	return rawAnswer{contentType: "text/html; charset=utf-8",
		body: []byte(`<a href="` + html.EscapeString(target) + `">Found</a>.` + "\n")}
}

// ssoRefusal is a sign-in the callback refuses: audited as
// auth.login_failed, counted against the client address like a failed
// login, and answered with err.
type ssoRefusal struct {
	username, reason string
	err              error
}

func (r *ssoRefusal) Error() string { return r.reason + ": " + r.err.Error() }
func (r *ssoRefusal) Unwrap() error { return r.err }

func refuse(username, reason string, err error) error {
	return &ssoRefusal{username: username, reason: reason, err: err}
}

// unauthorized is a 401 refusal: the sign-in did not prove who it is.
func unauthorized(reason, format string, args ...any) error {
	return refuse("", reason, withDetail(errUnauthorized, format, args...))
}

// oidcCallback is where the provider sends the browser back.
func (c *call) oidcCallback() (any, error) {
	now, client := c.s.now(), clientAddr(c.r)
	if until := c.s.clients.lockedUntil(client, now); !until.IsZero() {
		return nil, lockedOut(until, now)
	}
	res, err := c.oidcFinish()
	if ref, ok := errors.AsType[*ssoRefusal](err); ok {
		return nil, c.ssoFailed(ref, now)
	}
	return res, err
}

func (c *call) oidcFinish() (any, error) {
	p, err := c.s.oidc.ready(c.ctx(), c.s.now)
	if err != nil {
		return nil, err
	}
	q := c.r.URL.Query()
	// A flow is good for one callback, whatever the outcome.
	http.SetCookie(c.w, c.flowCookie("", -1))
	f, err := c.openFlow()
	if err != nil {
		return nil, refuse("", "state", fieldError("state", "%s: start again from the login page", err))
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		return nil, refuse("", "state", fieldError("state", "does not match the sign-in this browser started: start again from the login page"))
	}
	// RFC 9207: an answer naming another issuer is a mix-up attack.
	if iss := q.Get("iss"); iss != "" && iss != c.s.oidc.cfg.Issuer {
		return nil, refuse("", "issuer", fieldError("iss", "names %q, not the configured provider", iss))
	}
	if e := q.Get("error"); e != "" {
		detail := strings.TrimSpace(e + " " + q.Get("error_description") + " " + q.Get("error_uri"))
		return nil, unauthorized("provider: "+e, "the OpenID provider refused the sign-in: %s", clip(detail, 300))
	}
	code := q.Get("code")
	if code == "" {
		return nil, refuse("", "code", fieldError("code", "is required"))
	}
	ctx := context.WithValue(oidc.ClientContext(c.ctx(), c.s.oidc.client), oauth2.HTTPClient, c.s.oidc.client)
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		return nil, unauthorized("code", "the OpenID provider refused the authorization code (%s)", clip(re.ErrorCode, 100))
	} else if err != nil {
		return nil, fmt.Errorf("single sign-on: redeem the authorization code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, unauthorized("id_token", "the OpenID provider answered no ID token")
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		if te, ok := errors.AsType[*oidc.TokenExpiredError](err); ok {
			return nil, unauthorized("id_token expired", "the ID token expired at %s", te.Expiry.UTC().Format(time.RFC3339))
		}
		return nil, unauthorized("id_token", "the ID token is not valid: %s", clip(err.Error(), 200))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return nil, unauthorized("nonce", "the ID token's nonce is not this sign-in's")
	}
	// With several audiences, the token must have been issued to us
	// (OpenID Connect Core 3.1.3.7).
	var extra struct {
		AZP string `json:"azp"`
	}
	if err := idt.Claims(&extra); err == nil && len(idt.Audience) > 1 && extra.AZP != c.s.oidc.cfg.ClientID {
		return nil, unauthorized("azp", "the ID token was issued to %q, not to this client", clip(extra.AZP, 100))
	}
	id, err := c.s.oidc.identity(ctx, p, idt, tok)
	if err != nil {
		return nil, err
	}
	id.session = clip(q.Get("session_state"), 200)
	return c.ssoSignIn(id, f.Next)
}

// openFlow reads the flow cookie; the key's authentication makes a
// forged or altered one fail here.
func (c *call) openFlow() (oidcFlow, error) {
	var f oidcFlow
	ck, err := c.r.Cookie(oidcCookie)
	if err != nil || ck.Value == "" {
		return f, errors.New("this browser started no sign-in (its cookie is missing)")
	}
	plain, err := c.s.secrets.Open(ck.Value, oidcFlowAAD)
	if err != nil {
		return f, errors.New("the sign-in cookie is not one this server made")
	}
	if err := json.Unmarshal([]byte(plain), &f); err != nil || f.State == "" {
		return f, errors.New("the sign-in cookie is malformed")
	}
	if c.s.now().Unix() > f.Expires {
		return f, fmt.Errorf("the sign-in was started more than %v ago", oidcFlowTTL)
	}
	return f, nil
}

// ssoFailed records a refused sign-in and answers its error.
func (c *call) ssoFailed(ref *ssoRefusal, now time.Time) error {
	client := clientAddr(c.r)
	_, locked := c.s.clients.fail(client, now)
	c.s.log.Warn("single sign-on refused", "username", ref.username, "client", client, "reason", ref.reason, "err", ref.err)
	resource := "/auth/oidc"
	if ref.username != "" {
		resource = "/users/" + ref.username
	}
	err := c.tx(func(tx store.Tx) error {
		return c.auditAnon(tx, "auth.login_failed", resource, map[string]string{"username": ref.username, "client": client,
			"method": "oidc", "reason": ref.reason})
	})
	if err != nil {
		return err
	}
	if locked {
		c.s.log.Warn("client locked out after failed logins", "client", client)
	}
	return ref.err
}

// clip bounds text taken from the provider before it is shown or kept.
func clip(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

// oidcNext checks where a sign-in returns to: a console page of this
// site. The rules are the console's (safeRedirect): one leading "/", a
// small set of bytes, no escape that decodes to a separator, so that
// neither a browser's leniency nor a second decoding leads off site.
func oidcNext(next string) (string, error) {
	if next == "" {
		return "/", nil
	}
	if !localPath(next) || strings.HasPrefix(next, Prefix+"/") {
		return "", fieldError("next", "must be a page of the console on this site, such as /p/default/services")
	}
	return next, nil
}

func localPath(p string) bool {
	if len(p) > 2048 || p[0] != '/' || len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	inPath := true
	for i := 0; i < len(p); i++ {
		b := p[i]
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', strings.IndexByte("/_.~-=&+,", b) >= 0:
		case b == '?':
			inPath = false
		case b == '%':
			if i+2 >= len(p) {
				return false
			}
			v, err := url.PathUnescape(p[i : i+3])
			if err != nil || inPath && (v == "/" || v == "\\" || v == "%" || v[0] < 0x20 || v[0] == 0x7f) {
				return false
			}
			i += 2
		default:
			return false
		}
	}
	return true
}
