package adminapi

import (
	"net/http"
	"testing"

	"github.com/portico-gw/portico/internal/manifest"
	"github.com/portico-gw/portico/internal/spec"
)

func packageZip(t *testing.T, services ...spec.Service) []byte {
	t.Helper()
	pkg := manifest.Package{Meta: manifest.PackageMeta{Project: "elsewhere"}}
	for _, s := range services {
		pkg.Services = append(pkg.Services, manifest.PackagedService{Service: s})
	}
	b, err := manifest.WritePackage(&pkg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPackageDryRunAgreesWithImport: a dry run answers exactly what the
// import would, refusals included, and changes nothing.
func TestPackageDryRunAgreesWithImport(t *testing.T) {
	a := newTestAPI(t)
	for _, tt := range []struct {
		name   string
		svc    spec.Service
		status int
	}{
		{"empty service name", spec.Service{Name: ""}, http.StatusBadRequest},
		{"bad route", spec.Service{Name: "bad_route", Routes: []spec.Route{{Name: "r", Paths: []string{"nope"}}}}, http.StatusBadRequest},
		{"valid service", spec.Service{Name: "fine", Protocols: []string{"http"}}, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			zip := packageZip(t, tt.svc)
			dry := a.do("POST", "/projects/default/import?dry_run=true", zip)
			if dry.status != tt.status {
				t.Fatalf("dry run: %d %s, want %d", dry.status, dry.body, tt.status)
			}
			var list struct{ Total int }
			a.mustJSON("GET", "/projects/default/services", nil, http.StatusOK, &list)
			if list.Total != 0 {
				t.Fatalf("the dry run left %d services", list.Total)
			}
			real := a.do("POST", "/projects/default/import", zip)
			if real.status != dry.status {
				t.Fatalf("import: %d %s; the dry run said %d", real.status, real.body, dry.status)
			}
			if tt.status == http.StatusBadRequest {
				if df, rf := dry.fields(t), real.fields(t); len(df) == 0 || len(df) != len(rf) || df[0] != rf[0] {
					t.Errorf("dry run names %v, import %v", df, rf)
				}
				return
			}
			a.mustJSON("DELETE", "/projects/default/services/"+tt.svc.Name, nil, http.StatusNoContent, nil)
		})
	}
}

// TestConfigDryRunAgreesWithApply: the declarative dry run refuses what
// the real apply refuses.
func TestConfigDryRunAgreesWithApply(t *testing.T) {
	a := newTestAPI(t)
	doc := "services:\n- name: s1\n  routes:\n  - name: r1\n    paths: [nope]\n"
	dry := a.do("PUT", "/projects/default/config?dry_run=true", doc)
	real := a.do("PUT", "/projects/default/config", doc)
	if dry.status != http.StatusBadRequest || real.status != dry.status {
		t.Fatalf("dry run %d %s; apply %d %s", dry.status, dry.body, real.status, real.body)
	}
	ok := "services:\n- name: s1\n  routes:\n  - name: r1\n    paths: [/x]\n"
	var res configResult
	a.decode(a.do("PUT", "/projects/default/config?dry_run=true", ok), &res)
	if res.Applied || len(res.Changes) == 0 {
		t.Fatalf("valid dry run: applied %v, %d changes", res.Applied, len(res.Changes))
	}
	if r := a.do("GET", "/projects/default/services/s1", nil); r.status != http.StatusNotFound {
		t.Fatalf("the dry run left service s1: %d", r.status)
	}
}
