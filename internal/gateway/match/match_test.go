package match

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

func build(t testing.TB, routes []Route[string]) *Matcher[string] {
	t.Helper()
	b := NewBuilder[string]()
	for _, r := range routes {
		if err := b.Add(r); err != nil {
			t.Fatalf("Add(%+v): %v", r, err)
		}
	}
	return b.Build()
}

func TestLookupPrecedence(t *testing.T) {
	m := build(t, []Route[string]{
		{Path: "/users/me", Value: "exact"},
		{Path: "/users/{id}", Value: "param"},
		{Path: "/users/*", Value: "wild"},
		{Path: "/users/{id}/posts/:post", Value: "param2"},
		{Path: "/files/*", Value: "files"},
		{Path: "/files/img/*", Value: "files-img"},
		{Path: "/blog/bar*", Value: "bar-prefix"},
		{Path: "/c/*", Value: "c-any"}, // added first, still beaten by the longer prefix
		{Path: "/c/bar*", Value: "c-bar"},
		{Path: "/a/*", Value: "a-wild"},
		{Path: "/{x}/b", Value: "x-b"},
		{Path: "/", Value: "root"},
		{Path: "/only", Methods: []string{"GET", "HEAD"}, Value: "only-get"},
		{Path: "/m/{id}", Methods: []string{"POST"}, Value: "m-post"},
		{Path: "/m/fixed", Methods: []string{"GET"}, Value: "m-get"},
		{Path: "/h", Hosts: []string{"api.example.com"}, Value: "h-exact"},
		{Path: "/h", Hosts: []string{"*.example.com"}, Value: "h-wild"},
		{Path: "/h", Value: "h-any"},
		{Path: "/honly", Hosts: []string{"x.test"}, Value: "honly"},
	})
	tests := []struct {
		name, host, method, path string
		want                     string
		wantOK                   bool
		wantAllow                string
	}{
		{name: "exact beats param and wildcard", method: "GET", path: "/users/me", want: "exact", wantOK: true},
		{name: "param beats wildcard", method: "GET", path: "/users/42", want: "param", wantOK: true},
		{name: "wildcard takes deeper paths", method: "GET", path: "/users/42/x", want: "wild", wantOK: true},
		{name: "longer param path", method: "GET", path: "/users/42/posts/7", want: "param2", wantOK: true},
		{name: "wildcard matches trailing slash", method: "GET", path: "/files/", want: "files", wantOK: true},
		{name: "wildcard does not match bare prefix", method: "GET", path: "/files", wantOK: false},
		{name: "longest wildcard wins", method: "GET", path: "/files/img/a.png", want: "files-img", wantOK: true},
		{name: "shorter wildcard elsewhere", method: "GET", path: "/files/doc/a.txt", want: "files", wantOK: true},
		{name: "segment prefix wildcard itself", method: "GET", path: "/blog/bar", want: "bar-prefix", wantOK: true},
		{name: "segment prefix wildcard longer", method: "GET", path: "/blog/barx/y", want: "bar-prefix", wantOK: true},
		{name: "segment prefix wildcard miss", method: "GET", path: "/blog/ba", wantOK: false},
		{name: "longer wildcard prefix at one depth", method: "GET", path: "/c/barx", want: "c-bar", wantOK: true},
		{name: "shorter wildcard prefix at one depth", method: "GET", path: "/c/ba", want: "c-any", wantOK: true},
		{name: "param route beats wildcard route on other branch", method: "GET", path: "/a/b", want: "x-b", wantOK: true},
		{name: "root", method: "GET", path: "/", want: "root", wantOK: true},
		{name: "unknown path", method: "GET", path: "/nope/deeper", wantOK: false},
		{name: "method narrows to 405", method: "POST", path: "/only", wantOK: false, wantAllow: "GET, HEAD"},
		{name: "method falls through to param route", method: "POST", path: "/m/fixed", want: "m-post", wantOK: true},
		{name: "exact method hit", method: "GET", path: "/m/fixed", want: "m-get", wantOK: true},
		{name: "exact host first", host: "API.example.com", method: "GET", path: "/h", want: "h-exact", wantOK: true},
		{name: "wildcard host", host: "b.example.com", method: "GET", path: "/h", want: "h-wild", wantOK: true},
		{name: "wildcard host does not match apex", host: "example.com", method: "GET", path: "/h", want: "h-any", wantOK: true},
		{name: "host-only route with other host", host: "y.test", method: "GET", path: "/honly", wantOK: false},
		{name: "host-only route with its host", host: "x.test", method: "GET", path: "/honly", want: "honly", wantOK: true},
		{name: "relative path", method: "GET", path: "users", wantOK: false},
		{name: "empty path", method: "GET", path: "", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps Params
			got, allow, ok := m.Lookup(tt.host, tt.method, tt.path, &ps)
			if ok != tt.wantOK || got != tt.want || allow != tt.wantAllow {
				t.Errorf("Lookup(%q, %q, %q) = (%q, %q, %v), want (%q, %q, %v)",
					tt.host, tt.method, tt.path, got, allow, ok, tt.want, tt.wantAllow, tt.wantOK)
			}
		})
	}
}

func TestLookupParams(t *testing.T) {
	m := build(t, []Route[string]{
		{Path: "/p/{project}/users/{id}", Value: "a"},
		{Path: "/p/:other/files/*", Value: "b"},
		{Path: "/p/{x}/users/{y}/z", Value: "c"},
	})
	tests := []struct {
		name     string
		path     string
		want     map[string]string
		wantWild string
		hasWild  bool
	}{
		{name: "two params", path: "/p/p1/users/7", want: map[string]string{"project": "p1", "id": "7"}},
		{name: "wildcard with param", path: "/p/p2/files/a/b", want: map[string]string{"other": "p2"}, wantWild: "a/b", hasWild: true},
		{name: "names of the matched route", path: "/p/q/users/8/z", want: map[string]string{"x": "q", "y": "8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps Params
			if _, _, ok := m.Lookup("", "GET", tt.path, &ps); !ok {
				t.Fatalf("Lookup(%q) missed", tt.path)
			}
			got := map[string]string{}
			for i := 0; i < ps.Len(); i++ {
				got[ps.Name(i)] = ps.Value(i)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
			for k, v := range tt.want {
				if ps.Get(k) != v {
					t.Errorf("Get(%q) = %q, want %q", k, ps.Get(k), v)
				}
			}
			w, has := ps.Wildcard()
			if w != tt.wantWild || has != tt.hasWild {
				t.Errorf("Wildcard() = %q, %v; want %q, %v", w, has, tt.wantWild, tt.hasWild)
			}
		})
	}
}

func TestAddErrors(t *testing.T) {
	tests := []struct {
		name     string
		routes   []Route[string]
		conflict bool
	}{
		{name: "same path and method", routes: []Route[string]{{Path: "/a", Value: "1"}, {Path: "/a", Methods: []string{"GET"}, Value: "2"}}, conflict: true},
		{name: "param names differ, same shape", routes: []Route[string]{{Path: "/a/{x}", Value: "1"}, {Path: "/a/:y", Value: "2"}}, conflict: true},
		{name: "same wildcard", routes: []Route[string]{{Path: "/a/*", Value: "1"}, {Path: "/a/*", Value: "2"}}, conflict: true},
		{name: "disjoint methods are fine", routes: []Route[string]{{Path: "/a", Methods: []string{"GET"}, Value: "1"}, {Path: "/a", Methods: []string{"POST"}, Value: "2"}}},
		{name: "other host is fine", routes: []Route[string]{{Path: "/a", Hosts: []string{"x.test"}, Value: "1"}, {Path: "/a", Value: "2"}}},
		{name: "bad path", routes: []Route[string]{{Path: "a"}}},
		{name: "wildcard in the middle", routes: []Route[string]{{Path: "/a/*/b"}}},
		{name: "unknown method", routes: []Route[string]{{Path: "/a", Methods: []string{"BREW"}}}},
		{name: "bad wildcard host", routes: []Route[string]{{Path: "/a", Hosts: []string{"a.*.com"}}}},
		{name: "too many params", routes: []Route[string]{{Path: strings.Repeat("/{p}", MaxParams+1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder[string]()
			var err error
			for _, r := range tt.routes {
				if err = b.Add(r); err != nil {
					break
				}
			}
			var ce *ConflictError[string]
			isConflict := errors.As(err, &ce)
			switch {
			case tt.conflict && (!isConflict || ce.Existing != "1"):
				t.Errorf("err = %v, want a conflict with route 1", err)
			case !tt.conflict && len(tt.routes) == 2 && err != nil:
				t.Errorf("err = %v, want none", err)
			case !tt.conflict && len(tt.routes) == 1 && err == nil:
				t.Errorf("Add(%q) succeeded, want an error", tt.routes[0].Path)
			}
		})
	}
}

func TestLookupZeroAllocs(t *testing.T) {
	m := buildN(t, 1000)
	var ps Params
	for _, path := range []string{"/svc300/items/42", "/svc300/static", "/svc300/files/a/b/c"} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, _, ok := m.Lookup("example.com", "GET", path, &ps); !ok {
				t.Fatalf("miss on %s", path)
			}
		})
		if allocs != 0 {
			t.Errorf("Lookup(%s) allocates %v times, want 0", path, allocs)
		}
	}
}

// buildN makes n routes spread over n/3 services: a literal, a parameter
// and a wildcard route each.
func buildN(t testing.TB, n int) *Matcher[string] {
	b := NewBuilder[string]()
	for i := 0; i == 0 || b.m.n < n; i++ {
		for _, p := range []string{"/svc%d/static", "/svc%d/items/{id}", "/svc%d/files/*"} {
			if b.m.n >= n {
				break
			}
			path := fmt.Sprintf(p, i)
			if err := b.Add(Route[string]{Path: path, Methods: []string{"GET"}, Value: path}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.Build()
}

func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		m := buildN(b, n)
		last := n/3 - 1
		paths := []string{
			fmt.Sprintf("/svc%d/static", last),
			fmt.Sprintf("/svc%d/items/42", last),
			fmt.Sprintf("/svc%d/files/a/b", last),
		}
		for _, p := range paths {
			kind := strings.Split(p, "/")[2]
			b.Run(fmt.Sprintf("routes=%d/%s", n, kind), func(b *testing.B) {
				var ps Params
				b.ReportAllocs()
				for b.Loop() {
					if _, _, ok := m.Lookup("example.com", "GET", p, &ps); !ok {
						b.Fatalf("miss on %s", p)
					}
				}
			})
		}
	}
}

func FuzzLookup(f *testing.F) {
	m := build(f, []Route[string]{
		{Path: "/users/me", Value: "exact"},
		{Path: "/users/{id}", Value: "param"},
		{Path: "/users/*", Value: "wild"},
		{Path: "/blog/bar*", Value: "bar"},
		{Path: "/h", Hosts: []string{"*.example.com"}, Methods: []string{"GET"}, Value: "h"},
		{Path: "/", Value: "root"},
	})
	for _, s := range []string{"/", "/users/me", "/users/", "//", "/users//x", "/blog/bar", "/h", "", "users"} {
		f.Add("a.example.com", "GET", s)
	}
	f.Fuzz(func(t *testing.T, host, method, path string) {
		var ps Params
		v, allow, ok := m.Lookup(host, method, path, &ps)
		if ok && (v == "" || allow != "") {
			t.Fatalf("hit with value %q and allow %q", v, allow)
		}
		if ps.Len() > MaxParams {
			t.Fatalf("Len() = %d", ps.Len())
		}
		for i := 0; i < ps.Len(); i++ {
			_ = ps.Name(i) + ps.Value(i)
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/", "/a/{b}/:c/*", "/x*", "/{", "/:", "/*/a", "/{}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		segs, err := parsePath(p, nil)
		if err != nil {
			return
		}
		// A parsed path must be addable and must match a request for itself
		// when it is all literals.
		b := NewBuilder[int]()
		if err := b.Add(Route[int]{Path: p, Value: 1}); err != nil {
			t.Fatalf("parsePath ok but Add(%q): %v", p, err)
		}
		m := b.Build()
		literal := true
		for _, s := range segs {
			literal = literal && s.kind == segLiteral
		}
		var ps Params
		if _, _, ok := m.Lookup("", "GET", p, &ps); literal && !ok {
			t.Fatalf("literal path %q does not match itself", p)
		}
	})
}

// Nodes and entries are most of a large table's memory: a table of
// 100 000 routes has over 200 000 of each. Growing either past 48 bytes
// (Go's next size class is 64) costs a large gateway megabytes.
func TestNodeAndEntrySizes(t *testing.T) {
	if s := unsafe.Sizeof(node[*int]{}); s > 48 {
		t.Errorf("a node is %d bytes, want at most 48", s)
	}
	if s := unsafe.Sizeof(entry[*int]{}); s > 48 {
		t.Errorf("an entry is %d bytes, want at most 48", s)
	}
}
