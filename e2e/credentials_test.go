package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// echoBackend answers with what it received: path, query and headers, so a
// test can see what the gateway forwarded.
func echoBackend(t *testing.T) int {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "query": r.URL.RawQuery, "headers": r.Header})
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

type echoed struct {
	Path    string
	Query   string
	Headers http.Header
}

// gw calls the gateway with headers and decodes an echoed 200.
func gw(t *testing.T, method, url string, headers map[string]string) (int, echoed, string) {
	t.Helper()
	status, _, body := gatewayCall(t, method, url, "", headers)
	var e echoed
	if status == 200 {
		_ = json.Unmarshal([]byte(body), &e)
	}
	return status, e, body
}

// until polls the gateway until it answers want (a consumer change reaches
// the gateway with the next revision, asynchronously).
func until(t *testing.T, want int, call func() (int, echoed, string)) echoed {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, e, body := call()
		if status == want {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %d, want %d: %s", status, want, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recipeSign is the documented Postman pre-request script, line for line.
func recipeSign(key, secret, method, path, query string, at time.Time) map[string]string {
	tm := at.UTC().Format(http.TimeFormat) // new Date().toUTCString()
	signedHeadersString := ""
	signingString := method + "\n" + path + "\n" + query + "\n" + key + "\n" + tm + "\n" + signedHeadersString
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(signingString))
	sign := base64.StdEncoding.EncodeToString(m.Sum(nil))
	return map[string]string{"X-HMAC-SIGNATURE": sign, "X-HMAC-ALGORITHM": "hmac-sha256", "X-HMAC-ACCESS-KEY": key, "Date": tm}
}

// TestCallCredentials is call credentials end to end: a project's
// application with key-auth, basic-auth and hmac-auth credentials calls
// three services that require them; the backend sees who called and never
// the credential; secrets are nowhere at rest, in logs or in lists.
func TestCallCredentials(t *testing.T) {
	s := startServer(t, t.TempDir())
	port := echoBackend(t)
	svcs := "/api/v1/projects/default/services"
	for _, svc := range []struct{ name, plugin string }{
		{"keyed", `"key-auth":{}`}, {"basic", `"basic-auth":{}`}, {"signed", `"hmac-auth":{"clock_skew":300}`},
		{"tokens", `"jwt-auth":{}`},
	} {
		s.do(t, "POST", svcs, fmt.Sprintf(`{"name":%q,"path":"/%s","plugins":{%s}}`, svc.name, svc.name, svc.plugin), 201, nil)
		s.do(t, "POST", svcs+"/"+svc.name+"/routes", `{"name":"weather","paths":["/weather"],"methods":["GET"]}`, 201, nil)
		s.do(t, "POST", svcs+"/"+svc.name+"/publish", fmt.Sprintf(`{"group":"default","version":"1.0.0","upstream":%s}`, nodes(port)), 201, nil)
	}
	url := func(svc string) string { return s.Gateway + "/" + svc + "/weather" }
	until(t, 401, func() (int, echoed, string) { return gw(t, "GET", url("keyed"), nil) })

	var app struct{ ID, Name string }
	s.do(t, "POST", "/api/v1/applications", `{"name":"weather-app","project":"default"}`, 201, &app)
	creds := "/api/v1/applications/" + app.ID + "/credentials"
	var key, basic, signed struct {
		ID, Key, Username, Password string
		AccessKey                   string `json:"access_key"`
		SecretKey                   string `json:"secret_key"`
	}
	s.do(t, "POST", creds, `{"type":"key-auth"}`, 201, &key)
	s.do(t, "POST", creds, `{"type":"basic-auth","username":"alice"}`, 201, &basic)
	s.do(t, "POST", creds, `{"type":"hmac-auth","access_key":"2e4d0bbad47e3b5e3a0c","secret_key":"815ba6d666d58ef1e79b"}`, 201, &signed)
	var jwtCred struct{ Key, Secret, Algorithm string }
	s.do(t, "POST", creds, `{"type":"jwt-auth","key":"weather-jwt"}`, 201, &jwtCred)
	if key.Key == "" || basic.Password == "" || signed.SecretKey != "815ba6d666d58ef1e79b" || jwtCred.Secret == "" {
		t.Fatalf("create answers do not show the secrets: %+v %+v %+v %+v", key, basic, signed, jwtCred)
	}
	secrets := []string{key.Key, basic.Password, signed.SecretKey, jwtCred.Secret}

	checkForwarded := func(t *testing.T, e echoed, leaked ...string) {
		t.Helper()
		if e.Headers.Get("X-Consumer-Id") != app.ID || e.Headers.Get("X-Consumer-Name") != "weather-app" {
			t.Errorf("backend saw consumer %q %q, want %s weather-app", e.Headers.Get("X-Consumer-Id"), e.Headers.Get("X-Consumer-Name"), app.ID)
		}
		for _, h := range leaked {
			if v := e.Headers.Get(h); v != "" {
				t.Errorf("backend saw credential header %s: %q", h, v)
			}
		}
		for _, sec := range secrets {
			if strings.Contains(e.Query, sec) || strings.Contains(fmt.Sprint(e.Headers), sec) {
				t.Errorf("backend saw a secret: query %q headers %v", e.Query, e.Headers)
			}
		}
	}

	t.Run("key-auth", func(t *testing.T) {
		e := until(t, 200, func() (int, echoed, string) { return gw(t, "GET", url("keyed"), map[string]string{"apikey": key.Key}) })
		checkForwarded(t, e, "Apikey")
		e = until(t, 200, func() (int, echoed, string) { return gw(t, "GET", url("keyed")+"?city=paris&apikey="+key.Key, nil) })
		checkForwarded(t, e)
		if e.Query != "city=paris" {
			t.Errorf("backend query %q, want city=paris", e.Query)
		}
		if status, _, body := gw(t, "GET", url("keyed"), map[string]string{"apikey": "wrong"}); status != 401 || !strings.Contains(body, `"code":"unauthorized"`) {
			t.Errorf("wrong key: %d %s", status, body)
		}
	})

	t.Run("basic-auth", func(t *testing.T) {
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+basic.Password))
		e := until(t, 200, func() (int, echoed, string) {
			return gw(t, "GET", url("basic"), map[string]string{"Authorization": auth})
		})
		checkForwarded(t, e, "Authorization")
		bad := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:nope-nope"))
		if status, _, _ := gw(t, "GET", url("basic"), map[string]string{"Authorization": bad}); status != 401 {
			t.Errorf("wrong password: %d", status)
		}
	})

	t.Run("hmac-auth seed script", func(t *testing.T) {
		sign := func(at time.Time, query string) map[string]string {
			return recipeSign("2e4d0bbad47e3b5e3a0c", "815ba6d666d58ef1e79b", "GET", "/signed/weather", query, at)
		}
		e := until(t, 200, func() (int, echoed, string) { return gw(t, "GET", url("signed"), sign(time.Now(), "")) })
		checkForwarded(t, e, "X-Hmac-Signature", "X-Hmac-Access-Key")
		if status, _, _ := gw(t, "GET", url("signed")+"?city=paris", sign(time.Now(), "city=paris")); status != 200 {
			t.Errorf("signed with a query: %d", status)
		}
		if status, _, _ := gw(t, "GET", url("signed"), sign(time.Now().Add(-15*time.Minute), "")); status != 401 {
			t.Errorf("a 15-minute-old Date: %d, want 401", status)
		}
		wrong := sign(time.Now(), "")
		wrong["X-HMAC-SIGNATURE"] = recipeSign("2e4d0bbad47e3b5e3a0c", "not-the-secret", "GET", "/signed/weather", "", time.Now())["X-HMAC-SIGNATURE"]
		if status, _, _ := gw(t, "GET", url("signed"), wrong); status != 401 {
			t.Errorf("a wrong signature: %d, want 401", status)
		}
		if status, _, _ := gw(t, "GET", url("signed")+"?city=rome", sign(time.Now(), "city=paris")); status != 401 {
			t.Errorf("a changed query: %d, want 401", status)
		}
	})

	t.Run("jwt-auth", func(t *testing.T) {
		tok := hs256(jwtCred.Secret, fmt.Sprintf(`{"key":"weather-jwt","exp":%d}`, time.Now().Add(time.Hour).Unix()))
		e := until(t, 200, func() (int, echoed, string) {
			return gw(t, "GET", url("tokens"), map[string]string{"Authorization": "Bearer " + tok})
		})
		checkForwarded(t, e, "Authorization")
		old := hs256(jwtCred.Secret, fmt.Sprintf(`{"key":"weather-jwt","exp":%d}`, time.Now().Add(-time.Hour).Unix()))
		if status, _, _ := gw(t, "GET", url("tokens"), map[string]string{"Authorization": "Bearer " + old}); status != 401 {
			t.Errorf("an expired token: %d, want 401", status)
		}
		forged := hs256("not-the-secret", `{"key":"weather-jwt"}`)
		if status, _, _ := gw(t, "GET", url("tokens"), map[string]string{"Authorization": "Bearer " + forged}); status != 401 {
			t.Errorf("a forged token: %d, want 401", status)
		}
	})

	t.Run("user application needs a subscription", func(t *testing.T) {
		var mine struct{ ID string }
		s.do(t, "POST", "/api/v1/applications", `{"name":"my-app"}`, 201, &mine)
		var k struct{ Key string }
		s.do(t, "POST", "/api/v1/applications/"+mine.ID+"/credentials", `{"type":"key-auth"}`, 201, &k)
		secrets = append(secrets, k.Key)
		// Not admitted anywhere yet: the gateway does not even know it.
		until(t, 401, func() (int, echoed, string) { return gw(t, "GET", url("keyed"), map[string]string{"apikey": k.Key}) })
		var svc struct{ ID string }
		s.do(t, "GET", svcs+"/keyed", "", 200, &svc)
		var sub struct{ ID string }
		s.do(t, "POST", "/api/v1/subscriptions", fmt.Sprintf(`{"application":%q,"service":%q}`, mine.ID, svc.ID), 201, &sub)
		until(t, 200, func() (int, echoed, string) { return gw(t, "GET", url("keyed"), map[string]string{"apikey": k.Key}) })
		// Subscribed to keyed only: basic stays closed to it (no credential there).
		s.do(t, "DELETE", "/api/v1/subscriptions/"+sub.ID, "", 204, nil)
		until(t, 401, func() (int, echoed, string) { return gw(t, "GET", url("keyed"), map[string]string{"apikey": k.Key}) })
	})

	t.Run("revoke", func(t *testing.T) {
		var rotated struct{ Key string }
		s.do(t, "POST", creds+"/"+key.ID+"/rotate", `{"overlap":0}`, 201, &rotated)
		secrets = append(secrets, rotated.Key)
		until(t, 401, func() (int, echoed, string) { return gw(t, "GET", url("keyed"), map[string]string{"apikey": key.Key}) })
		until(t, 200, func() (int, echoed, string) {
			return gw(t, "GET", url("keyed"), map[string]string{"apikey": rotated.Key})
		})
	})

	// No secret in the admin API's lists and reads.
	for _, path := range []string{creds, "/api/v1/applications", "/api/v1/audit-events?page_size=500"} {
		body := string(s.do(t, "GET", path, "", 200, nil))
		for _, sec := range secrets {
			if strings.Contains(body, sec) {
				t.Errorf("GET %s shows a secret", path)
			}
		}
	}
	s.stop(t)
	// Nor at rest (the database, its WAL) or in the logs.
	var files []string
	_ = filepath.WalkDir(s.DataDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatalf("no files in the data directory %s", s.DataDir)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range secrets {
			if strings.Contains(string(b), sec) {
				t.Errorf("%s holds a secret in plain text", f)
			}
		}
	}
	for _, sec := range secrets {
		if strings.Contains(s.out.String(), sec) {
			t.Errorf("the server's output holds a secret")
		}
	}
}

// hs256 makes a compact JWT by hand, as a client without a library would.
func hs256(secret, claims string) string {
	enc := base64.RawURLEncoding
	msg := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(claims))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return msg + "." + enc.EncodeToString(m.Sum(nil))
}
