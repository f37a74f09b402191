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
