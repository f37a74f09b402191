package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/storetest"
)

const adminPassword = "s3cret-for-tests"

// testAPI is an admin API over a fresh SQLite store with the first-start
// state: user admin, gateway group default, project default.
type testAPI struct {
	t       *testing.T
	url     string
	token   string
	store   store.Store
	secrets *credential.Keyring // what the API seals secrets with
}

// opts change the API's Config before it starts (a clock, a retention).
func newTestAPI(t *testing.T, opts ...func(*Config)) *testAPI {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, storetest.SQLiteDir(t), nil)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	hash, err := HashPassword(adminPassword)
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	err = st.Tx(ctx, func(tx store.Tx) error {
		if err := tx.CreateGroup(ctx, &spec.GatewayGroup{Name: spec.DefaultGroup}); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
		p := &spec.Project{ID: spec.DefaultProject, Name: spec.DefaultProject, TestGroup: spec.DefaultGroup, ProductionGroup: spec.DefaultGroup}
		if err := tx.CreateProject(ctx, p); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
		return tx.CreateUser(ctx, &spec.User{Username: "admin", Role: rbac.SuperAdmin}, hash)
	})
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	secrets := credential.NewRandomKeyring()
	cfg := Config{Store: commitGuard{Store: st, t: t}, Version: "test", MaxBodyBytes: 64 << 10, Secrets: secrets}
	for _, o := range opts {
		o(&cfg)
	}
	srv := httptest.NewServer(New(cfg))
	t.Cleanup(srv.Close)
	a := &testAPI{t: t, url: srv.URL, store: st, secrets: secrets}
	var login struct{ Token string }
	a.mustJSON("POST", "/auth/login", map[string]string{"username": "admin", "password": adminPassword}, http.StatusOK, &login)
	if login.Token == "" {
		t.Fatal("login answered no token")
	}
	a.token = login.Token
	return a
}

// viewerToken logs in a user "viewer" of role viewer (made the first
// time) and answers its token.
func (a *testAPI) viewerToken(t *testing.T) string {
	t.Helper()
	hash, err := HashPassword("viewer-password")
	if err != nil {
		t.Fatal(err)
	}
	err = a.store.Tx(context.Background(), func(tx store.Tx) error {
		err := tx.CreateUser(context.Background(), &spec.User{Username: "viewer", Role: rbac.User}, hash)
		if errors.Is(err, store.ErrConflict) {
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var vl struct{ Token string }
	a.decode(a.doToken("", "POST", "/auth/login", loginBody("viewer", "viewer-password")), &vl)
	return vl.Token
}

// response is one answer of the API.
type response struct {
	status int
	header http.Header
	body   []byte
}

// problemBody decodes a problem+json answer.
func (r response) problem(t *testing.T) problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json (body %s)", ct, r.body)
	}
	var p problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem body %s: %v", r.body, err)
	}
	return p
}

// fields lists the fields a validation problem names.
func (r response) fields(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, e := range r.problem(t).Errors {
		out = append(out, e.Field)
	}
	return out
}

// do sends a request with the test's token. body may be nil, a string or
// []byte (sent as is) or anything else (sent as JSON). Requests are sent the
// way curl -d sends them, as form-encoded, to prove the content type does
// not matter.
func (a *testAPI) do(method, path string, body any) response {
	a.t.Helper()
	return a.doToken(a.token, method, path, body)
}

func (a *testAPI) doToken(token, method, path string, body any) response {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.url+Prefix+path, rd)
	if err != nil {
		a.t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// mustJSON sends a request, checks the status and decodes the answer into out (if not nil).
func (a *testAPI) mustJSON(method, path string, body any, status int, out any) response {
	a.t.Helper()
	r := a.do(method, path, body)
	if r.status != status {
		a.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, status, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			a.t.Fatalf("%s %s: decode %s: %v", method, path, r.body, err)
		}
	}
	return r
}

// createService makes a service with one route and an inline-free template.
func (a *testAPI) createService(name string) spec.Service {
	a.t.Helper()
	var s spec.Service
	a.mustJSON("POST", "/projects/default/services", map[string]any{"name": name, "protocols": []string{"http"}}, http.StatusCreated, &s)
	return s
}

var testUpstream = map[string]any{"scheme": "http", "nodes": []map[string]any{{"host": "127.0.0.1", "port": 8080, "weight": 100}}}

// decode checks for a 2xx answer and decodes it.
func (a *testAPI) decode(r response, out any) {
	a.t.Helper()
	if r.status < 200 || r.status > 299 {
		a.t.Fatalf("status %d, want 2xx; body %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, out); err != nil {
		a.t.Fatalf("decode %s: %v", r.body, err)
	}
}
