package portal

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/webpage"
)

func TestCatalogListAndSearch(t *testing.T) {
	f := newFixture(t, Options{})
	f.signin()
	rec := f.get("/portal/")
	want(t, "catalog", rec, http.StatusOK, "petstore", "team=zoo", "production", "APIs found: 1", "Plans: free")
	if strings.Contains(rec.Body.String(), "<script>alert") {
		t.Error("a description's markup reached the page unescaped")
	}
	for _, tc := range []struct {
		query string
		found bool
	}{
		{"q=pet", true},
		{"q=nothing-like-it", false},
		{"tag=team%3Dzoo", true},
		{"tag=team%3Dother", false},
		{"tag=team", true},
	} {
		rec := f.get("/portal/?" + tc.query)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.query, rec.Code, rec.Body)
		}
		if got := strings.Contains(rec.Body.String(), `href="/portal/apis/`+f.svc+`"`); got != tc.found {
			t.Errorf("%s: found=%v, want %v", tc.query, got, tc.found)
		}
	}
}

func TestAPIPageRendersTheDocument(t *testing.T) {
	f := newFixture(t, Options{})
	f.signin()
	rec := f.get("/portal/apis/" + f.svc)
	want(t, "API page", rec, http.StatusOK,
		`id="op-getPet"`, `id="op-addPet"`, "Find a pet", // operations, grouped under their tag
		"Everything about pets",
		`<code>id</code>`, "path", "integer (int64)", // the path-level parameter by $ref
		"verbose", "boolean",
		"what it answers to", `&#34;dog&#34;, &#34;cat&#34;`, // NewPet's properties via $ref, enum
		`data-note="cycle"`,             // Pet.parent refers to Pet
		"one of",                        // owner's oneOf
		"https://api.example.com/prod/", // the public URL of production
		`data-copy="url-0-0"`, "Copy URL",
		"free", "100 / day", // the plan and its quota
		"Rex", // an example
	)
	body := rec.Body.String()
	if strings.Contains(body, "<script>alert") {
		t.Error("the document's description reached the page unescaped")
	}
	// Try it starts from an operation.
	rec = f.get("/portal/apis/" + f.svc + "?try=op-addPet")
	want(t, "try prefilled", rec, http.StatusOK, `<option selected>POST</option>`, `value="/pets"`, "&#34;name&#34;: &#34;Rex&#34;")
}

func TestSubscribeAndUnsubscribe(t *testing.T) {
	f := newFixture(t, Options{})
	f.signin()
	page := "/portal/apis/" + f.svc
	// No application picked nor named: refused beside the field.
	rec := f.post(page+"/subscribe", url.Values{}, true)
	want(t, "subscribe without an application", rec, http.StatusBadRequest, "Pick an application")
	// A new application made inline; the listing reviews subscriptions.
	rec = f.post(page+"/subscribe", url.Values{"new_app": {"my-app"}, "plan": {"free"}, "comment": {"for tests"}}, true)
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "flash=requested") {
		t.Fatalf("subscribe: %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	rec = f.get(rec.Header().Get("Location"))
	want(t, "after subscribing", rec, http.StatusOK, "my-app", "Pending approval", "Already requested", "Withdraw request")
	// Asking again for the same application is refused by the admin API.
	rec = f.post(page+"/subscribe", url.Values{"application": {appID(t, f, "my-app")}, "plan": {"free"}}, true)
	want(t, "subscribe twice", rec, http.StatusConflict, "already requested")
	// The request shows among mine, and on its own page with its history.
	rec = f.get("/portal/requests")
	want(t, "my requests", rec, http.StatusOK, "petstore", "my-app", "Pending approval")
	rec = f.get("/portal/subscriptions")
	want(t, "my subscriptions", rec, http.StatusOK, "petstore", "my-app", "free", "Pending approval")
	// Withdraw it from the API page.
	sub := between(rec.Body.String(), `id="sub-`, `"`)
	rec = f.post("/portal/subscriptions/"+sub+"/delete", url.Values{"back": {page}}, true)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), page+"?flash=unsubscribed") {
		t.Fatalf("unsubscribe: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = f.get("/portal/subscriptions")
	want(t, "after unsubscribing", rec, http.StatusOK, "Cancelled")
}

func TestApprovedSubscriptionShowsUsage(t *testing.T) {
	f := newFixture(t, Options{})
	f.json(f.admin, "PATCH", "/projects/shop/services/"+f.svc+"/listing", map[string]any{"auto_approve": true}, nil)
	f.signin()
	rec := f.post("/portal/apis/"+f.svc+"/subscribe", url.Values{"new_app": {"auto-app"}, "plan": {"free"}}, true)
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "flash=subscribed") {
		t.Fatalf("subscribe: %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	rec = f.get("/portal/subscriptions")
	want(t, "usage", rec, http.StatusOK, "Approved", "42 / 100", "2026-12-06 00:00 UTC", "Unsubscribe")
}

func TestCredentialSecretShownOnce(t *testing.T) {
	f := newFixture(t, Options{})
	f.signin()
	rec := f.post("/portal/apps", url.Values{"name": {"cli"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create app: %d %s", rec.Code, rec.Body)
	}
	app := rec.Header().Get("Location")
	app = app[:strings.IndexByte(app, '?')]
	for _, tc := range []struct {
		typ    string
		form   url.Values
		secret string // the <dt> of the secret shown once
	}{
		{"key-auth", url.Values{}, "key"},
		{"hmac-auth", url.Values{}, "secret_key"},
		{"basic-auth", url.Values{"username": {"cli-user"}}, "password"},
		{"jwt-auth", url.Values{"algorithm": {"HS256"}}, "secret"},
	} {
		tc.form.Set("type", tc.typ)
		rec := f.post(app+"/credentials", tc.form, true)
		want(t, tc.typ, rec, http.StatusOK, "shown only this once", `id="secret-value"`, "<dt>"+tc.secret+"</dt>")
		secret := between(rec.Body.String(), `<code id="secret-value">`, "<")
		if len(secret) < 16 {
			t.Fatalf("%s: secret %q", tc.typ, secret)
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: the page with a secret may be cached", tc.typ)
		}
		// The next view of the application lists it without the secret.
		again := f.get(app)
		want(t, tc.typ+" listed", again, http.StatusOK, tc.typ)
		if strings.Contains(again.Body.String(), secret) {
			t.Errorf("%s: the secret shows again", tc.typ)
		}
	}
	// Rotating shows the new secret once.
	cred := between(f.get(app).Body.String(), `id="rotate-`, `"`)
	rec = f.post(app+"/credentials/"+cred+"/rotate", url.Values{"overlap": {"0"}}, true)
	want(t, "rotate", rec, http.StatusOK, "Credential rotated", `id="secret-value"`)
	rec = f.post(app+"/credentials/"+cred+"/delete", nil, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("delete credential: %d %s", rec.Code, rec.Body)
	}
	rec = f.post(app+"/delete", nil, true)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/portal/apps?") {
		t.Fatalf("delete app: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

func TestTryIt(t *testing.T) {
	f := newFixture(t, Options{})
	f.signin()
	rec := f.post("/portal/apis/"+f.svc+"/try", url.Values{"method": {"POST"}, "path": {"/pets?x=1"}, "apikey": {"k-123"},
		"headers": {"X-Trace: on"}, "body": {`{"name":"Rex"}`}}, true)
	want(t, "try", rec, http.StatusOK, `id="try-status">200<`, "X-Echo-Apikey", "k-123", "/test/", "/pets?x=1")
	rec = f.post("/portal/apis/"+f.svc+"/try", url.Values{"method": {"GET"}, "path": {"/"}, "headers": {"not a header"}}, true)
	want(t, "bad header line", rec, http.StatusBadRequest, "not a header")
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}

func appID(t *testing.T, f *fixture, name string) string {
	t.Helper()
	var list webpage.List[struct{ ID, Name string }]
	var login struct{ Token string }
	f.json("", "POST", "/auth/login", map[string]string{"username": "dev", "password": devPassword}, &login)
	f.json(login.Token, "GET", "/applications", nil, &list)
	for _, a := range list.Items {
		if a.Name == name {
			return a.ID
		}
	}
	t.Fatalf("no application %q", name)
	return ""
}
