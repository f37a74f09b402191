package adminapi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// testOP is an OpenID provider for tests: discovery, a JWKS with an RSA
// key made here, /authorize that signs in whoever the test says at once,
// /token that checks the PKCE verifier and answers an ID token, /userinfo.
type testOP struct {
	t        *testing.T
	srv      *httptest.Server
	key      *rsa.PrivateKey
	clientID string
	secret   string

	mu sync.Mutex
	// user is the claims of whoever signs in next (sub, preferred_username,
	// email, groups, …).
	user map[string]any
	// tweak changes an ID token's claims before it is signed.
	tweak func(claims map[string]any)
	// userinfoOnly names claims kept out of the ID token and answered by
	// /userinfo only.
	userinfoOnly []string
	grants       map[string]opGrant // by code
	tokens       map[string]map[string]any
	lastAuth     url.Values // the query of the last /authorize
}

type opGrant struct {
	nonce, challenge, redirect string
	user                       map[string]any
}

func newTestOP(t *testing.T) *testOP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &testOP{t: t, key: key, clientID: "portico-console", secret: "op-client-secret",
		grants: map[string]opGrant{}, tokens: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /jwks", op.jwks)
	mux.HandleFunc("GET /authorize", op.authorize)
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("GET /userinfo", op.userinfo)
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

func (op *testOP) issuer() string { return op.srv.URL }

// signInAs sets who signs in next.
func (op *testOP) signInAs(claims map[string]any) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.user, op.tweak = claims, nil
}

func (op *testOP) setTweak(f func(map[string]any)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.tweak = f
}

func (op *testOP) discovery(w http.ResponseWriter, _ *http.Request) {
	u := op.issuer()
	writeJSON(w, 200, map[string]any{"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
		"jwks_uri": u + "/jwks", "userinfo_endpoint": u + "/userinfo", "response_types_supported": []string{"code"},
		"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported": []string{"openid", "profile", "email", "groups"}, "code_challenge_methods_supported": []string{"S256"}})
}

func (op *testOP) jwks(w http.ResponseWriter, _ *http.Request) {
	pub := op.key.PublicKey
	writeJSON(w, 200, map[string]any{"keys": []map[string]any{{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes())}}})
}

func (op *testOP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	op.mu.Lock()
	defer op.mu.Unlock()
	op.lastAuth = q
	if q.Get("client_id") != op.clientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("redirect_uri") == "" {
		http.Error(w, "bad authorization request: "+q.Encode(), http.StatusBadRequest)
		return
	}
	code := rand.Text()
	op.grants[code] = opGrant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), user: op.user}
	back, _ := url.Parse(q.Get("redirect_uri"))
	v := url.Values{"code": {code}, "state": {q.Get("state")}, "iss": {op.issuer()}}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (op *testOP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	id, _ = url.QueryUnescape(id)
	secret, _ = url.QueryUnescape(secret)
	op.mu.Lock()
	defer op.mu.Unlock()
	g, found := op.grants[r.PostFormValue("code")]
	delete(op.grants, r.PostFormValue("code")) // a code works once
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case id != op.clientID || secret != op.secret:
		writeJSON(w, 401, map[string]string{"error": "invalid_client"})
		return
	case !found || r.PostFormValue("redirect_uri") != g.redirect || r.PostFormValue("grant_type") != "authorization_code":
		writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "PKCE verifier"})
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": op.issuer(), "aud": op.clientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": g.nonce}
	for k, v := range g.user {
		claims[k] = v
	}
	access := rand.Text()
	op.tokens[access] = claims
	signed := map[string]any{}
	for k, v := range claims {
		if !slices.Contains(op.userinfoOnly, k) {
			signed[k] = v
		}
	}
	if op.tweak != nil {
		op.tweak(signed)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(signed))
	tok.Header["kid"] = "k1"
	raw, err := tok.SignedString(op.key)
	if err != nil {
		op.t.Errorf("sign ID token: %v", err)
	}
	writeJSON(w, 200, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": raw})
}

func (op *testOP) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, _ := bearer(r)
	op.mu.Lock()
	defer op.mu.Unlock()
	claims, ok := op.tokens[tok]
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	out := map[string]any{}
	for k, v := range claims {
		if !slices.Contains([]string{"iss", "aud", "iat", "exp", "nonce"}, k) {
			out[k] = v
		}
	}
	writeJSON(w, 200, out)
}

// ssoAPI is an admin API with single sign-on through op, over a store
// with the first-start state (admin, group and project default) and a
// project "shop".
type ssoAPI struct {
	*testAPI
	op  *testOP
	clk *clock
}

// testRoleMap: two system mappings, project roles for three groups (two
// of them for project default: the first one wins).
var testRoleMap = []OIDCRoleMapping{
	{Group: "portico-admins", Role: rbac.SuperAdmin},
	{Group: "team-a", Project: "default", Role: rbac.APIProvider},
	{Group: "team-b", Project: "default", Role: rbac.Viewer},
	{Group: "shop-admins", Project: "shop", Role: rbac.ProjectAdmin},
	{Group: "shop-admins", Project: "gone", Role: rbac.Viewer},
}

func newSSOAPI(t *testing.T) *ssoAPI {
	t.Helper()
	op := newTestOP(t)
	a := newTestAPI(t) // for its store and admin token
	a.mustJSON("POST", "/projects", map[string]any{"id": "shop"}, http.StatusCreated, nil)
	clk := &clock{t: time.Now()}
	srv := httptest.NewUnstartedServer(nil)
	cfg := OIDCConfig{Issuer: op.issuer(), ClientID: op.clientID, ClientSecret: op.secret,
		RedirectURL: "http://" + srv.Listener.Addr().String() + Prefix + oidcCallbackPath, RoleMap: testRoleMap}
	srv.Config.Handler = New(Config{Store: commitGuard{Store: a.store, t: t}, Version: "test", Secrets: a.secrets, OIDC: cfg, Now: clk.now})
	srv.Start()
	t.Cleanup(srv.Close)
	return &ssoAPI{testAPI: &testAPI{t: t, url: srv.URL, token: a.token, store: a.store, secrets: a.secrets}, op: op, clk: clk}
}

// browser is a client with a cookie jar that does not follow redirects:
// each step of the flow is looked at.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) get(u string) response {
	b.t.Helper()
	resp, err := b.client.Get(u)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// start opens /start?next= and follows to the provider, answering the
// callback URL the provider sends the browser to.
func (b *browser) start(a *ssoAPI, next string) string {
	b.t.Helper()
	r := b.get(a.url + Prefix + oidcStartPath + "?next=" + url.QueryEscape(next))
	if r.status != http.StatusFound {
		b.t.Fatalf("start: status %d: %s", r.status, r.body)
	}
	r = b.get(r.header.Get("Location"))
	if r.status != http.StatusFound {
		b.t.Fatalf("authorize: status %d: %s", r.status, r.body)
	}
	return r.header.Get("Location")
}

// signIn runs the whole flow and answers the callback's response.
func (b *browser) signIn(a *ssoAPI, next string) response {
	b.t.Helper()
	return b.get(b.start(a, next))
}

// me is GET /me with the browser's cookies.
func (b *browser) me(a *ssoAPI) spec.Identity {
	b.t.Helper()
	r := b.get(a.url + Prefix + "/me")
	if r.status != http.StatusOK {
		b.t.Fatalf("GET /me: status %d: %s", r.status, r.body)
	}
	var me spec.Identity
	if err := json.Unmarshal(r.body, &me); err != nil {
		b.t.Fatal(err)
	}
	return me
}

// cookie finds a Set-Cookie of r by name.
func cookie(r response, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// userByName reads a user from the store.
func (a *ssoAPI) userByName(name string) (spec.User, bool) {
	a.t.Helper()
	var u spec.User
	err := a.store.View(context.Background(), func(tx store.Tx) error {
		var err error
		u, _, err = tx.UserByName(context.Background(), name)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return u, false
	}
	if err != nil {
		a.t.Fatal(err)
	}
	return u, true
}

// TestParseOIDCRoleMapping: the --oidc-role-map values.
func TestParseOIDCRoleMapping(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want OIDCRoleMapping
		bad  bool
	}{
		{in: "admins=super_admin", want: OIDCRoleMapping{Group: "admins", Role: rbac.SuperAdmin}},
		{in: "devs=default:api_provider", want: OIDCRoleMapping{Group: "devs", Project: "default", Role: rbac.APIProvider}},
		{in: "cn=ops,ou=groups=shop:release_manager", want: OIDCRoleMapping{Group: "cn=ops,ou=groups", Project: "shop", Role: "release_manager"}},
		{in: "/Portico Admins=super_admin", want: OIDCRoleMapping{Group: "/Portico Admins", Role: rbac.SuperAdmin}},
		{in: "admins", bad: true},
		{in: "=super_admin", bad: true},
		{in: "admins=user", bad: true},
		{in: "admins=admin", bad: true},
		{in: "devs=default:super_admin", bad: true},
		{in: "devs=Not A Project:viewer", bad: true},
		{in: "devs=default:", bad: true},
		{in: "devs=default:Bad-Role", bad: true},
	} {
		got, err := ParseOIDCRoleMapping(tt.in)
		if (err != nil) != tt.bad || (!tt.bad && got != tt.want) {
			t.Errorf("ParseOIDCRoleMapping(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

// TestOIDCConfigValidate: what the control plane refuses to start with.
func TestOIDCConfigValidate(t *testing.T) {
	good := OIDCConfig{Issuer: "https://id.example.com/realms/x", ClientID: "portico",
		RedirectURL: "https://portico.example.com/api/v1/auth/oidc/callback"}
	for _, tt := range []struct {
		name string
		cfg  func(*OIDCConfig)
		bad  bool
	}{
		{name: "good", cfg: func(*OIDCConfig) {}},
		{name: "off", cfg: func(c *OIDCConfig) { *c = OIDCConfig{GroupsClaim: "groups"} }},
		{name: "behind a path prefix", cfg: func(c *OIDCConfig) { c.RedirectURL = "https://example.com/portico/api/v1/auth/oidc/callback" }},
		{name: "settings without issuer", cfg: func(c *OIDCConfig) { c.Issuer = "" }, bad: true},
		{name: "issuer not a URL", cfg: func(c *OIDCConfig) { c.Issuer = "id.example.com" }, bad: true},
		{name: "no client id", cfg: func(c *OIDCConfig) { c.ClientID = "" }, bad: true},
		{name: "no redirect URL", cfg: func(c *OIDCConfig) { c.RedirectURL = "" }, bad: true},
		{name: "redirect URL elsewhere", cfg: func(c *OIDCConfig) { c.RedirectURL = "https://portico.example.com/callback" }, bad: true},
		{name: "scopes without openid", cfg: func(c *OIDCConfig) { c.Scopes = []string{"profile"} }, bad: true},
		{name: "bad mapping", cfg: func(c *OIDCConfig) { c.RoleMap = []OIDCRoleMapping{{Group: "g", Role: "user"}} }, bad: true},
	} {
		cfg := good
		tt.cfg(&cfg)
		if err := cfg.Validate(); (err != nil) != tt.bad {
			t.Errorf("%s: Validate() = %v, want error %v", tt.name, err, tt.bad)
		}
	}
}

// TestOIDCNotConfigured: without an issuer both endpoints answer 404.
func TestOIDCNotConfigured(t *testing.T) {
	a := newTestAPI(t)
	for _, p := range []string{oidcStartPath, oidcCallbackPath} {
		r := a.doToken("", "GET", p, nil)
		if r.status != http.StatusNotFound || !strings.Contains(r.problem(t).Detail, "single sign-on is not configured") {
			t.Errorf("GET %s: %d %s, want 404 single sign-on is not configured", p, r.status, r.body)
		}
	}
}

// TestOIDCNext: where a sign-in may return to.
func TestOIDCNext(t *testing.T) {
	for in, want := range map[string]string{"": "/", "/": "/", "/p/default/services?q=a%20b": "/p/default/services?q=a%20b"} {
		if got, err := oidcNext(in); err != nil || got != want {
			t.Errorf("oidcNext(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"//evil.example", "https://evil.example/", "/\\evil.example", "/%2F%2Fevil.example", "/%5Cevil",
		"/\t/evil.example", "evil.example", "/api/v1/me", "/p/x#frag", "/a b", "/%", "/%zz", "/a@evil"} {
		if got, err := oidcNext(bad); err == nil {
			t.Errorf("oidcNext(%q) = %q, want refused", bad, got)
		}
	}
}
