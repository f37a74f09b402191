package console

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/webpage/webpagetest"
)

type fixture struct {
	h      http.Handler
	api    http.Handler
	cookie *http.Cookie
	csrf   string
	st     store.Store // the admin API's store, for what only the server does (a canary's guard)
}

// firstStart is the store's state after a first start: the default
// group and project, and the admin (password pw).
var firstStart = webpagetest.Seed{FirstStart: true, Users: []webpagetest.User{{Name: "admin", Role: rbac.SuperAdmin, Password: "pw"}}}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	st := webpagetest.NewStore(tb, firstStart)
	api := adminapi.New(adminapi.Config{Store: st, Version: "test"})
	f := &fixture{api: api, st: st, h: New(Config{API: api})}
	rec := f.login(tb, url.Values{"username": {"admin"}, "password": {"pw"}})
	if rec.Code != http.StatusSeeOther {
		tb.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == adminapi.SessionCookie {
			f.cookie = c
		}
	}
	if f.cookie == nil {
		tb.Fatal("login set no session cookie")
	}
	f.csrf = adminapi.CSRFToken(f.cookie.Value)
	return f
}

func (f *fixture) send(method, path string, form url.Values, withCSRF bool) *httptest.ResponseRecorder {
	return f.sendIn(method, path, form, withCSRF, "")
}

// getIn sends a GET as f's user in lang (Accept-Language).
func (f *fixture) getIn(path, lang string) *httptest.ResponseRecorder {
	return f.sendIn("GET", path, nil, false, lang)
}

// postIn posts form with f's session and CSRF token in lang.
func (f *fixture) postIn(path string, form url.Values, lang string) *httptest.ResponseRecorder {
	return f.sendIn("POST", path, form, true, lang)
}

// sendIn is send in lang (Accept-Language; "": none).
func (f *fixture) sendIn(method, path string, form url.Values, withCSRF bool, lang string) *httptest.ResponseRecorder {
	if withCSRF {
		form = cloneValues(form)
		form.Set("csrf", f.csrf)
	}
	var r *http.Request
	if method == "GET" {
		r = httptest.NewRequest(method, path, nil)
	} else {
		r = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if f.cookie != nil {
		r.AddCookie(f.cookie)
	}
	if lang != "" {
		r.Header.Set("Accept-Language", lang)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	return rec
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func TestCatalogueComplete(t *testing.T) {
	for key, m := range messages {
		if m["en"] == "" || m["zh-CN"] == "" {
			t.Errorf("message %q lacks a language: %v", key, m)
		}
	}
	// Every key a template or handler names exists.
	used := regexp.MustCompile(`\.T "([^"]+)"|q\.t\("([^"]+)"\)`)
	_ = fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(templateFS, path)
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			if !messages.Has(m[1]) {
				t.Errorf("%s uses unknown key %q", path, m[1])
			}
		}
		return nil
	})
	for _, a := range []string{"submit", "withdraw", "publish", "disable", "enable", "republish"} {
		for _, k := range []string{"act." + a, "confirm." + a, "flash.action_" + a} {
			if !messages.Has(k) {
				t.Errorf("missing key %q", k)
			}
		}
	}
}

func TestLanguage(t *testing.T) {
	f := newFixture(t)
	r := httptest.NewRequest("GET", "/p/default/services", nil)
	r.AddCookie(f.cookie)
	r.Header.Set("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5")
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "新建服务") {
		t.Fatalf("Chinese page: %d, lacks 新建服务", rec.Code)
	}
	if rec := f.send("GET", "/p/default/services", nil, false); !strings.Contains(rec.Body.String(), "Add Service") {
		t.Fatal("English page lacks Add Service")
	}
}

// TestFormsNeverAnswer500 posts odd values to every form: each answer is
// a page or a redirect, never a 5xx; without the CSRF token, a 403.
func TestFormsNeverAnswer500(t *testing.T) {
	skipUnderRace(t)
	f := newFixture(t)
	rec := f.send("POST", "/p/default/services", url.Values{"name": {"svc_a"}, "protocols": {"http"}, "node_host": {"127.0.0.1"}, "node_port": {"9"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create service: %d %s", rec.Code, rec.Body)
	}
	loc := rec.Header().Get("Location")
	sid := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/p/default/services/")
	app := f.send("POST", "/applications", url.Values{"name": {"app1"}}, true)
	aid := strings.TrimPrefix(strings.SplitN(app.Header().Get("Location"), "?", 2)[0], "/applications/")
	posts := []string{
		"/projects", "/projects/default", "/projects/nope", "/groups", "/groups/default", "/groups/nope",
		"/p/default/upstreams", "/p/default/upstreams/nope/delete", "/p/nope/upstreams",
		"/p/default/services", "/p/nope/services",
		"/p/default/services/S/routes", "/p/default/services/S/routes/nope", "/p/default/services/S/routes/nope/delete",
		"/p/default/services/S/actions/submit", "/p/default/services/S/actions/publish", "/p/default/services/S/actions/disable",
		"/p/default/services/S/actions/enable", "/p/default/services/S/actions/withdraw", "/p/default/services/S/actions/bogus",
		"/p/default/services/S/publish", "/p/default/services/S/sync", "/p/default/services/S/rollback", "/p/default/services/S/unpublish",
		"/p/default/services/S/canary", "/p/default/services/S/canary/nope/weight", "/p/default/services/S/canary/nope/edit", "/p/default/services/S/canary/nope/cancel",
		"/p/default/services/S/canary/nope/promote", "/p/default/services/S/canary/nope/bogus", "/p/default/services/S/debug",
		"/p/default/services/nope/debug", "/p/default/import", "/applications", "/applications/A/credentials",
		"/applications/A/credentials/nope/delete", "/applications/A/credentials/nope/rotate", "/applications/nope/credentials", "/p/default/services/S/delete",
	}
	dataPosts, dataGets := dataOddPaths(t, f, sid)
	posts = append(posts, dataPosts...)
	posts = append(posts, pluginOddPaths...)
	posts = append(posts, groupOddPaths...)
	odd := []string{"", " ", "x", "-1", "0", "99999999999999999999", "1.5", "<script>alert(1)</script>", "../../etc/passwd",
		"//evil.example/", "%00", "\x00", strings.Repeat("a", 5000), "{\"a\":", "名字", "null", "true"}
	fields := []string{"id", "name", "description", "path", "paths", "methods", "protocols", "group", "version", "from_group",
		"to_group", "scheme", "node_host", "node_port", "node_weight", "weight", "target", "rule_header", "rule_value", "method",
		"headers", "body", "document", "apply", "type", "username", "key", "project", "path_prefix", "confirm", "test_group",
		"production_group", "online", "backend_path", "access_key", "client_id", "overlap"}
	fields = append(fields, dataOddFields...)
	fields = append(fields, pluginOddFields...)
	fields = append(fields, canaryOddFields...)
	fields = append(fields, groupOddFields...)
	for _, p := range posts {
		p = strings.ReplaceAll(strings.ReplaceAll(p, "/S/", "/"+sid+"/"), "/A/", "/"+aid+"/")
		if rec := f.send("POST", p, url.Values{"name": {"x"}}, false); rec.Code != http.StatusForbidden {
			t.Errorf("POST %s without CSRF: %d, want 403", p, rec.Code)
		}
		for i, v := range odd {
			form := url.Values{}
			for j, k := range fields {
				form.Set(k, odd[(i+j)%len(odd)])
			}
			form.Set("name", v)
			rec := f.send("POST", p, form, true)
			if rec.Code >= 500 {
				t.Errorf("POST %s with %q: %d %.300s", p, v, rec.Code, rec.Body)
			}
		}
	}
	// The pages, with odd queries.
	for _, g := range append([]string{"/", "/projects", "/groups", "/p/default/services?page=-3&q=%00", "/p/default/services?page=zz",
		"/p/default/services/" + sid, "/p/default/services/" + sid + "/canary", "/p/default/services/" + sid + "/debug",
		"/p/default/services/" + sid + "/spec", "/p/default/services/" + sid + "/stats?window=zz&group=nope",
		"/p/default/services/nope", "/p/nope/services", "/p/default/import", "/applications", "/applications/nope",
		"/lang/xx?back=//evil", "/login?next=//evil"}, append(append(dataGets, pluginOddGets(sid)...), groupOddGets...)...) {
		if rec := f.send("GET", g, nil, false); rec.Code >= 500 {
			t.Errorf("GET %s: %d %.300s", g, rec.Code, rec.Body)
		}
	}
}

func TestSessionExpiredGoesToLogin(t *testing.T) {
	f := newFixture(t)
	f.cookie = &http.Cookie{Name: adminapi.SessionCookie, Value: "not-a-session"}
	rec := f.send("GET", "/projects", nil, false)
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "/login?expired=1") {
		t.Fatalf("unknown session: %d %s", rec.Code, rec.Header().Get("Location"))
	}
}

// BenchmarkServicesPage1000 renders the services list and a service page
// of a project with 1 000 services; the goal is each under 100 ms.
func BenchmarkServicesPage1000(b *testing.B) {
	f := newFixture(b)
	var first string
	for i := range 1000 {
		rec := f.send("POST", "/p/default/services", url.Values{"name": {fmt.Sprintf("svc_%04d", i)}, "protocols": {"http"}}, true)
		if rec.Code != http.StatusSeeOther {
			b.Fatalf("create %d: %d", i, rec.Code)
		}
		if first == "" {
			first = strings.SplitN(rec.Header().Get("Location"), "?", 2)[0]
		}
	}
	pages := []struct{ name, path string }{{"list", "/p/default/services"}, {"search", "/p/default/services?q=svc_09&page=2"},
		{"service", first}, {"dashboard", "/"}}
	for _, pg := range pages {
		page := pg.path
		b.Run(pg.name, func(b *testing.B) {
			var slowest time.Duration
			for b.Loop() {
				start := time.Now()
				if rec := f.send("GET", page, nil, false); rec.Code != 200 {
					b.Fatalf("GET %s: %d", page, rec.Code)
				}
				slowest = max(slowest, time.Since(start))
			}
			b.ReportMetric(float64(slowest.Microseconds())/1000, "slowest-ms")
			if slowest > 100*time.Millisecond {
				b.Fatalf("GET %s: slowest render %v, over 100 ms", page, slowest)
			}
		})
	}
}
