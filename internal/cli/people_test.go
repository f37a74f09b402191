package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeAPI is an admin API that answers canned JSON by "METHOD /path" and
// records what it was sent. The CLI reaches the server only over HTTP
// (internal/archtest), so its tests talk to this; e2e/ctl_test.go runs
// the same commands against the real binary.
type fakeAPI struct {
	t       *testing.T
	srv     *httptest.Server
	token   string // the bearer token /me accepts ("" any)
	answers map[string]string
	mu      sync.Mutex
	calls   []call
}

type call struct {
	Method, Path, Query, Auth string
	Body                      map[string]any
}

func newFakeAPI(t *testing.T, answers map[string]string) *fakeAPI {
	f := &fakeAPI{t: t, answers: answers}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c := call{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, "/api/v1"), Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization")}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &c.Body); err != nil {
			f.t.Errorf("%s %s: body %q is not a JSON object", r.Method, r.URL.Path, b)
		}
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	if f.token != "" && c.Auth != "Bearer "+f.token {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"status":401,"title":"Unauthorized","detail":"missing, unknown or expired token"}`)
		return
	}
	ans, ok := f.answers[c.Method+" "+c.Path]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"status":404,"title":"Not Found","detail":"no such thing"}`)
		return
	}
	if ans == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, ans)
}

// last is the last call to METHOD /path.
func (f *fakeAPI) last(t *testing.T, route string) call {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.calls) - 1; i >= 0; i-- {
		if c := f.calls[i]; c.Method+" "+c.Path == route {
			return c
		}
	}
	t.Fatalf("no %s among %+v", route, f.calls)
	return call{}
}

// run runs `ctl args…` with config as its config file and stdin as input.
func run(t *testing.T, config, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := Command()
	var out, errb bytes.Buffer
	cmd.SetArgs(append([]string{"--config", config}, args...))
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	if err != nil {
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), ExitCode(err)
}

func clearEnv(t *testing.T) {
	for _, k := range []string{"PORTICO_TOKEN", "PORTICO_PASSWORD", "PORTICO_SERVER", "PORTICO_PROJECT", "PORTICO_CONFIG"} {
		t.Setenv(k, "")
	}
}

const meAnswer = `{"username":"ci-bot","role":"user","scope":"read","permissions":["session:self"],"projects":[]}`

// TestLoginWithToken: a personal access token given by --token, stdin or
// PORTICO_TOKEN is checked with GET /me and kept (0600) like a
// password login's token; a refused one is not kept.
func TestLoginWithToken(t *testing.T) {
	clearEnv(t)
	api := newFakeAPI(t, map[string]string{"GET /me": meAnswer, "GET /users": `{"items":[],"total":0}`})
	api.token = "pat_good"
	cfg := filepath.Join(t.TempDir(), "portico", "ctl.json")

	out, errOut, code := run(t, cfg, "", "--server", api.srv.URL, "login", "--token", "pat_bad")
	if code != ExitFailure || !strings.Contains(errOut, "401") {
		t.Fatalf("a refused token: exit %d %q", code, errOut)
	}
	if _, err := os.Stat(cfg); err == nil {
		t.Fatal("a refused token was kept")
	}
	out, errOut, code = run(t, cfg, "", "--server", api.srv.URL, "login", "--token", "pat_good")
	if code != 0 || !strings.Contains(out, "as ci-bot") || !strings.Contains(out, "scope read") {
		t.Fatalf("login --token: exit %d %q %q", code, out, errOut)
	}
	fi, err := os.Stat(cfg)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config: %v %v, want mode 0600", fi, err)
	}
	var s settings
	b, _ := os.ReadFile(cfg)
	if err := json.Unmarshal(b, &s); err != nil || s.Token != "pat_good" || s.Server != api.srv.URL {
		t.Fatalf("kept %s (%v)", b, err)
	}
	// The next command sends it, and a second login needs no --server.
	if _, errOut, code := run(t, cfg, "", "users", "list"); code != 0 {
		t.Fatalf("users list with the kept token: exit %d %q", code, errOut)
	}
	if got := api.last(t, "GET /users").Auth; got != "Bearer pat_good" {
		t.Errorf("users list sent %q", got)
	}
	if out, errOut, code := run(t, cfg, "pat_good\n", "login", "--token", "-"); code != 0 || !strings.Contains(out, api.srv.URL) {
		t.Errorf("login --token - (stdin, last server): exit %d %q %q", code, out, errOut)
	}
	t.Setenv("PORTICO_TOKEN", "pat_good")
	if out, errOut, code := run(t, cfg, "", "login"); code != 0 || !strings.Contains(out, "ci-bot") {
		t.Errorf("login with PORTICO_TOKEN: exit %d %q %q", code, out, errOut)
	}
	if _, _, code := run(t, cfg, "", "login", "--token", "pat_good", "--password", "x"); code != ExitUsage {
		t.Errorf("--token with --password: exit %d, want 2", code)
	}
	// Naming a user logs in with a password even when PORTICO_TOKEN is set.
	api.answers["POST /auth/login"] = `{"token":"session-1"}`
	api.token = ""
	if out, errOut, code := run(t, cfg, "", "login", "-u", "admin", "--password", "pw"); code != 0 || !strings.Contains(out, "as admin") {
		t.Errorf("login -u with PORTICO_TOKEN set: exit %d %q %q", code, out, errOut)
	}
	if c := api.last(t, "POST /auth/login"); c.Body["username"] != "admin" {
		t.Errorf("login sent %+v", c.Body)
	}
}

// TestUsersTokensMembers: each command sends what the admin API takes
// and prints what a terminal or a script needs.
func TestUsersTokensMembers(t *testing.T) {
	clearEnv(t)
	api := newFakeAPI(t, map[string]string{
		"GET /users":                        `{"items":[{"username":"ada","role":"user","disabled":false,"source":"local","password_set":true}],"total":1}`,
		"POST /users":                       `{"username":"bob","role":"user","source":"local","invite":{"token":"INV123","expires_at":"2030-01-02T00:00:00Z"}}`,
		"PATCH /users/ada":                  `{"username":"ada","role":"user","disabled":true}`,
		"GET /tokens":                       `{"items":[{"id":"t1","name":"ci","scope":"full","expires_at":"2030-01-01T00:00:00Z"}],"total":1}`,
		"POST /tokens":                      `{"id":"t2","name":"deploy","scope":"full","expires_at":"2030-01-01T00:00:00Z","token":"pat_SECRET"}`,
		"DELETE /tokens/t1":                 "",
		"GET /projects/shop/members":        `{"items":[{"project":"shop","username":"ada","role":"viewer"}],"total":1}`,
		"PUT /projects/shop/members/ada":    `{"project":"shop","username":"ada","role":"api_provider"}`,
		"DELETE /projects/shop/members/ada": "",
	})
	cfg := filepath.Join(t.TempDir(), "ctl.json")
	t.Setenv("PORTICO_TOKEN", "pat_x")
	srv := []string{"--server", api.srv.URL}
	ctl := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, code := run(t, cfg, stdin, append(srv, args...)...)
		if code != 0 {
			t.Fatalf("ctl %v: exit %d %s", args, code, errOut)
		}
		return out
	}

	if out := ctl("", "users", "list"); !strings.Contains(out, "USERNAME") || !strings.Contains(out, "ada") {
		t.Errorf("users list:\n%s", out)
	}
	out := ctl("", "users", "create", "bob", "--invite", "--email", "bob@example.com")
	if c := api.last(t, "POST /users"); c.Body["invite"] != true || c.Body["email"] != "bob@example.com" || c.Body["role"] != "user" {
		t.Errorf("users create sent %+v", c.Body)
	}
	if !strings.Contains(out, "invite_link: "+api.srv.URL+"/invite?token=INV123") {
		t.Errorf("users create --invite:\n%s", out)
	}
	ctl("s3cret-Passw0rd-long\n", "users", "create", "carol", "--password", "-")
	if c := api.last(t, "POST /users"); c.Body["password"] != "s3cret-Passw0rd-long" || c.Body["invite"] != nil {
		t.Errorf("users create --password - sent %+v", c.Body)
	}
	if _, _, code := run(t, cfg, "", append(srv, "users", "create", "x", "--password", "p", "--invite")...); code != ExitUsage {
		t.Errorf("--password with --invite: exit %d", code)
	}
	if out := ctl("", "users", "disable", "ada"); !strings.Contains(out, "disabled ada") {
		t.Errorf("users disable: %q", out)
	}
	if c := api.last(t, "PATCH /users/ada"); c.Body["disabled"] != true || len(c.Body) != 1 {
		t.Errorf("users disable sent %+v", c.Body)
	}
	ctl("", "users", "enable", "ada")
	if c := api.last(t, "PATCH /users/ada"); c.Body["disabled"] != false {
		t.Errorf("users enable sent %+v", c.Body)
	}

	if out := ctl("", "tokens", "create", "deploy", "--scope", "full", "--expires-in-days", "7"); out != "pat_SECRET\n" {
		t.Errorf("tokens create printed %q, want the token alone", out)
	}
	if c := api.last(t, "POST /tokens"); c.Body["scope"] != "full" || c.Body["expires_in_days"] != float64(7) || c.Body["name"] != "deploy" {
		t.Errorf("tokens create sent %+v", c.Body)
	}
	if out := ctl("", "tokens", "list"); !strings.Contains(out, "t1") || strings.Contains(out, "pat_") {
		t.Errorf("tokens list:\n%s", out)
	}
	if c := api.last(t, "GET /tokens"); c.Query != "" {
		t.Errorf("tokens list sent query %q (the endpoint takes none)", c.Query)
	}
	ctl("", "tokens", "revoke", "ci") // by name
	api.last(t, "DELETE /tokens/t1")

	if out := ctl("", "-p", "shop", "members", "list"); !strings.Contains(out, "viewer") {
		t.Errorf("members list:\n%s", out)
	}
	if out := ctl("", "-p", "shop", "members", "set", "ada", "api_provider"); !strings.Contains(out, "ada is api_provider of shop") {
		t.Errorf("members set: %q", out)
	}
	if c := api.last(t, "PUT /projects/shop/members/ada"); c.Body["role"] != "api_provider" {
		t.Errorf("members set sent %+v", c.Body)
	}
	ctl("", "-p", "shop", "members", "remove", "ada")
	api.last(t, "DELETE /projects/shop/members/ada")

	for _, args := range [][]string{{"users"}, {"users", "create"}, {"tokens", "create"}, {"members", "set", "ada"}, {"members", "bogus"}} {
		if _, _, code := run(t, cfg, "", append(srv, args...)...); code != ExitUsage {
			t.Errorf("ctl %v: exit %d, want 2", args, code)
		}
	}
	// A refusal is exit 1 with the server's detail.
	if _, errOut, code := run(t, cfg, "", append(srv, "-p", "nope", "members", "list")...); code != ExitFailure || !strings.Contains(errOut, "404") {
		t.Errorf("members of a missing project: exit %d %q", code, errOut)
	}
}
