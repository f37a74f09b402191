package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ctlIn is ctl with stdin and extra environment.
func (s *server) ctlIn(t *testing.T, config, stdin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"ctl", "--server", s.Admin, "--config", config}, args...)...)
	cmd.Env = append(append(os.Environ(), "PORTICO_PASSWORD=", "PORTICO_TOKEN=", "PORTICO_SERVER=", "PORTICO_PROJECT="), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run ctl %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// TestCtlPeople: through the binary, an admin makes a personal access
// token and logs in with it; creates a user with an invitation the user
// accepts; gives them a role in a project; the user's read-only token
// reads but cannot change; disabling ends the user's logins; tokens are
// listed and revoked.
func TestCtlPeople(t *testing.T) {
	t.Parallel() // its own server and users: it runs beside the other parallel tests
	s := startServer(t, t.TempDir())
	admin := filepath.Join(t.TempDir(), "admin.json")
	s.mustCtl(t, admin, "login")

	tok := strings.TrimSpace(s.mustCtl(t, admin, "tokens", "create", "ci", "--scope", "full", "--expires-in-days", "7"))
	if !strings.HasPrefix(tok, "pat_") {
		t.Fatalf("tokens create printed %q", tok)
	}
	viaToken := filepath.Join(t.TempDir(), "ci.json")
	if out, errOut, code := s.ctlIn(t, viaToken, tok+"\n", nil, "login", "--token", "-"); code != 0 || !strings.Contains(out, "as admin") {
		t.Fatalf("login --token -: exit %d %q %q", code, out, errOut)
	}
	if b, _ := os.ReadFile(viaToken); !bytes.Contains(b, []byte(tok)) {
		t.Fatal("login --token did not keep the token")
	}

	s.do(t, "POST", "/api/v1/projects", `{"id":"shop","name":"shop"}`, 201, nil)
	var created struct {
		Username   string `json:"username"`
		InviteLink string `json:"invite_link"`
	}
	out := s.mustCtl(t, viaToken, "users", "create", "ada", "--invite", "--email", "ada@example.com", "-o", "json")
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.Username != "ada" || !strings.HasPrefix(created.InviteLink, s.Admin+"/invite?token=") {
		t.Fatalf("users create --invite: %s (%v)", out, err)
	}
	link, _ := url.Parse(created.InviteLink)
	const adaPassword = "Analytical-Engine-1843-notes"
	s.do(t, "POST", "/api/v1/auth/accept", `{"token":"`+link.Query().Get("token")+`","password":"`+adaPassword+`"}`, 200, nil)
	if out := s.mustCtl(t, viaToken, "-p", "shop", "members", "set", "ada", "viewer"); !strings.Contains(out, "ada is viewer of shop") {
		t.Errorf("members set: %q", out)
	}
	if out := s.mustCtl(t, viaToken, "-p", "shop", "members", "list"); !strings.Contains(out, "ada") || !strings.Contains(out, "viewer") {
		t.Errorf("members list:\n%s", out)
	}

	// Ada logs in with her password, makes a read token, and logs in with it.
	adaCfg := filepath.Join(t.TempDir(), "ada.json")
	if _, errOut, code := s.ctlIn(t, adaCfg, adaPassword, nil, "login", "-u", "ada"); code != 0 {
		t.Fatalf("ada's login: exit %d %s", code, errOut)
	}
	readTok := strings.TrimSpace(s.mustCtl(t, adaCfg, "tokens", "create", "laptop"))
	adaRead := filepath.Join(t.TempDir(), "ada-read.json")
	if out, errOut, code := s.ctlIn(t, adaRead, "", []string{"PORTICO_TOKEN=" + readTok}, "login"); code != 0 || !strings.Contains(out, "scope read") {
		t.Fatalf("login with PORTICO_TOKEN: exit %d %q %q", code, out, errOut)
	}
	if out := s.mustCtl(t, adaRead, "-p", "shop", "members", "list"); !strings.Contains(out, "ada") {
		t.Errorf("a viewer's read token lists members:\n%s", out)
	}
	if _, errOut, code := s.ctl(t, adaRead, "-p", "shop", "members", "set", "ada", "project_admin"); code != 1 || !strings.Contains(errOut, "403") {
		t.Errorf("a read token changes a role: exit %d %q", code, errOut)
	}
	if _, errOut, code := s.ctl(t, adaCfg, "users", "list"); code != 1 || !strings.Contains(errOut, "403") {
		t.Errorf("a user lists users: exit %d %q", code, errOut)
	}
	if out := s.mustCtl(t, viaToken, "users", "list", "-q", "ada"); !strings.Contains(out, "ada") || strings.Contains(out, "admin") {
		t.Errorf("users list -q ada:\n%s", out)
	}

	// Disabling ends her logins and refuses her tokens at once.
	s.mustCtl(t, viaToken, "users", "disable", "ada")
	if _, errOut, code := s.ctl(t, adaRead, "-p", "shop", "members", "list"); code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("a disabled user's token: exit %d %q", code, errOut)
	}
	s.mustCtl(t, viaToken, "users", "enable", "ada")
	s.mustCtl(t, viaToken, "-p", "shop", "members", "remove", "ada")

	if out := s.mustCtl(t, admin, "tokens", "list"); !strings.Contains(out, "ci") || strings.Contains(out, tok) {
		t.Errorf("tokens list:\n%s", out)
	}
	s.mustCtl(t, admin, "tokens", "revoke", "ci")
	if _, errOut, code := s.ctl(t, viaToken, "users", "list"); code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("a revoked token: exit %d %q", code, errOut)
	}
	if _, errOut, code := s.ctlIn(t, viaToken, "", nil, "login", "--token", "pat_not_a_token"); code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("login with a wrong token: exit %d %q", code, errOut)
	}
}
