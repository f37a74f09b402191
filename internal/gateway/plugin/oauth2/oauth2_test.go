package oauth2

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
	"github.com/portico-gw/portico/internal/spec"
)

func hexSum(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

// bodyBacking is a test backing that also gives filters the body.
type bodyBacking struct {
	*plugintest.Backing
	body []byte
}

func (b *bodyBacking) BufferBody(max int64) ([]byte, error) {
	if int64(len(b.body)) > max {
		return nil, plugin.ErrBodyTooLarge
	}
	return b.body, nil
}

func consumers(withCred bool) []spec.Consumer {
	app := spec.Consumer{ID: "app-1", Name: "weather-app", ProjectID: "p1"}
	if withCred {
		app.Credentials = []spec.ConsumerCredential{
			{ID: "o1", Type: spec.CredOAuth2, Key: "client-1", Hash: hexSum("secret-1")},
			{ID: "o2", Type: spec.CredOAuth2, Key: "old-client", Hash: hexSum("secret-2"), ExpiresAt: time.Now().Add(-time.Second)},
		}
	}
	return []spec.Consumer{app,
		{ID: "app-2", Name: "stranger", ProjectID: "p2", Credentials: []spec.ConsumerCredential{
			{ID: "o3", Type: spec.CredOAuth2, Key: "client-3", Hash: hexSum("secret-3")},
		}},
	}
}

// request runs f on a request and returns the backing.
func request(f plugin.RequestFilter, method, path string, header map[string]string, query, body string) (*bodyBacking, bool) {
	b := &bodyBacking{Backing: plugintest.New("127.0.0.1"), body: []byte(body)}
	b.ReqMethod, b.ReqPath, b.ReqRawQuery = method, path, query
	for k, v := range header {
		b.ReqHeader.Set(k, v)
		b.UpstreamHeader.Set(k, v) // the upstream request starts as the client's
	}
	ex := &plugin.Exchange{}
	ex.Reset(b, "req-1", &plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{Group: "default", ProjectID: "p1", ServiceID: "s1"}}, nil)
	stop := f.OnRequest(ex)
	return b, stop
}

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func answer(t *testing.T, b *bodyBacking) tokenAnswer {
	t.Helper()
	var a tokenAnswer
	if err := json.Unmarshal(b.RespBody, &a); err != nil {
		t.Fatalf("answer %q: %v", b.RespBody, err)
	}
	return a
}

func setup(t *testing.T, store *Store, withCred bool, ttl int) (*Endpoint, *Filter) {
	t.Helper()
	ix := consumer.New(consumers(withCred))
	ep := NewEndpoint(store)
	ep.AddIndex(consumer.New(nil)) // another group without the client
	ep.AddIndex(ix)
	f, err := New(Config{TokenTTL: ttl}, ix, ep)
	if err != nil {
		t.Fatal(err)
	}
	return ep, f
}

func TestTokenEndpoint(t *testing.T) {
	ep, _ := setup(t, NewStore(nil), true, 0)
	for _, tc := range []struct {
		name        string
		method      string
		header      map[string]string
		query, body string
		status      int
		code        string
		challenge   bool
	}{
		{"form", "POST", map[string]string{"Content-Type": form}, "", "grant_type=client_credentials&client_id=client-1&client_secret=secret-1", 200, "", false},
		{"basic", "POST", map[string]string{"Content-Type": form, "Authorization": basic("client-1", "secret-1")}, "", "grant_type=client_credentials", 200, "", false},
		{"GET with query", "GET", nil, "grant_type=client_credentials&client_id=client-1&client_secret=secret-1", "", 200, "", false},
		{"wrong secret", "POST", map[string]string{"Content-Type": form}, "", "grant_type=client_credentials&client_id=client-1&client_secret=nope", 401, "invalid_client", false},
		{"wrong secret basic", "POST", map[string]string{"Content-Type": form, "Authorization": basic("client-1", "nope")}, "", "grant_type=client_credentials", 401, "invalid_client", true},
		{"unknown client", "GET", nil, "grant_type=client_credentials&client_id=who&client_secret=secret-1", "", 401, "invalid_client", false},
		{"expired credential", "GET", nil, "grant_type=client_credentials&client_id=old-client&client_secret=secret-2", "", 401, "invalid_client", false},
		{"bad grant", "GET", nil, "grant_type=password&client_id=client-1&client_secret=secret-1", "", 400, "unsupported_grant_type", false},
		{"body too large", "POST", map[string]string{"Content-Type": form}, "", strings.Repeat("a", maxFormBytes+1), 413, "invalid_request", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, stop := request(ep, tc.method, TokenPath, tc.header, tc.query, tc.body)
			if !stop || b.Status != tc.status || b.Responses != 1 {
				t.Fatalf("stop %v status %d responses %d, want %d: %s", stop, b.Status, b.Responses, tc.status, b.RespBody)
			}
			if b.RespHeader.Get("Cache-Control") != "no-store" || !strings.HasPrefix(b.RespHeader.Get("Content-Type"), "application/json") {
				t.Errorf("headers %v", b.RespHeader)
			}
			if got := b.RespHeader.Get("WWW-Authenticate") != ""; got != tc.challenge {
				t.Errorf("WWW-Authenticate %q, want one: %v", b.RespHeader.Get("WWW-Authenticate"), tc.challenge)
			}
			a := answer(t, b)
			if tc.status == 200 {
				if a.AccessToken == "" || a.TokenType != "Bearer" || a.ExpiresIn != 3600 {
					t.Errorf("answer %+v", a)
				}
				return
			}
			if a.Error != tc.code || a.Description == "" || a.AccessToken != "" {
				t.Errorf("answer %+v, want error %s", a, tc.code)
			}
			if strings.Contains(a.Description, "secret") {
				t.Errorf("the description says what was wrong: %q", a.Description)
			}
		})
	}
}

func TestEndpointUnused(t *testing.T) {
	ep := NewEndpoint(nil)
	b, stop := request(ep, "GET", TokenPath, nil, "grant_type=client_credentials&client_id=a&client_secret=b", "")
	if !stop || b.Status != 503 || ep.Used() {
		t.Errorf("an endpoint without oauth2 plugins answered %d", b.Status)
	}
}

func issue(t *testing.T, ep *Endpoint, id, secret string) string {
	t.Helper()
	b, _ := request(ep, "GET", TokenPath, nil, "grant_type=client_credentials&client_id="+id+"&client_secret="+secret, "")
	a := answer(t, b)
	if a.AccessToken == "" {
		t.Fatalf("no token: %s", b.RespBody)
	}
	return a.AccessToken
}

func TestFilter(t *testing.T) {
	store := NewStore(nil)
	ep, f := setup(t, store, true, 0)
	tok := issue(t, ep, "client-1", "secret-1")
	stranger := issue(t, ep, "client-3", "secret-3")

	b, stop := request(f, "GET", "/weather", map[string]string{"Authorization": "Bearer " + tok}, "", "")
	if stop || b.Errors != 0 {
		t.Fatalf("a good token was refused: %s", b.ErrorBody)
	}
	if b.UpstreamHeader.Get(consumer.HeaderID) != "app-1" || b.UpstreamHeader.Get(consumer.HeaderName) != "weather-app" {
		t.Errorf("upstream headers %v", b.UpstreamHeader)
	}
	if b.UpstreamHeader.Get("Authorization") != "" {
		t.Error("the token went upstream")
	}
	for _, tc := range []struct {
		name, authz string
		status      int
		challenge   string
	}{
		{"missing", "", 401, challenge},
		{"basic scheme", basic("client-1", "secret-1"), 401, challenge},
		{"unknown token", "Bearer " + strings.Repeat("x", 43), 401, challengeInvalid},
		{"lower-case scheme", "bearer " + tok, 0, ""},
		{"not admitted here", "Bearer " + stranger, 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, stop := request(f, "GET", "/weather", map[string]string{"Authorization": tc.authz}, "", "")
			if tc.status == 0 {
				if stop {
					t.Fatalf("refused: %s", b.ErrorBody)
				}
				return
			}
			if !stop || b.ErrorStatus != tc.status || b.RespHeader.Get("WWW-Authenticate") != tc.challenge {
				t.Errorf("stop %v status %d challenge %q, want %d %q", stop, b.ErrorStatus, b.RespHeader.Get("WWW-Authenticate"), tc.status, tc.challenge)
			}
		})
	}

	// Revocation: the next snapshot's index lacks the credential; the
	// token, still in the long-lived store, stops working.
	_, f2 := setup(t, store, false, 0)
	if b, stop := request(f2, "GET", "/weather", map[string]string{"Authorization": "Bearer " + tok}, "", ""); !stop || b.ErrorStatus != 401 {
		t.Errorf("a revoked credential's token: status %d", b.ErrorStatus)
	}
	// A reload that keeps the credential keeps the token working.
	_, f3 := setup(t, store, true, 0)
	if b, stop := request(f3, "GET", "/weather", map[string]string{"Authorization": "Bearer " + tok}, "", ""); stop {
		t.Errorf("a token did not survive a reload: %s", b.ErrorBody)
	}
}

func TestTokenTTL(t *testing.T) {
	store := NewStore(nil)
	clock := time.Now()
	store.now = func() time.Time { return clock }
	ep, f := setup(t, store, true, 60)
	if _, err := New(Config{TokenTTL: 30}, nil, ep); err != nil {
		t.Fatal(err)
	}
	if ep.TTL() != 30*time.Second {
		t.Fatalf("TTL %v, want the shortest configured (30 s)", ep.TTL())
	}
	b, _ := request(ep, "GET", TokenPath, nil, "grant_type=client_credentials&client_id=client-1&client_secret=secret-1", "")
	a := answer(t, b)
	if a.ExpiresIn != 30 {
		t.Errorf("expires_in %d, want 30", a.ExpiresIn)
	}
	clock = clock.Add(31 * time.Second)
	if b, stop := request(f, "GET", "/x", map[string]string{"Authorization": "Bearer " + a.AccessToken}, "", ""); !stop || b.ErrorStatus != 401 {
		t.Errorf("an expired token: status %d", b.ErrorStatus)
	}
	for _, bad := range []int{-1, MaxTokenTTL + 1} {
		if _, err := New(Config{TokenTTL: bad}, nil, nil); err == nil {
			t.Errorf("token_ttl %d accepted", bad)
		}
	}
}
