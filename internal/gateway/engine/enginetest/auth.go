package enginetest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
)

// authTests drive what authentication asks of an engine beyond headers:
// the oauth2 token endpoint (a gateway-level answer outside the routes,
// reading a form body) and filters that read the request body while the
// backend still gets it (hmac-auth's body digest).
var authTests = []conformanceTest{
	{name: "OAuth2TokenEndpointAndBearer", fn: testOAuth2},
	{name: "FilterReadsBodyBackendStillGetsIt", fn: testBodyDigest},
}

const (
	authClientID     = "client-1"
	authClientSecret = "secret-1"
	authAccessKey    = "ak-1"
	authSecretKey    = "sk-1"
)

// authTable is Table with one application of project "shop" holding an
// oauth2 and an hmac-auth credential.
func authTable(t testing.TB, up spec.Upstream, routes ...spec.Route) *routing.Table {
	t.Helper()
	sum := sha256.Sum256([]byte(authClientSecret))
	snap := &spec.Snapshot{Revision: 1, Groups: []spec.GroupSnapshot{{
		Group: spec.GatewayGroup{Name: "g"},
		Services: []spec.DeployedService{{
			ProjectID: "shop", Version: "1.0.0",
			Service:  spec.Service{ID: "svc-id", Name: "svc", Routes: routes},
			Upstream: up,
		}},
		Consumers: []spec.Consumer{{ID: "app-1", Name: "weather-app", ProjectID: "shop", Credentials: []spec.ConsumerCredential{
			{ID: "o1", Type: spec.CredOAuth2, Key: authClientID, Hash: hex.EncodeToString(sum[:])},
			{ID: "h1", Type: spec.CredHMACAuth, Key: authAccessKey, Secret: authSecretKey},
		}}},
	}}}
	return MustBuild(t, snap)
}

func testOAuth2(t *testing.T, s *suite) {
	up := UpstreamOf(t, Backend(t, EchoHandler))
	g := s.gateway(t, authTable(t, up, withPlugins(Route("weather", "/weather"), map[string]string{"oauth2": `{}`})))

	token := func(req *http.Request) (int, map[string]any) {
		t.Helper()
		resp, body := Do(t, req)
		var a map[string]any
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatalf("token answer %d %q: %v", resp.StatusCode, body, err)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("token answer without Cache-Control: no-store: %v", resp.Header)
		}
		return resp.StatusCode, a
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {authClientID}, "client_secret": {authClientSecret}}
	post, _ := http.NewRequest(http.MethodPost, g.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, a := token(post)
	if status != 200 || a["token_type"] != "Bearer" || a["expires_in"] != float64(3600) {
		t.Fatalf("POST form: %d %v", status, a)
	}
	tok, _ := a["access_token"].(string)

	get, _ := http.NewRequest(http.MethodGet, g.URL+"/oauth2/token?"+form.Encode(), nil)
	if status, a := token(get); status != 200 || a["access_token"] == "" || a["access_token"] == tok {
		t.Errorf("GET query: %d %v", status, a)
	}
	form.Set("client_secret", "wrong")
	bad, _ := http.NewRequest(http.MethodPost, g.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	bad.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if status, a := token(bad); status != 401 || a["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v", status, a)
	}

	call, _ := http.NewRequest(http.MethodGet, g.URL+"/weather", nil)
	call.Header.Set("Authorization", "Bearer "+tok)
	resp, body := Do(t, call)
	e := DecodeEcho(t, resp, body)
	if e.Header.Get("X-Consumer-Id") != "app-1" || e.Header.Get("X-Consumer-Name") != "weather-app" || e.Header.Get("Authorization") != "" {
		t.Errorf("backend saw %v: want the consumer named and no Authorization", e.Header)
	}
	resp, body = Get(t, g.URL+"/weather")
	WantError(t, resp, body, http.StatusUnauthorized)
	if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without a Bearer challenge: %v", resp.Header)
	}
}

// signDigest signs a POST of body with its Digest, as hmac-auth's
// validate_request_body wants it.
func signDigest(req *http.Request, body []byte) {
	sum := sha256.Sum256(body)
	digest := "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
	date := time.Now().UTC().Format(http.TimeFormat)
	// A signed nonce makes each request's signature its own: hmac-auth
	// refuses a signature it has already accepted.
	nonce := rand.Text()
	msg := req.Method + "\n" + req.URL.Path + "\n" + req.URL.RawQuery + "\n" + authAccessKey + "\n" + date + "\ndigest:" + digest + "\nx-nonce:" + nonce + "\n"
	m := hmac.New(sha256.New, []byte(authSecretKey))
	m.Write([]byte(msg))
	req.Header.Set("Digest", digest)
	req.Header.Set("Date", date)
	req.Header.Set("X-Nonce", nonce)
	req.Header.Set("X-HMAC-ACCESS-KEY", authAccessKey)
	req.Header.Set("X-HMAC-SIGNED-HEADERS", "digest;x-nonce")
	req.Header.Set("X-HMAC-SIGNATURE", base64.StdEncoding.EncodeToString(m.Sum(nil)))
}

func testBodyDigest(t *testing.T, s *suite) {
	up := UpstreamOf(t, Backend(t, EchoHandler))
	g := s.gateway(t, authTable(t, up, withPlugins(Route("orders", "/orders"), map[string]string{
		"hmac-auth": `{"validate_request_body": true, "max_req_body": 262144}`})))

	small := []byte(`{"city":"paris"}`)
	large := bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16) // past any prefetch
	for _, tc := range []struct {
		name    string
		body    []byte
		chunked bool
	}{
		{"small", small, false},
		{"small chunked", small, true},
		{"large", large, false},
		{"large chunked", large, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rd io.Reader = bytes.NewReader(tc.body)
			if tc.chunked {
				rd = io.MultiReader(rd) // unknown length: sent chunked
			}
			req, _ := http.NewRequest(http.MethodPost, g.URL+"/orders", rd)
			signDigest(req, tc.body)
			resp, body := Do(t, req)
			e := DecodeEcho(t, resp, body)
			want := string(tc.body)
			if len(want) > 1<<10 {
				want = want[:1<<10]
			}
			if e.BodyLength != int64(len(tc.body)) || e.Body != want {
				t.Errorf("backend got %d bytes starting %.40q, want %d", e.BodyLength, e.Body, len(tc.body))
			}
			if e.Header.Get("X-Consumer-Id") != "app-1" {
				t.Errorf("backend saw no consumer: %v", e.Header)
			}
		})
	}
	tampered, _ := http.NewRequest(http.MethodPost, g.URL+"/orders", strings.NewReader(`{"city":"rome"}`))
	signDigest(tampered, small)
	tampered.ContentLength = int64(len(`{"city":"rome"}`))
	resp, body := Do(t, tampered)
	WantError(t, resp, body, http.StatusUnauthorized)

	huge := bytes.Repeat([]byte("x"), 300<<10)
	tooLarge, _ := http.NewRequest(http.MethodPost, g.URL+"/orders", bytes.NewReader(huge))
	signDigest(tooLarge, huge)
	resp, body = Do(t, tooLarge)
	WantError(t, resp, body, http.StatusRequestEntityTooLarge)
}
