package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/manifest"
	"github.com/portico-gw/portico/internal/spec"
)

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func rawLogin(t *testing.T, s *server, user, pw string) *http.Response {
	t.Helper()
	resp, err := http.Post(s.Admin+"/api/v1/auth/login", "application/json",
		strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw)))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestAttackAdminLoginBruteForce: 30 wrong passwords then the right one.
// After five failures the user is locked: 429 with Retry-After, the right
// password included; failures and the lockout are in the audit log and the
// server log (never the password); an admin lifts the lockout.
func TestAttackAdminLoginBruteForce(t *testing.T) {
	s := startServer(t, t.TempDir())
	const guess = "guess-Zq81-not-the-password"
	var statuses []int
	for range 30 {
		resp := rawLogin(t, s, "admin", guess)
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	for i, st := range statuses {
		want := http.StatusUnauthorized
		if i >= 5 {
			want = http.StatusTooManyRequests
		}
		if st != want {
			t.Fatalf("attempt %d: %d, want %d (all: %v)", i+1, st, want, statuses)
		}
	}
	if resp := rawLogin(t, s, "admin", s.Password); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password while locked: %d, want 429", resp.StatusCode)
	}
	var audit struct {
		Items []struct{ Action, Actor, Resource string }
	}
	s.do(t, "GET", "/api/v1/audit-events?page_size=100", "", 200, &audit)
	count := map[string]int{}
	for _, e := range audit.Items {
		count[e.Action]++
	}
	if count["auth.login_failed"] != 5 || count["auth.lockout"] != 1 {
		t.Fatalf("audit: %v, want 5 auth.login_failed and 1 auth.lockout", count)
	}
	log := s.out.String()
	if !strings.Contains(log, "login failed") || !strings.Contains(log, "username=admin") || !strings.Contains(log, "client=127.0.0.1") {
		t.Errorf("the server log lacks the failures with username and client")
	}
	if strings.Contains(log, guess) {
		t.Error("the server log shows a tried password")
	}
	s.do(t, "POST", "/api/v1/users/admin/unlock", "", 200, nil)
	if resp := rawLogin(t, s, "admin", s.Password); resp.StatusCode != http.StatusOK {
		t.Fatalf("right password after unlock: %d, want 200", resp.StatusCode)
	}
	s.do(t, "GET", "/api/v1/audit-events?q=auth.unlock", "", 200, &audit)
	if len(audit.Items) != 1 || audit.Items[0].Actor != "admin" {
		t.Errorf("unlock audit: %+v", audit.Items)
	}
}

// TestAttackAdminLockoutSurvivesRestart: the lockout is kept in the store.
func TestAttackAdminLockoutSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	for range 5 {
		rawLogin(t, s, "admin", "wrong")
	}
	s.stop(t)
	s2, err := launch(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if resp := rawLogin(t, s2, "admin", s2.Password); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after a restart: %d, want 429", resp.StatusCode)
	}
}

// loginForm fetches the console's login form and answers its CSRF cookie.
func loginForm(t *testing.T, s *server) *http.Cookie {
	t.Helper()
	resp, err := http.Get(s.Admin + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "portico_login_csrf" {
			if c.SameSite != http.SameSiteStrictMode || !c.HttpOnly {
				t.Errorf("login CSRF cookie: SameSite %v HttpOnly %v", c.SameSite, c.HttpOnly)
			}
			return c
		}
	}
	t.Fatal("the login page set no CSRF cookie")
	return nil
}

func postLogin(t *testing.T, s *server, form url.Values, ck *http.Cookie) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", s.Admin+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if ck != nil {
		req.AddCookie(ck)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestAttackAdminOpenRedirect: neither the language switch (no login
// needed) nor the login form's next leads to another origin.
func TestAttackAdminOpenRedirect(t *testing.T) {
	s := startServer(t, t.TempDir())
	for _, target := range []string{"/%09/evil.example/x", "//evil.example/x", "/%5C/evil.example", "https://evil.example/"} {
		resp, err := noRedirects.Get(s.Admin + "/lang/en?back=" + target)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/" {
			t.Errorf("/lang/en?back=%s: %d Location %q, want 303 /", target, resp.StatusCode, loc)
		}
		next, _ := url.QueryUnescape(target)
		ck := loginForm(t, s)
		resp = postLogin(t, s, url.Values{"username": {"admin"}, "password": {s.Password}, "next": {next}, "csrf": {ck.Value}}, ck)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/" {
			t.Errorf("login next=%q: %d Location %q, want 303 /", next, resp.StatusCode, loc)
		}
	}
}

// TestAttackAdminLoginCSRF: a login post without the form's token (a
// forged cross-site login) sets no session; the throttle shows on the form.
func TestAttackAdminLoginCSRF(t *testing.T) {
	s := startServer(t, t.TempDir())
	resp := postLogin(t, s, url.Values{"username": {"admin"}, "password": {s.Password}, "csrf": {"x"}}, nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without the CSRF cookie: %d, want 403", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "portico_session" && c.Value != "" {
			t.Fatal("a forged login set a session")
		}
	}
	ck := loginForm(t, s)
	for range 5 {
		postLogin(t, s, url.Values{"username": {"admin"}, "password": {"wrong"}, "csrf": {ck.Value}}, ck)
	}
	resp = postLogin(t, s, url.Values{"username": {"admin"}, "password": {s.Password}, "csrf": {ck.Value}}, ck)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("console login while locked: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestAttackAdminDataSourceScan: the connection test takes no host or port
// and is rate limited, so it cannot scan ports.
func TestAttackAdminDataSourceScan(t *testing.T) {
	s := startServer(t, t.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var d struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/data-sources",
		fmt.Sprintf(`{"name":"db","type":"postgres","host":"127.0.0.1","port":%d,"database":"x","user":"x"}`, port), 201, &d)
	test := "/api/v1/projects/default/data-sources/" + d.ID + "/test"
	s.do(t, "POST", test, `{"host":"10.1.2.3","port":22}`, 400, nil)
	for range 10 {
		s.do(t, "POST", test, "", 200, nil)
	}
	req, _ := http.NewRequest("POST", s.Admin+test, nil)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("eleventh test in a minute: %d Retry-After %q, want 429", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestAttackAdminPackageDryRun: a dry run refuses a service without a
// name, as the import does, instead of reporting it as a creation.
func TestAttackAdminPackageDryRun(t *testing.T) {
	s := startServer(t, t.TempDir())
	zip, err := manifest.WritePackage(&manifest.Package{Meta: manifest.PackageMeta{Project: "other"},
		Services: []manifest.PackagedService{{Service: spec.Service{Name: ""}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"?dry_run=true", ""} {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("package", "p.zip")
		fw.Write(zip)
		mw.Close()
		req, _ := http.NewRequest("POST", s.Admin+"/api/v1/projects/default/import"+q, &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+s.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p struct{ Errors []struct{ Field string } }
		json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || len(p.Errors) == 0 {
			t.Errorf("import%s of a nameless service: %d %+v, want 400 naming the field", q, resp.StatusCode, p)
		}
	}
}

// TestAttackAdminDefaultAddrs: the admin API and status endpoints bind
// loopback unless configured; opening the admin API is warned about.
func TestAttackAdminDefaultAddrs(t *testing.T) {
	out, err := exec.Command(binary, "server", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("server --help: %v\n%s", err, out)
	}
	for _, want := range []string{`(default "127.0.0.1:9180")`, `(default "127.0.0.1:9091")`, `(default ":9080")`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("server --help lacks %s:\n%s", want, out)
		}
	}
	s := startServer(t, t.TempDir())
	if strings.Contains(s.out.String(), "reachable beyond this machine") {
		t.Error("a loopback admin address is warned about")
	}
	open, err := launch(t, t.TempDir(), "--admin-addr", "0.0.0.0:0")
	if err != nil {
		t.Skipf("could not start on 0.0.0.0: %v", err)
	}
	if !strings.Contains(open.out.String(), "admin API and console are reachable beyond this machine") {
		t.Errorf("no warning for an admin API on every interface:\n%s", open.out.String())
	}
}
