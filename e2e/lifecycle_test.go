package e2e

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/demobackend"
)

// allowed is the publishing lifecycle's state table as the admin API shows it.
var allowed = map[string][]string{
	"draft":     {"edit", "submit", "delete"},
	"submitted": {"edit", "withdraw", "publish", "unpublish"},
	"published": {"edit", "submit", "republish", "disable", "unpublish"},
	"disabled":  {"enable", "delete"},
}

// lifecycleServer is the test/production layout on one server: groups test (prefix
// /api/gateway/test/{project}) and production (/api/gateway), project shop
// releasing through them.
func lifecycleServer(t *testing.T, dataDir string) *server {
	t.Helper()
	s := startServer(t, dataDir, "--group", "test", "--group", "production")
	s.do(t, "PATCH", "/api/v1/gateway-groups/test", `{"path_prefix":"/api/gateway/test/{project}"}`, 200, nil)
	s.do(t, "PATCH", "/api/v1/gateway-groups/production", `{"path_prefix":"/api/gateway"}`, 200, nil)
	s.do(t, "POST", "/api/v1/projects", `{"id":"shop","name":"Shop","test_group":"test","production_group":"production"}`, 201, nil)
	return s
}

// refused checks that a request is refused with the lifecycle's 409: a
// problem naming the current state and the actions it allows.
func (s *server) refused(t *testing.T, method, path, state string) {
	t.Helper()
	var p struct {
		Type           string
		Status         int
		Detail         string
		State          string   `json:"state"`
		AllowedActions []string `json:"allowed_actions"`
	}
	s.do(t, method, path, "", 409, &p)
	if p.Status != 409 || p.State != state || !slices.Equal(p.AllowedActions, allowed[state]) || !strings.Contains(p.Detail, state) {
		t.Errorf("%s %s: problem %+v, want state %s allowing %v", method, path, p, state, allowed[state])
	}
}

// serves waits until the gateway answers url through the demo backend's
// echo with the backend path want, or with 404 when want is "".
func serves(t *testing.T, url, want string) {
	t.Helper()
	waitFor(t, url, 5*time.Second, func(status int, body []byte) bool {
		if want == "" {
			return status == 404
		}
		var echo struct{ URL string }
		return status == 200 && json.Unmarshal(body, &echo) == nil && strings.HasSuffix(echo.URL, want)
	})
}

// TestPublishingLifecycle runs the publishing lifecycle end to end: submit to the
// test group, publish to production and the catalog, disable and enable,
// a second version through submit and republish, withdraw, delete, and
// every refusal of the state table.
func TestPublishingLifecycle(t *testing.T) {
	demo := httptest.NewServer(demobackend.Handler())
	defer demo.Close()
	demoPort := demo.Listener.Addr().String()[strings.LastIndex(demo.Listener.Addr().String(), ":")+1:]
	s := lifecycleServer(t, t.TempDir())
	testURL := s.Gateway + "/api/gateway/test/shop/user/active/user_info"
	prodURL := s.Gateway + "/api/gateway/user/active/user_info"

	var svc struct {
		ID             string
		State          string
		AllowedActions []string `json:"allowed_actions"`
	}
	s.do(t, "POST", "/api/v1/projects/shop/services", `{"name":"user","description":"active users","path":"/user/active",
		"upstream":{"scheme":"http","nodes":[{"host":"127.0.0.1","port":`+demoPort+`}]},
		"routes":[{"name":"user_info","backend":{"path":"/anything/v1"}}]}`, 201, &svc)
	if svc.State != "draft" || !slices.Equal(svc.AllowedActions, allowed["draft"]) {
		t.Fatalf("new service: %+v", svc)
	}
	S := "/api/v1/projects/shop/services/" + svc.ID
	A := S + "/actions/"
	act := func(action, body string) (res struct {
		State   string
		Version string
	}) {
		t.Helper()
		s.do(t, "POST", A+action, body, 200, &res)
		return res
	}

	// draft: only edit, submit, delete.
	for _, a := range []string{"withdraw", "publish", "republish", "disable", "enable"} {
		s.refused(t, "POST", A+a, "draft")
	}

	// submit → the test URL answers, production does not; withdraw takes it back.
	if r := act("submit", `{"version":"0.9.0"}`); r.State != "submitted" || r.Version != "0.9.0" {
		t.Fatalf("submit 0.9.0 = %+v", r)
	}
	serves(t, testURL, "/anything/v1")
	serves(t, prodURL, "")
	for _, a := range []string{"submit", "republish", "disable", "enable"} {
		s.refused(t, "POST", A+a, "submitted")
	}
	s.refused(t, "DELETE", S, "submitted")
	if r := act("withdraw", ""); r.State != "draft" {
		t.Fatalf("withdraw = %+v", r)
	}
	serves(t, testURL, "")

	if r := act("submit", `{"version":"1.0.0"}`); r.State != "submitted" {
		t.Fatalf("submit 1.0.0 = %+v", r)
	}
	serves(t, testURL, "/anything/v1")
	var cat struct {
		Items []struct {
			Name     string
			Project  string
			Versions map[string]string
			URLs     map[string][]string
		}
		Total int
	}
	s.do(t, "GET", "/api/v1/catalog", "", 200, &cat)
	if cat.Total != 0 {
		t.Errorf("catalog lists a submitted service: %+v", cat)
	}

	// publish → production answers too, and the catalog lists it.
	if r := act("publish", ""); r.State != "published" || r.Version != "1.0.0" {
		t.Fatalf("publish = %+v", r)
	}
	serves(t, prodURL, "/anything/v1")
	serves(t, testURL, "/anything/v1")
	s.do(t, "GET", "/api/v1/catalog", "", 200, &cat)
	if cat.Total != 1 || cat.Items[0].Name != "user" || cat.Items[0].Project != "shop" ||
		cat.Items[0].Versions["production"] != "1.0.0" ||
		!slices.Equal(cat.Items[0].URLs["production"], []string{"/api/gateway/user/active/user_info"}) ||
		!slices.Equal(cat.Items[0].URLs["test"], []string{"/api/gateway/test/shop/user/active/user_info"}) {
		t.Errorf("catalog = %+v", cat)
	}
	for _, a := range []string{"withdraw", "publish", "enable"} {
		s.refused(t, "POST", A+a, "published")
	}
	s.refused(t, "DELETE", S, "published")

	// disable → nothing answers (production and test), hidden in the catalog.
	if r := act("disable", ""); r.State != "disabled" || r.Version != "1.0.0" {
		t.Fatalf("disable = %+v", r)
	}
	serves(t, prodURL, "")
	serves(t, testURL, "")
	s.do(t, "GET", "/api/v1/catalog", "", 200, &cat)
	if cat.Total != 0 {
		t.Errorf("catalog lists a disabled service: %+v", cat)
	}
	s.do(t, "GET", "/api/v1/catalog/user", "", 404, nil)
	for _, a := range []string{"submit", "withdraw", "publish", "republish", "disable"} {
		s.refused(t, "POST", A+a, "disabled")
	}
	s.refused(t, "PATCH", S, "disabled")
	s.refused(t, "PATCH", S+"/routes/user_info", "disabled")

	// enable → exactly the version that ran before.
	if r := act("enable", ""); r.State != "published" || r.Version != "1.0.0" {
		t.Fatalf("enable = %+v", r)
	}
	serves(t, prodURL, "/anything/v1")
	serves(t, testURL, "/anything/v1")

	// edit + submit → 1.0.1 in test, production still 1.0.0; republish promotes it.
	s.do(t, "PATCH", S+"/routes/user_info", `{"backend":{"path":"/anything/v2"}}`, 200, nil)
	if r := act("submit", ""); r.State != "published" || r.Version != "1.0.1" {
		t.Fatalf("second submit = %+v", r)
	}
	serves(t, testURL, "/anything/v2")
	serves(t, prodURL, "/anything/v1")
	var one struct{ Versions map[string]string }
	s.do(t, "GET", "/api/v1/catalog/user", "", 200, &one)
	if one.Versions["test"] != "1.0.1" || one.Versions["production"] != "1.0.0" {
		t.Errorf("catalog versions = %v", one.Versions)
	}
	if r := act("republish", ""); r.State != "published" || r.Version != "1.0.1" {
		t.Fatalf("republish = %+v", r)
	}
	serves(t, prodURL, "/anything/v2")
	s.do(t, "POST", A+"republish", "", 409, nil) // nothing new in the test group

	// The release history tells the whole story, per service and per group.
	var hist struct {
		Items []struct {
			Group, Action, Version, Actor string
			FromVersion                   string `json:"from_version"`
			At                            time.Time
		}
	}
	s.do(t, "GET", "/api/v1/gateway-groups/production/history", "", 200, &hist)
	var got []string
	for _, e := range hist.Items {
		got = append(got, fmt.Sprintf("%s %s→%s", e.Action, e.FromVersion, e.Version))
		if e.Actor != "admin" || e.At.IsZero() {
			t.Errorf("history event %+v lacks who or when", e)
		}
	}
	want := []string{"republish 1.0.0→1.0.1", "enable →1.0.0", "disable 1.0.0→", "publish →1.0.0"}
	if !slices.Equal(got, want) {
		t.Errorf("production history = %q, want %q", got, want)
	}
	s.do(t, "GET", S+"/history?page_size=100", "", 200, &hist)
	got = got[:0]
	for _, e := range hist.Items {
		got = append(got, e.Group+" "+e.Action)
	}
	want = []string{"production republish", "test submit", "test enable", "production enable", "test disable",
		"production disable", "production publish", "test submit", "test withdraw", "test submit"}
	if !slices.Equal(got, want) {
		t.Errorf("service history = %q, want %q", got, want)
	}

	// delete: refused while running, allowed once disabled.
	s.refused(t, "DELETE", S, "published")
	act("disable", "")
	s.do(t, "DELETE", S, "", 204, nil)
	s.do(t, "GET", S, "", 404, nil)
}
