package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ssoProvider is an OpenID provider in the test process: discovery, a
// JWKS with a key made here, /authorize that signs in user at once, and
// /token that checks the client, the code and the PKCE verifier.
type ssoProvider struct {
	srv    *httptest.Server
	key    *rsa.PrivateKey
	user   map[string]any
	mu     sync.Mutex
	grants map[string][3]string // code → nonce, code_challenge, redirect_uri
}

const ssoClientID, ssoClientSecret = "portico-e2e", "e2e-client-secret"

func newSSOProvider(t *testing.T, user map[string]any) *ssoProvider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &ssoProvider{key: key, user: user, grants: map[string][3]string{}}
	answer := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		u := p.srv.URL
		answer(w, 200, map[string]any{"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
			"jwks_uri": u + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		answer(w, 200, map[string]any{"keys": []map[string]any{{"kty": "RSA", "kid": "e2e", "alg": "RS256", "use": "sig",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != ssoClientID || q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		code := rand.Text()
		p.mu.Lock()
		p.grants[code] = [3]string{q.Get("nonce"), q.Get("code_challenge"), q.Get("redirect_uri")}
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, _ := r.BasicAuth()
		code := r.PostFormValue("code")
		p.mu.Lock()
		g, ok := p.grants[code]
		delete(p.grants, code)
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if id != ssoClientID || secret != ssoClientSecret || !ok || g[2] != r.PostFormValue("redirect_uri") ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != g[1] {
			answer(w, 400, map[string]string{"error": "invalid_grant"})
			return
		}
		claims := jwt.MapClaims{"iss": p.srv.URL, "aud": ssoClientID, "nonce": g[0], "iat": time.Now().Unix(),
			"exp": time.Now().Add(5 * time.Minute).Unix()}
		for k, v := range p.user {
			claims[k] = v
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = "e2e"
		signed, err := tok.SignedString(key)
		if err != nil {
			answer(w, 500, map[string]string{"error": err.Error()})
			return
		}
		answer(w, 200, map[string]any{"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 300, "id_token": signed})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// TestOIDCSignInThroughBinary: a browser (a client with a cookie jar)
// follows the console's "Sign in with single sign-on" link through the
// real binary and the provider and lands on a console page, signed in as
// a new user whose groups gave it its roles. The control plane sits
// behind a proxy, as in production: the callback URL is the proxy's,
// known before the server picks its ports.
func TestOIDCSignInThroughBinary(t *testing.T) {
	op := newSSOProvider(t, map[string]any{"sub": "e2e-7", "preferred_username": "carol", "email": "carol@example.com",
		"groups": []string{"ops", "devs"}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var backend atomic.Pointer[url.URL]
	proxy := &http.Server{Handler: &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(backend.Load())
		r.Out.Host = r.In.Host
	}}}
	go proxy.Serve(ln)
	t.Cleanup(func() { proxy.Close() })
	public := "http://" + ln.Addr().String()

	t.Setenv("PORTICO_OIDC_CLIENT_SECRET", ssoClientSecret) // the secret through the environment, as documented
	s := startServer(t, t.TempDir(), "--oidc-issuer", op.srv.URL, "--oidc-client-id", ssoClientID,
		"--oidc-redirect-url", public+"/api/v1/auth/oidc/callback",
		"--oidc-role-map", "ops=super_admin", "--oidc-role-map", "devs=default:api_provider")
	admin, err := url.Parse(s.Admin)
	if err != nil {
		t.Fatal(err)
	}
	backend.Store(admin)

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var hops []string
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		hops = append(hops, r.URL.Path)
		return nil
	}}
	get := func(u string) (int, string) {
		t.Helper()
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	status, page := get(public + "/login?next=/applications")
	link := regexp.MustCompile(`id="sso" href="([^"]+)"`).FindStringSubmatch(page)
	if status != 200 || link == nil || !strings.Contains(page, "Sign in with single sign-on") {
		t.Fatalf("login page (%d) offers no single sign-on:\n%s", status, page)
	}
	status, page = get(public + html.UnescapeString(link[1]))
	want := []string{"/authorize", "/api/v1/auth/oidc/callback", "/applications"}
	if status != 200 || fmt.Sprint(hops) != fmt.Sprint(want) || !strings.Contains(page, "carol") {
		t.Fatalf("after the sign-in: %d through %v (want %v):\n%s", status, hops, want, page)
	}

	status, body := get(public + "/api/v1/me")
	var me struct {
		Username, Role, Source string
		Projects               []struct{ Project, Role string }
	}
	if err := json.Unmarshal([]byte(body), &me); err != nil || status != 200 {
		t.Fatalf("GET /me: %d %s", status, body)
	}
	if me.Username != "carol" || me.Role != "super_admin" || me.Source != "oidc" || len(me.Projects) != 1 ||
		me.Projects[0].Project != "default" || me.Projects[0].Role != "api_provider" {
		t.Fatalf("GET /me = %+v", me)
	}
	var events struct {
		Items []struct {
			Actor, Action string
			Detail        map[string]any
		}
	}
	s.do(t, "GET", "/api/v1/audit-events?q=auth.login&page_size=50", "", 200, &events)
	found := false
	for _, e := range events.Items {
		found = found || e.Action == "auth.login" && e.Actor == "carol" && e.Detail["method"] == "oidc"
	}
	if !found {
		t.Errorf("no auth.login event of carol with method oidc: %+v", events.Items)
	}

	// The callback again, from a browser that started nothing: refused.
	stranger := &http.Client{Timeout: 30 * time.Second}
	resp, err := stranger.Get(public + "/api/v1/auth/oidc/callback?code=x&state=y")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a callback without its cookie: %d, want 400", resp.StatusCode)
	}
	// carol has no password: no local login.
	s.Token = ""
	s.do(t, "POST", "/api/v1/auth/login", `{"username":"carol","password":"anything-at-all"}`, http.StatusUnauthorized, nil)
}
