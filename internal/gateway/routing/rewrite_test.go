package routing

import (
	"testing"

	"github.com/portico-gw/portico/internal/gateway/match"
)

func TestUpstreamPath(t *testing.T) {
	tests := []struct {
		name      string
		routePath string // registered in a matcher to capture params
		strip     string
		backend   string // backend.path template, "" for none
		request   string
		want      string
	}{
		{name: "no prefix, no rewrite", routePath: "/pets/{id}", request: "/pets/1", want: "/pets/1"},
		{name: "group prefix stripped", routePath: "/t/shop/pets/{id}", strip: "/t/shop", request: "/t/shop/pets/1", want: "/pets/1"},
		{name: "prefix only leaves /", routePath: "/t/", strip: "/t", request: "/t/", want: "/"},
		{name: "prefix strip keeps trailing slash", routePath: "/t/x/*", strip: "/t", request: "/t/x/", want: "/x/"},
		{name: "template literal", routePath: "/a", backend: "/b", request: "/a", want: "/b"},
		{name: "template params reordered", routePath: "/u/{id}/o/{oid}", backend: "/orders/{oid}/user/{id}",
			request: "/u/7/o/9", want: "/orders/9/user/7"},
		{name: "colon params fill braces", routePath: "/u/:id", backend: "/users/{id}", request: "/u/ab", want: "/users/ab"},
		{name: "template wins over strip", routePath: "/t/u/{id}", strip: "/t", backend: "/v2/{id}", request: "/t/u/5", want: "/v2/5"},
		{name: "wildcard", routePath: "/legacy/*", backend: "/new/{*}", request: "/legacy/a/b/c", want: "/new/a/b/c"},
		{name: "wildcard empty", routePath: "/legacy/*", backend: "/new/{*}", request: "/legacy/", want: "/new/"},
		{name: "segment wildcard", routePath: "/blog/bar*", backend: "/posts/{*}", request: "/blog/barista", want: "/posts/ista"},
		{name: "param and wildcard", routePath: "/s/{ver}/*", backend: "/{ver}/{*}", request: "/s/v1/x/y", want: "/v1/x/y"},
		{name: "param adjacent to literal", routePath: "/f/{name}", backend: "/files/{name}.json", request: "/f/cfg", want: "/files/cfg.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt := &Route{more: &routeMore{stripPrefix: tc.strip}}
			if tc.backend != "" {
				tmpl, err := compilePathTemplate(tc.backend)
				if err != nil {
					t.Fatalf("compilePathTemplate(%q): %v", tc.backend, err)
				}
				rt.more.rewrite = tmpl
			}
			b := match.NewBuilder[*Route]()
			if err := b.Add(match.Route[*Route]{Path: tc.routePath, Value: rt}); err != nil {
				t.Fatal(err)
			}
			var ps match.Params
			got, _, ok := b.Build().Lookup("", "GET", tc.request, &ps)
			if !ok || got != rt {
				t.Fatalf("%s does not match %s", tc.request, tc.routePath)
			}
			if up := rt.UpstreamPath(tc.request, &ps); up != tc.want {
				t.Errorf("UpstreamPath(%q) = %q, want %q", tc.request, up, tc.want)
			}
			if rt.HasRewrite() != (tc.backend != "") {
				t.Errorf("HasRewrite = %v", rt.HasRewrite())
			}
		})
	}
}

func TestCompilePathTemplateErrors(t *testing.T) {
	for _, p := range []string{"", "x/{id}", "/a/{id", "/a/{}", "/a/{b{c}}", "/a/{b/c}"} {
		if _, err := compilePathTemplate(p); err == nil {
			t.Errorf("compilePathTemplate(%q) accepted", p)
		}
	}
	for _, p := range []string{"/", "/a/b", "/{id}", "/x/{a}{b}", "/{*}"} {
		if _, err := compilePathTemplate(p); err != nil {
			t.Errorf("compilePathTemplate(%q): %v", p, err)
		}
	}
}

// A rewrite allocates only the result; a plain strip allocates nothing.
func TestUpstreamPathAllocs(t *testing.T) {
	tmpl, _ := compilePathTemplate("/v2/{id}")
	strip := &Route{more: &routeMore{stripPrefix: "/t"}}
	rw := &Route{more: &routeMore{rewrite: tmpl}}
	var ps match.Params
	if n := testing.AllocsPerRun(100, func() { _ = strip.UpstreamPath("/t/x", &ps) }); n != 0 {
		t.Errorf("strip: %v allocs", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = rw.UpstreamPath("/u/1", &ps) }); n > 1 {
		t.Errorf("rewrite: %v allocs, want ≤ 1", n)
	}
}
