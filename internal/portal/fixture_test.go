package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage/webpagetest"
)

// fixture is the portal in front of the real admin API on a fresh store:
// a shop project (test and production groups, production with a public
// URL) whose petstore service, imported from petDoc, is published and so
// listed with a plan; the user dev (no project) signed in to the portal.
type fixture struct {
	t       testing.TB
	api     http.Handler
	portal  *Portal
	admin   string // the admin's bearer token (for setting things up)
	svc     string // petstore's id
	cookie  *http.Cookie
	csrf    string
	backend *httptest.Server // the "gateway" Try it reaches
}

const devPassword = "developer-password-long"

// petDoc has a $ref to a component, a component that refers to itself
// (Pet.parent, Pet.children[]), allOf and oneOf, parameters by $ref, a
// request body and examples; and a description with markup that must be
// shown as text.
const petDoc = `{
  "openapi": "3.0.3",
  "info": {"title": "petstore", "version": "1.0.0", "description": "Pets <script>alert(1)</script> for sale.\nSecond line."},
  "x-portico-upstream": {"scheme": "http", "nodes": [{"host": "127.0.0.1", "port": 8080, "weight": 100}]},
  "tags": [{"name": "pets", "description": "Everything about pets"}],
  "paths": {
    "/pets/{id}": {
      "parameters": [{"$ref": "#/components/parameters/PetID"}],
      "get": {"tags": ["pets"], "operationId": "getPet", "summary": "Find a pet",
        "parameters": [{"name": "verbose", "in": "query", "schema": {"type": "boolean"}, "description": "more fields"}],
        "responses": {"200": {"description": "the pet", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"},
          "example": {"id": 7, "name": "Rex"}}}}, "404": {"description": "no such pet"}}}
    },
    "/pets": {
      "post": {"tags": ["pets"], "operationId": "addPet", "summary": "Add a pet",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}}},
        "responses": {"201": {"description": "created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}}
    }
  },
  "components": {
    "parameters": {"PetID": {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}, "description": "the pet's id"}},
    "schemas": {
      "NewPet": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "example": "Rex", "description": "what it answers to"},
        "kind": {"type": "string", "enum": ["dog", "cat"]},
        "owner": {"oneOf": [{"$ref": "#/components/schemas/Person"}, {"type": "string"}]}}},
      "Pet": {"allOf": [{"$ref": "#/components/schemas/NewPet"}, {"type": "object", "required": ["id"], "properties": {
        "id": {"type": "integer", "format": "int64", "readOnly": true},
        "parent": {"$ref": "#/components/schemas/Pet"},
        "children": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}}]},
      "Person": {"type": "object", "properties": {"nick": {"type": "string"}}}
    }
  }
}`

func newFixture(tb testing.TB, opts Options) *fixture {
	tb.Helper()
	st := webpagetest.NewStore(tb, webpagetest.Seed{Users: []webpagetest.User{
		{Name: "admin", Role: rbac.SuperAdmin, Password: "admin-password-long"}, {Name: "dev", Role: rbac.User, Password: devPassword}}})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo-Apikey", r.Header.Get("apikey"))
		b, _ := io.ReadAll(r.Body)
		_ = json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "uri": r.RequestURI, "body": string(b)})
	}))
	tb.Cleanup(backend.Close)
	usage := func(_ context.Context, _, _ string, _ []spec.Quota, _ *time.Location) ([]adminapi.PeriodUsage, bool) {
		return []adminapi.PeriodUsage{{Period: "day", Limit: 100, Used: 42, Remaining: 58, ResetsAt: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)}}, true
	}
	f := &fixture{t: tb, backend: backend}
	f.api = adminapi.New(adminapi.Config{Store: st, Version: "test", Signup: opts.Signup,
		Gateway: func(string) (string, bool) { return backend.URL, true }, QuotaUsage: usage})
	var err error
	f.portal, err = New(f.api, opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	var login struct{ Token string }
	f.json("", "POST", "/auth/login", map[string]string{"username": "admin", "password": "admin-password-long"}, &login)
	f.admin = login.Token
	f.json(f.admin, "POST", "/gateway-groups", map[string]any{"name": "test", "path_prefix": "/test"}, nil)
	f.json(f.admin, "POST", "/gateway-groups", map[string]any{"name": "production", "path_prefix": "/prod", "public_url": "https://api.example.com"}, nil)
	f.json(f.admin, "POST", "/projects", map[string]any{"id": "shop", "test_group": "test", "production_group": "production"}, nil)
	var imp struct {
		Service spec.Service `json:"service"`
	}
	f.raw(f.admin, "POST", "/projects/shop/services/import", []byte(petDoc), &imp)
	f.svc = imp.Service.ID
	f.json(f.admin, "PATCH", "/projects/shop/services/"+f.svc, map[string]any{"labels": map[string]string{"team": "zoo"}}, nil)
	f.json(f.admin, "POST", "/projects/shop/services/"+f.svc+"/actions/submit", nil, nil)
	f.json(f.admin, "POST", "/projects/shop/services/"+f.svc+"/actions/publish", nil, nil)
	f.json(f.admin, "POST", "/projects/shop/services/"+f.svc+"/plans", map[string]any{"name": "free",
		"quotas": []map[string]any{{"count": 100, "period": "day"}}}, nil)
	return f
}

// json calls the admin API directly (setting things up), failing the
// test on an error answer.
func (f *fixture) json(token, method, path string, body, out any) {
	f.t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			f.t.Fatal(err)
		}
	}
	f.raw(token, method, path, b, out)
}

func (f *fixture) raw(token, method, path string, body []byte, out any) {
	f.t.Helper()
	r := httptest.NewRequest(method, adminapi.Prefix+path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	f.api.ServeHTTP(rec, r)
	if rec.Code >= 300 {
		f.t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			f.t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
}

// signin signs dev in through the portal's own form.
func (f *fixture) signin() {
	f.t.Helper()
	rec := f.signinAs("dev", devPassword, "/portal/apps")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/portal/apps" {
		f.t.Fatalf("sign-in: %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			f.cookie = c
		}
	}
	if f.cookie == nil {
		f.t.Fatal("sign-in set no session cookie")
	}
	f.csrf = adminapi.CSRFToken(f.cookie.Value)
}

// signinAs posts the sign-in form with a valid double-submit token.
func (f *fixture) signinAs(user, pw, next string) *httptest.ResponseRecorder {
	form := url.Values{"username": {user}, "password": {pw}, "next": {next}, "csrf": {"0123456789abcdefghijklmnopqrstuv"}}
	r := httptest.NewRequest("POST", "/portal/signin", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: signinCSRFCookie, Value: "0123456789abcdefghijklmnopqrstuv"})
	rec := httptest.NewRecorder()
	f.portal.ServeHTTP(rec, r)
	return rec
}

// get and post send a portal request as the signed-in user; post adds
// the CSRF token unless csrf is false.
func (f *fixture) get(path string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return f.send(r)
}

// getWith is get with extra cookies (a language chosen).
func (f *fixture) getWith(path string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return f.send(r)
}

func (f *fixture) post(path string, form url.Values, csrf bool) *httptest.ResponseRecorder {
	form2 := url.Values{}
	for k, v := range form {
		form2[k] = v
	}
	if csrf {
		form2.Set("csrf", f.csrf)
	}
	r := httptest.NewRequest("POST", path, strings.NewReader(form2.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.send(r)
}

func (f *fixture) send(r *http.Request) *httptest.ResponseRecorder {
	if f.cookie != nil {
		r.AddCookie(f.cookie)
	}
	rec := httptest.NewRecorder()
	f.portal.ServeHTTP(rec, r)
	return rec
}

// want fails unless the answer has status and its body holds every
// string of has.
func want(t *testing.T, what string, rec *httptest.ResponseRecorder, status int, has ...string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, rec.Code, status, rec.Body)
	}
	for _, s := range has {
		if !strings.Contains(rec.Body.String(), s) {
			t.Errorf("%s: the page lacks %q", what, s)
		}
	}
}
