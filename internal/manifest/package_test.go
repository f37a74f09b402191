package manifest

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

func TestPackageRoundTrip(t *testing.T) {
	p := &Package{
		Meta:      PackageMeta{Project: "default", ExportedAt: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)},
		Upstreams: []spec.Upstream{{Name: "users_api", Nodes: []spec.Node{{Host: "10.0.0.1", Port: 80}}}},
		Services:  []PackagedService{{Service: spec.Service{Name: "user_info", UpstreamID: "users_api", Routes: []spec.Route{{Name: "get"}}}, Folder: "/users"}},
	}
	b, err := WritePackage(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadPackage(b, testDecode)
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta.Project != "default" || len(got.Services) != 1 || got.Services[0].Folder != "/users" || got.Upstreams[0].Name != "users_api" {
		t.Errorf("read back %+v", got)
	}
	if un := got.Unmapped(map[string]string{}); len(un) != 1 || un[0] != "users_api" {
		t.Errorf("Unmapped = %v", un)
	}
	if un := got.Unmapped(map[string]string{"users_api": "prod"}); len(un) != 0 {
		t.Errorf("Unmapped with a mapping = %v", un)
	}
}

func TestReadPackageRefuses(t *testing.T) {
	zipOf := func(files map[string]string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for name, body := range files {
			w, _ := zw.Create(name)
			w.Write([]byte(body))
		}
		zw.Close()
		return buf.Bytes()
	}
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"not a zip":     {[]byte("hello"), "not a zip"},
		"no meta":       {zipOf(map[string]string{"services/x.json": `{"name":"x"}`}), "package.json"},
		"wrong format":  {zipOf(map[string]string{"package.json": `{"format":"other"}`}), "format"},
		"unknown field": {zipOf(map[string]string{"package.json": `{"format":"portico-package/1"}`, "services/x.json": `{"name":"x","colour":1}`}), "services/x.json"},
		"stray file":    {zipOf(map[string]string{"package.json": `{"format":"portico-package/1"}`, "../evil": "x"}), "../evil"},
	} {
		_, err := ReadPackage(tc.b, testDecode)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %q", name, err, tc.want)
		}
	}
}

func FuzzReadPackage(f *testing.F) {
	b, _ := WritePackage(&Package{Services: []PackagedService{{Service: spec.Service{Name: "s"}}}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ReadPackage(b, testDecode)
		if err == nil {
			_ = p.Unmapped(nil)
		}
	})
}

// TestPackageNameAndDescription: a package's name and description travel
// in its meta and are checked when read, as at export.
func TestPackageNameAndDescription(t *testing.T) {
	at := time.Date(2026, 11, 23, 15, 4, 5, 0, time.UTC)
	if got := DefaultPackageName("default", at); got != "default-2026-11-23" || !spec.ValidPackageName(got) {
		t.Errorf("DefaultPackageName = %q", got)
	}
	b, err := WritePackage(&Package{Meta: PackageMeta{Name: "users.v2", Description: "Users API\nfor the portal", Project: "default", ExportedAt: at}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadPackage(b, testDecode)
	if err != nil || got.Meta.Name != "users.v2" || got.Meta.Description != "Users API\nfor the portal" {
		t.Fatalf("read back %+v, %v", got.Meta, err)
	}
	for _, tc := range []struct{ meta, field string }{
		{`{"format":"portico-package/1","name":"a b"}`, "package.json.name"},
		{`{"format":"portico-package/1","name":"` + strings.Repeat("n", 101) + `"}`, "package.json.name"},
		{`{"format":"portico-package/1","description":"` + strings.Repeat("d", 2001) + `"}`, "package.json.description"},
		{`{"format":"portico-package/1","description":"bell\u0007"}`, "package.json.description"},
		{`{"format":"portico-package/1","project":"../x"}`, "package.json.project"},
	} {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("package.json")
		w.Write([]byte(tc.meta))
		zw.Close()
		_, err := ReadPackage(buf.Bytes(), testDecode)
		fe, _ := err.(spec.FieldErrors)
		if len(fe) != 1 || fe[0].Field != tc.field {
			t.Errorf("meta %.60s: %v, want an error naming %s", tc.meta, err, tc.field)
		}
	}
}
