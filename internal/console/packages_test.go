package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/manifest"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage/webpagetest"
)

// TestPackagesPage: a package whose import was refused is listed failed
// with its badge, the reason and what is unmapped, and a retry form per
// upstream; a retry to a missing upstream comes back beside its field;
// one with the project's upstream publishes it (flash, badge, what it
// changed, no more form), in English and Chinese; a viewer (no
// package:import) has no Packages entry and is refused the page; the
// record is deleted.
func TestPackagesPage(t *testing.T) {
	st := webpagetest.NewStore(t, firstStart)
	api := adminapi.New(adminapi.Config{Store: st, Version: "test"})
	admin := (&fixture{api: api, h: New(Config{API: api})}).loginAs(t, "admin", "pw")
	admin.mkProject(t, "shop")
	admin.mkUser(t, "view", "user")
	admin.member(t, "shop", "view", "viewer")
	admin.apiCall(t, "POST", "/projects/shop/upstreams", map[string]any{"name": "prod_users", "nodes": []map[string]any{{"host": "127.0.0.1", "port": 8080}}}, http.StatusCreated, nil)

	zip, err := manifest.WritePackage(&manifest.Package{Meta: manifest.PackageMeta{Name: "users-api", Description: "Users, for the shop", Project: "dev"},
		Services: []manifest.PackagedService{{Service: spec.Service{Name: "user_info", UpstreamID: "users_db",
			Routes: []spec.Route{{Name: "get", Paths: []string{"/users/info"}, Methods: []string{"GET"}}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", adminapi.Prefix+"/projects/shop/import", bytes.NewReader(zip))
	r.Header.Set("Content-Type", "application/zip")
	r.Header.Set(adminapi.CSRFHeader, admin.csrf)
	r.AddCookie(admin.cookie)
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, r)
	var refusal struct {
		PackageID string `json:"package_id"`
	}
	if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &refusal) != nil || refusal.PackageID == "" {
		t.Fatalf("import without a mapping: %d %s", rec.Code, rec.Body)
	}
	id := refusal.PackageID

	body := wantPage(t, "failed package", admin.send("GET", "/p/shop/packages", nil, false), http.StatusOK,
		`id="nav-packages"`, `id="package-`+id+`" data-state="failed"`, "users-api", "Users, for the shop", `class="badge s-err"`,
		`id="package-reason-`+id+`"`, "mapping.upstreams.users_db", `id="package-unmapped-`+id+`"`, `<code>users_db</code>`,
		`name="mapping.upstreams.users_db"`, `<option value="prod_users">`, `id="package-retry-`+id+`"`)
	if !strings.Contains(body, "dev") {
		t.Error("the page does not say where the package came from")
	}

	retry := "/p/shop/packages/" + id + "/retry"
	wantPage(t, "retry to a missing upstream", admin.send("POST", retry, url.Values{"mapping.upstreams.users_db": {"nope"}}, true), http.StatusBadRequest,
		`value="nope"`, `class="ferr"`, `no upstream &#34;nope&#34;`, `id="package-retry-`+id+`"`)
	rec = admin.send("POST", retry, url.Values{"mapping.upstreams.users_db": {"prod_users"}}, true)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(location(rec), "/p/shop/packages") {
		t.Fatalf("retry: %d %s", rec.Code, rec.Body)
	}
	body = wantPage(t, "published package", admin.send("GET", rec.Header().Get("Location"), nil, false), http.StatusOK,
		"The package is published.", `id="package-`+id+`" data-state="published"`, `class="badge s-published"`, "service user_info")
	lacks(t, "published package", body, `id="package-retry-`+id+`"`, `id="package-reason-`+id+`"`)
	if zh := zhGet(t, admin, "/p/shop/packages"); !strings.Contains(zh, "发布包") || !strings.Contains(zh, "已发布") {
		t.Error("the Packages page in Chinese lacks its title or the state")
	}

	view := admin.as(t, "view")
	lacks(t, "viewer's navigation", view.send("GET", "/p/shop/services", nil, false).Body.String(), `id="nav-packages"`)
	wantPage(t, "viewer", view.send("GET", "/p/shop/packages", nil, false), http.StatusForbidden, `<code id="denied-perm">package:import</code>`)

	rec = admin.send("POST", "/p/shop/packages/"+id+"/delete", nil, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	wantPage(t, "no packages", admin.send("GET", "/p/shop/packages", nil, false), http.StatusOK, `id="packages-none"`)
}

// TestPackageMessagesOverrideNothing: i18n_packages.go adds keys only.
func TestPackageMessagesOverrideNothing(t *testing.T) {
	if len(packagesOverridden) > 0 {
		t.Errorf("i18n_packages.go redefines keys: %v", packagesOverridden)
	}
}
