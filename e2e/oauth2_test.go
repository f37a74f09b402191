package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// tokenCall asks the gateway's token endpoint and decodes its answer.
func tokenCall(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a map[string]any
	_ = json.Unmarshal(b, &a)
	if a == nil {
		a = map[string]any{"raw": string(b)}
	}
	return resp.StatusCode, a
}

func tokenForm(gateway string, form url.Values) *http.Request {
	req, _ := http.NewRequest("POST", gateway+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// bodyBackend answers with the body and headers it received.
func bodyBackend(t *testing.T) int {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"body": string(b), "consumer": r.Header.Get("X-Consumer-Id")})
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// TestOAuth2ClientCredentials is OAuth2 client-credentials call credentials end
// to end: tokens from POST /oauth2/token (form and Basic) and from GET with
// the id and secret in the query (as the documented Postman call does), a call
// with the token, a wrong secret, an expired token, a revoked credential's
// token; and hmac-auth with a body digest. Neither secrets nor tokens
// reach the logs or /metrics.
func TestOAuth2ClientCredentials(t *testing.T) {
	s := startServer(t, t.TempDir())
	port := echoBackend(t)
	svcs := "/api/v1/projects/default/services"
	publish := func(name, plugins, route string, port int) {
		s.do(t, "POST", svcs, fmt.Sprintf(`{"name":%q,"path":"/%s","plugins":{%s}}`, name, name, plugins), 201, nil)
		s.do(t, "POST", svcs+"/"+name+"/routes", route, 201, nil)
		s.do(t, "POST", svcs+"/"+name+"/publish", fmt.Sprintf(`{"group":"default","version":"1.0.0","upstream":%s}`, nodes(port)), 201, nil)
	}
	publish("secured", `"oauth2":{}`, `{"name":"weather","paths":["/weather"],"methods":["GET"]}`, port)
	var app struct{ ID string }
	s.do(t, "POST", "/api/v1/applications", `{"name":"weather-app","project":"default"}`, 201, &app)
	creds := "/api/v1/applications/" + app.ID + "/credentials"
	var cred struct {
		ID           string
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	s.do(t, "POST", creds, `{"type":"oauth2"}`, 201, &cred)
	if cred.ClientID == "" || len(cred.ClientSecret) < 22 {
		t.Fatalf("create answer %+v: want a generated client id and a ≥128-bit secret", cred)
	}
	secrets := []string{cred.ClientSecret}
	var tokens []string
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {cred.ClientID}, "client_secret": {cred.ClientSecret}}
	api := s.Gateway + "/secured/weather"

	// The endpoint appears with the snapshot that runs the oauth2 plugin.
	var tok string
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, a := tokenCall(t, tokenForm(s.Gateway, form))
		if status == 200 {
			if a["token_type"] != "Bearer" || a["expires_in"] != float64(3600) {
				t.Fatalf("token answer %v", a)
			}
			tok, _ = a["access_token"].(string)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("token endpoint: %d %v", status, a)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tokens = append(tokens, tok)
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

	t.Run("call with the token", func(t *testing.T) {
		e := until(t, 200, func() (int, echoed, string) { return gw(t, "GET", api, bearer(tok)) })
		if e.Headers.Get("X-Consumer-Id") != app.ID || e.Headers.Get("X-Consumer-Name") != "weather-app" || e.Headers.Get("Authorization") != "" {
			t.Errorf("backend saw %v", e.Headers)
		}
		status, _, body := gw(t, "GET", api, nil)
		if status != 401 || !strings.Contains(body, `"code":"unauthorized"`) {
			t.Errorf("no token: %d %s", status, body)
		}
		if status, _, _ := gw(t, "GET", api, bearer(tok+"x")); status != 401 {
			t.Errorf("a wrong token: %d", status)
		}
	})

	t.Run("Basic", func(t *testing.T) {
		req := tokenForm(s.Gateway, url.Values{"grant_type": {"client_credentials"}})
		req.SetBasicAuth(url.QueryEscape(cred.ClientID), url.QueryEscape(cred.ClientSecret))
		status, a := tokenCall(t, req)
		if status != 200 || a["access_token"] == "" {
			t.Fatalf("Basic: %d %v", status, a)
		}
		tokens = append(tokens, a["access_token"].(string))
		if status, _, _ := gw(t, "GET", api, bearer(a["access_token"].(string))); status != 200 {
			t.Errorf("call with the Basic-issued token: %d", status)
		}
	})

	t.Run("GET with query parameters", func(t *testing.T) {
		req, _ := http.NewRequest("GET", s.Gateway+"/oauth2/token?"+form.Encode(), nil)
		status, a := tokenCall(t, req)
		if status != 200 || a["access_token"] == "" {
			t.Fatalf("GET: %d %v", status, a)
		}
		tokens = append(tokens, a["access_token"].(string))
		if status, _, _ := gw(t, "GET", api, bearer(a["access_token"].(string))); status != 200 {
			t.Errorf("call with the GET-issued token: %d", status)
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		wrong := url.Values{"grant_type": {"client_credentials"}, "client_id": {cred.ClientID}, "client_secret": {"not-the-secret"}}
		status, a := tokenCall(t, tokenForm(s.Gateway, wrong))
		if status != 401 || a["error"] != "invalid_client" {
			t.Errorf("wrong secret: %d %v", status, a)
		}
		req := tokenForm(s.Gateway, url.Values{"grant_type": {"client_credentials"}})
		req.SetBasicAuth(cred.ClientID, "not-the-secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("wrong Basic secret: %d %v", resp.StatusCode, resp.Header)
		}
		bad := url.Values{"grant_type": {"password"}, "client_id": {cred.ClientID}, "client_secret": {cred.ClientSecret}}
		if status, a := tokenCall(t, tokenForm(s.Gateway, bad)); status != 400 || a["error"] != "unsupported_grant_type" {
			t.Errorf("password grant: %d %v", status, a)
		}
	})

	t.Run("revoked credential", func(t *testing.T) {
		var other struct {
			ID           string
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}
		s.do(t, "POST", creds, `{"type":"oauth2"}`, 201, &other)
		secrets = append(secrets, other.ClientSecret)
		f := url.Values{"grant_type": {"client_credentials"}, "client_id": {other.ClientID}, "client_secret": {other.ClientSecret}}
		var otherTok string
		deadline := time.Now().Add(5 * time.Second)
		for otherTok == "" {
			if status, a := tokenCall(t, tokenForm(s.Gateway, f)); status == 200 {
				otherTok = a["access_token"].(string)
			} else if time.Now().After(deadline) {
				t.Fatalf("new credential's token: %d %v", status, a)
			}
			time.Sleep(20 * time.Millisecond)
		}
		tokens = append(tokens, otherTok)
		until(t, 200, func() (int, echoed, string) { return gw(t, "GET", api, bearer(otherTok)) })
		s.do(t, "DELETE", creds+"/"+other.ID, "", 204, nil)
		until(t, 401, func() (int, echoed, string) { return gw(t, "GET", api, bearer(otherTok)) })
		if status, _ := tokenCall(t, tokenForm(s.Gateway, f)); status != 401 {
			t.Errorf("a deleted credential still gets tokens: %d", status)
		}
		// The first credential's token is untouched by the reload.
		if status, _, _ := gw(t, "GET", api, bearer(tok)); status != 200 {
			t.Errorf("another credential's token after the reload: %d", status)
		}
	})

	t.Run("expired token", func(t *testing.T) {
		// Tokens live as long as the shortest token_ttl the gateway serves.
		publish("brief", `"oauth2":{"token_ttl":1}`, `{"name":"weather","paths":["/weather"],"methods":["GET"]}`, port)
		var short string
		var asked time.Time // before the gateway issued the token, so before its clock started
		deadline := time.Now().Add(5 * time.Second)
		for short == "" {
			asked = time.Now()
			status, a := tokenCall(t, tokenForm(s.Gateway, form))
			if status == 200 && a["expires_in"] == float64(1) {
				short = a["access_token"].(string)
			} else if time.Now().After(deadline) {
				t.Fatalf("short-lived token: %d %v", status, a)
			}
			time.Sleep(20 * time.Millisecond)
		}
		tokens = append(tokens, short)
		if status, _, _ := gw(t, "GET", s.Gateway+"/brief/weather", bearer(short)); status != 200 {
			t.Errorf("a fresh short-lived token: %d", status)
		}
		// Refused once its second is up (until gives up after 5s), and not
		// long before: the gateway's clock started after asked, so a
		// refusal well under a second from it is a token expiring early.
		until(t, 401, func() (int, echoed, string) { return gw(t, "GET", s.Gateway+"/brief/weather", bearer(short)) })
		if lived := time.Since(asked); lived < 900*time.Millisecond {
			t.Errorf("a 1s token refused %v after it was asked for", lived)
		}
	})

	t.Run("hmac body digest", func(t *testing.T) {
		bport := bodyBackend(t)
		publish("orders", `"hmac-auth":{"validate_request_body":true}`, `{"name":"create","paths":["/orders"],"methods":["POST"]}`, bport)
		var hm struct {
			AccessKey string `json:"access_key"`
			SecretKey string `json:"secret_key"`
		}
		s.do(t, "POST", creds, `{"type":"hmac-auth"}`, 201, &hm)
		secrets = append(secrets, hm.SecretKey)
		post := func(signedBody, sentBody string) (int, string) {
			sum := sha256.Sum256([]byte(signedBody))
			digest := "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
			date := time.Now().UTC().Format(http.TimeFormat)
			m := hmac.New(sha256.New, []byte(hm.SecretKey))
			m.Write([]byte("POST\n/orders/orders\n\n" + hm.AccessKey + "\n" + date + "\ndigest:" + digest + "\n"))
			req, _ := http.NewRequest("POST", s.Gateway+"/orders/orders", strings.NewReader(sentBody))
			for k, v := range map[string]string{"Digest": digest, "Date": date, "X-HMAC-ACCESS-KEY": hm.AccessKey,
				"X-HMAC-SIGNED-HEADERS": "digest", "X-HMAC-SIGNATURE": base64.StdEncoding.EncodeToString(m.Sum(nil))} {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		const order = `{"item":"umbrella","city":"paris"}`
		deadline := time.Now().Add(5 * time.Second)
		for {
			status, body := post(order, order)
			if status == 200 {
				var got struct{ Body, Consumer string }
				_ = json.Unmarshal([]byte(body), &got)
				if got.Body != order || got.Consumer != app.ID {
					t.Errorf("backend got %+v, want the body and the consumer", got)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("right digest: %d %s", status, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if status, body := post(order, strings.Replace(order, "paris", "rome!", 1)); status != 401 {
			t.Errorf("tampered body: %d %s", status, body)
		}
	})

	// Nothing secret in the metrics, nor (after stop) in the output.
	_, _, metrics, err := get(t.Context(), s.Status+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	s.stop(t)
	for _, sec := range append(secrets, tokens...) {
		if sec == "" {
			continue
		}
		if strings.Contains(string(metrics), sec) {
			t.Errorf("/metrics holds a secret or token")
		}
		if strings.Contains(s.out.String(), sec) {
			t.Errorf("the server's output holds a secret or token")
		}
	}
}
