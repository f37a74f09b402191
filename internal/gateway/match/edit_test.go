package match

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// result is all a lookup tells, comparable with ==.
type result struct {
	value, allow string
	ok, hasWild  bool
	wild         string
	n            int
	names, vals  [MaxParams]string
}

func lookup(m *Matcher[string], host, method, path string) result {
	var ps Params
	var r result
	r.value, r.allow, r.ok = m.Lookup(host, method, path, &ps)
	r.wild, r.hasWild = ps.Wildcard()
	r.n = ps.Len()
	for i := 0; i < r.n; i++ {
		r.names[i], r.vals[i] = ps.Name(i), ps.Value(i)
	}
	return r
}

func (r result) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%q allow=%q ok=%v", r.value, r.allow, r.ok)
	for i := 0; i < r.n; i++ {
		fmt.Fprintf(&sb, " %s=%q", r.names[i], r.vals[i])
	}
	if r.hasWild {
		fmt.Fprintf(&sb, " *=%q", r.wild)
	}
	return sb.String()
}

// answer is lookup as a string, for tables of expected answers.
func answer(m *Matcher[string], host, method, path string) string {
	return lookup(m, host, method, path).String()
}

func valueIs(v string) func(string) bool { return func(x string) bool { return x == v } }

func TestEditRemove(t *testing.T) {
	base := []Route[string]{
		{Path: "/users/me", Value: "exact"},
		{Path: "/users/{id}", Value: "param"},
		{Path: "/users/*", Value: "wild"},
		{Path: "/files/*", Value: "files"},
		{Path: "/files/img/*", Value: "files-img"},
		{Path: "/blog/bar*", Value: "bar"},
		{Path: "/only", Methods: []string{"GET", "HEAD"}, Value: "only-get"},
		{Path: "/only", Methods: []string{"POST"}, Value: "only-post"},
		{Path: "/h", Hosts: []string{"api.example.com", "x.test"}, Value: "h-exact"},
		{Path: "/h", Hosts: []string{"*.example.com"}, Value: "h-wild"},
		{Path: "/h", Value: "h-any"},
	}
	type probe struct{ host, method, path, want string }
	tests := []struct {
		name   string
		remove Route[string]
		same   func(string) bool
		n      int
		probes []probe
	}{
		{name: "literal falls back to param", remove: Route[string]{Path: "/users/me"}, same: valueIs("exact"), n: 1,
			probes: []probe{{"", "GET", "/users/me", `"param" allow="" ok=true id="me"`}}},
		{name: "param spelled :id", remove: Route[string]{Path: "/users/:id"}, same: valueIs("param"), n: 1,
			probes: []probe{{"", "GET", "/users/42", `"wild" allow="" ok=true *="42"`}}},
		{name: "other parameter name is another route", remove: Route[string]{Path: "/users/{x}"}, n: 0},
		{name: "deeper wildcard falls back to shorter", remove: Route[string]{Path: "/files/img/*"}, same: valueIs("files-img"), n: 1,
			probes: []probe{{"", "GET", "/files/img/a", `"files" allow="" ok=true *="img/a"`}}},
		{name: "segment wildcard answers 404", remove: Route[string]{Path: "/blog/bar*"}, n: 1,
			probes: []probe{{"", "GET", "/blog/barx", `"" allow="" ok=false`}}},
		{name: "405 stops listing removed methods", remove: Route[string]{Path: "/only", Methods: []string{"POST"}}, n: 1,
			probes: []probe{{"", "POST", "/only", `"" allow="GET, HEAD" ok=false`}}},
		{name: "method set must be the same", remove: Route[string]{Path: "/only", Methods: []string{"GET"}}, n: 0},
		{name: "value must satisfy same", remove: Route[string]{Path: "/users/me"}, same: valueIs("other"), n: 0},
		{name: "one host of two, case aside", remove: Route[string]{Path: "/h", Hosts: []string{"API.example.com"}}, n: 1,
			probes: []probe{
				{"api.example.com", "GET", "/h", `"h-wild" allow="" ok=true`},
				{"x.test", "GET", "/h", `"h-exact" allow="" ok=true`},
			}},
		{name: "both hosts", remove: Route[string]{Path: "/h", Hosts: []string{"x.test", "api.example.com"}}, same: valueIs("h-exact"), n: 2},
		{name: "no hosts is the any-host entry only", remove: Route[string]{Path: "/h"}, n: 1,
			probes: []probe{{"example.com", "GET", "/h", `"" allow="" ok=false`}, {"a.example.com", "GET", "/h", `"h-wild" allow="" ok=true`}}},
		{name: "missing path", remove: Route[string]{Path: "/nope/deeper"}, n: 0},
		{name: "malformed path", remove: Route[string]{Path: "nope"}, n: 0},
		{name: "unknown method", remove: Route[string]{Path: "/only", Methods: []string{"BREW"}}, n: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := build(t, base)
			before := answer(m, "", "GET", "/users/me")
			b := m.Edit()
			if n := b.Remove(tt.remove, tt.same); n != tt.n {
				t.Fatalf("Remove = %d, want %d", n, tt.n)
			}
			e := b.Build()
			if e.Len() != m.Len()-tt.n {
				t.Errorf("Len() = %d, want %d", e.Len(), m.Len()-tt.n)
			}
			for _, p := range tt.probes {
				if got := answer(e, p.host, p.method, p.path); got != p.want {
					t.Errorf("after: %s %s%s = %s, want %s", p.method, p.host, p.path, got, p.want)
				}
			}
			if got := answer(m, "", "GET", "/users/me"); got != before {
				t.Errorf("the original changed: %s, was %s", got, before)
			}
			checkTree(t, e)
		})
	}
}

func TestEditRemoveEverythingPrunes(t *testing.T) {
	routes := []Route[string]{
		{Path: "/a/b/c", Value: "1"},
		{Path: "/a/{x}/d/*", Value: "2"},
		{Path: "/a/b*", Hosts: []string{"*.example.com"}, Value: "3"},
		{Path: "/", Methods: []string{"GET"}, Value: "4"},
	}
	m := build(t, routes)
	b := m.Edit()
	for _, r := range routes {
		if n := b.Remove(r, nil); n != 1 {
			t.Fatalf("Remove(%s) = %d, want 1", r.Path, n)
		}
	}
	e := b.Build()
	if !e.root.empty() || e.Len() != 0 {
		t.Errorf("root after removing everything: %+v, Len %d", *e.root, e.Len())
	}
	if got := answer(m, "a.example.com", "GET", "/a/bz"); got != `"3" allow="" ok=true *="z"` {
		t.Errorf("the original changed: %s", got)
	}
}

// TestEditRemoveValue: RemoveValue takes out a route's entries at a path
// by value alone, whatever hosts and methods they were added with, and
// leaves the other routes there; everything removed prunes the tree.
func TestEditRemoveValue(t *testing.T) {
	routes := []Route[string]{
		{Path: "/a/{id}", Hosts: []string{"x.example.com", "*.example.org"}, Methods: []string{"GET", "POST"}, Value: "1"},
		{Path: "/a/{id}", Methods: []string{"DELETE"}, Value: "2"},
		{Path: "/files/*", Hosts: []string{"x.example.com"}, Value: "3"},
	}
	m := build(t, routes)
	b := m.Edit()
	if n := b.RemoveValue("/a/{id}", valueIs("1")); n != 2 {
		t.Fatalf("RemoveValue of a route of two hosts = %d, want 2", n)
	}
	if n := b.RemoveValue("/a/{other}", valueIs("2")); n != 0 {
		t.Errorf("RemoveValue under other parameter names = %d, want 0", n)
	}
	e := b.Build()
	if got := answer(e, "x.example.com", "GET", "/a/7"); got != `"" allow="DELETE" ok=false` {
		t.Errorf("after removing route 1: %s", got)
	}
	if got := answer(e, "any", "DELETE", "/a/7"); got != `"2" allow="" ok=true id="7"` {
		t.Errorf("route 2 after removing route 1: %s", got)
	}
	if got := answer(m, "x.example.com", "GET", "/a/7"); got != `"1" allow="" ok=true id="7"` {
		t.Errorf("the original changed: %s", got)
	}
	b = e.Edit()
	if b.RemoveValue("/a/{id}", valueIs("2")) != 1 || b.RemoveValue("/files/*", valueIs("3")) != 1 || b.RemoveValue("/nope", valueIs("3")) != 0 {
		t.Fatal("removing the rest")
	}
	if e := b.Build(); !e.root.empty() || e.Len() != 0 {
		t.Errorf("root after removing everything: %+v, Len %d", *e.root, e.Len())
	}
}

func TestEditAddConflicts(t *testing.T) {
	m := build(t, []Route[string]{
		{Path: "/a/{id}", Methods: []string{"GET"}, Value: "1"},
		{Path: "/w/*", Hosts: []string{"x.test"}, Value: "2"},
	})
	b := m.Edit()
	var ce *ConflictError[string]
	if err := b.Add(Route[string]{Path: "/a/:other", Value: "3"}); !errors.As(err, &ce) || ce.Existing != "1" {
		t.Fatalf("Add over /a/{id}: %v, want a conflict with 1", err)
	}
	// All or nothing: y.test would be free, x.test is not.
	err := b.Add(Route[string]{Path: "/w/*", Hosts: []string{"y.test", "X.test"}, Value: "4"})
	if !errors.As(err, &ce) || ce.Existing != "2" || ce.Host != "X.test" {
		t.Fatalf("Add over /w/* on x.test: %v, want a conflict with 2", err)
	}
	if err := b.Add(Route[string]{Path: "/w/*", Hosts: []string{"z.test", "z.test"}, Value: "5"}); !errors.As(err, &ce) || ce.Existing != "5" {
		t.Fatalf("Add naming a host twice: %v, want a conflict with itself", err)
	}
	// The Builder goes on: what conflicted can come once it is removed.
	if n := b.Remove(Route[string]{Path: "/a/{id}", Methods: []string{"GET"}}, valueIs("1")); n != 1 {
		t.Fatalf("Remove = %d", n)
	}
	if err := b.Add(Route[string]{Path: "/a/{id}", Value: "6"}); err != nil {
		t.Fatalf("Add after Remove: %v", err)
	}
	e := b.Build()
	for _, p := range []struct{ host, path, want string }{
		{"", "/a/7", `"6" allow="" ok=true id="7"`},
		{"y.test", "/w/x", `"" allow="" ok=false`},
		{"z.test", "/w/x", `"" allow="" ok=false`},
		{"x.test", "/w/x", `"2" allow="" ok=true *="x"`},
	} {
		if got := answer(e, p.host, "GET", p.path); got != p.want {
			t.Errorf("%s%s = %s, want %s", p.host, p.path, got, p.want)
		}
	}
	if e.Len() != 2 {
		t.Errorf("Len() = %d, want 2", e.Len())
	}
	if got := answer(m, "", "GET", "/a/7"); got != `"1" allow="" ok=true id="7"` {
		t.Errorf("the original changed: %s", got)
	}
}

// TestEditShards crosses the limits where a node splits its literal
// children into shards and joins them again, edit after edit.
func TestEditShards(t *testing.T) {
	old := [2]int{shardAt, joinAt}
	shardAt, joinAt = 512, 256
	t.Cleanup(func() { shardAt, joinAt = old[0], old[1] })
	m := NewBuilder[string]().Build()
	var live []int
	for step := 0; step < 6; step++ {
		b := m.Edit()
		if step < 3 {
			for i := step * 250; i < (step+1)*250; i++ {
				if err := b.Add(Route[string]{Path: fmt.Sprintf("/s%d/x", i), Value: fmt.Sprint(i)}); err != nil {
					t.Fatal(err)
				}
				live = append(live, i)
			}
		} else {
			for _, i := range live[:250] {
				if n := b.Remove(Route[string]{Path: fmt.Sprintf("/s%d/x", i)}, nil); n != 1 {
					t.Fatalf("Remove /s%d/x = %d", i, n)
				}
			}
			live = live[250:]
		}
		prev := m
		m = b.Build()
		checkTree(t, m)
		// 250, 500, 750 children, then 500, 250, 0: split above shardAt
		// (512), joined below joinAt (256).
		wantShards := []bool{false, false, true, true, false, false}[step]
		if m.root != nil && (m.root.shards() != nil) != wantShards {
			t.Errorf("step %d: %d children, sharded %v", step, len(live), !wantShards)
		}
		for i := 0; i < 750; i++ {
			want := `"" allow="" ok=false`
			if slices.Contains(live, i) {
				want = fmt.Sprintf(`"%d" allow="" ok=true`, i)
			}
			if got := answer(m, "", "GET", fmt.Sprintf("/s%d/x", i)); got != want {
				t.Fatalf("step %d: /s%d/x = %s, want %s", step, i, got, want)
			}
		}
		if prev.Len() == 750 && answer(prev, "", "GET", "/s0/x") != `"0" allow="" ok=true` {
			t.Errorf("the original lost /s0/x")
		}
	}
}

// checkTree checks what an edit must leave behind: no empty node below the
// root, no empty wildcard, shards that hold each key where Lookup looks,
// and Len equal to the entries held.
func checkTree(t *testing.T, m *Matcher[string]) {
	t.Helper()
	if m.root == nil {
		return
	}
	entries := 0
	var walk func(n *node[string], depth int, where string)
	walk = func(n *node[string], depth int, where string) {
		if depth > 0 && n.empty() {
			t.Errorf("empty node at %s", where)
		}
		entries += len(appendEntries(nil, n.end))
		children := map[string]*node[string]{}
		switch {
		case n.kids != nil:
			if n.more != nil && (n.more.statics != nil || n.more.shards != nil) {
				t.Errorf("%s: a list and a map of literal children", where)
			}
			kids := *n.kids
			if len(kids) == 0 || len(kids) > maxKids {
				t.Errorf("%s: a list of %d literal children", where, len(kids))
			}
			for i, k := range kids {
				if i > 0 && !kidBefore(kids[i-1].key, k.key) {
					t.Errorf("%s: %q before %q", where, kids[i-1].key, k.key)
				}
				children[k.key] = k.node
			}
		case n.shards() != nil:
			if n.more.statics != nil {
				t.Errorf("%s: both a map and shards", where)
			}
			for i, sh := range n.shards() {
				for k, c := range sh {
					if shardOf(k) != uint64(i) {
						t.Errorf("%s: %q in shard %d", where, k, i)
					}
					children[k] = c
				}
			}
			if len(children) != n.more.nstatic {
				t.Errorf("%s: nstatic %d, %d children", where, n.more.nstatic, len(children))
			}
		case n.more != nil && n.more.statics != nil:
			if len(n.more.statics) == 0 {
				t.Errorf("%s: empty statics map", where)
			}
			children = n.more.statics
		}
		for k, c := range children {
			walk(c, depth+1, where+"/"+k)
		}
		if n.param != nil {
			walk(n.param, depth+1, where+"/{}")
		}
		for i, w := range n.wilds() {
			if w.entries == nil || w.depth != depth || wildIndex(n.wilds(), w.prefix) != i {
				t.Errorf("%s: bad wildcard %+v", where, w)
			}
			entries += len(appendEntries(nil, w.entries))
		}
	}
	walk(m.root, 0, "")
	if entries != m.Len() {
		t.Errorf("Len() = %d, the tree holds %d entries", m.Len(), entries)
	}
}

func TestEditConcurrentLookup(t *testing.T) {
	m := buildN(t, 600) // 200 literal children at the root: sharded
	if m.root.shards() == nil {
		t.Fatal("the root is not sharded")
	}
	var probes []string
	for i := 0; i < 200; i++ {
		probes = append(probes, fmt.Sprintf("/svc%d/static", i), fmt.Sprintf("/svc%d/items/7", i), fmt.Sprintf("/svc%d/files/a/b", i))
	}
	want := make([]string, len(probes))
	for i, p := range probes {
		want[i] = answer(m, "example.com", "GET", p)
	}
	stop := make(chan struct{})
	var ready, done sync.WaitGroup
	for range 2 {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			for pass := 0; ; pass++ {
				if pass == 1 {
					ready.Done()
				}
				for i, p := range probes {
					if got := answer(m, "example.com", "GET", p); got != want[i] {
						t.Errorf("during edits: %s = %s, want %s", p, got, want[i])
						if pass == 0 {
							ready.Done()
						}
						return
					}
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	ready.Wait()
	cur := m
	for i := 0; i < 200; i++ {
		base := cur
		if i%3 == 0 {
			base = m // edits of the original, side by side with edits of edits
		}
		b := base.Edit()
		svc := i % 200
		b.Remove(Route[string]{Path: fmt.Sprintf("/svc%d/static", svc), Methods: []string{"GET"}}, nil)
		b.Remove(Route[string]{Path: fmt.Sprintf("/svc%d/files/*", svc), Methods: []string{"GET"}}, nil)
		if err := b.Add(Route[string]{Path: fmt.Sprintf("/svc%d/static", svc), Value: fmt.Sprint("edit", i)}); err != nil {
			t.Fatal(err)
		}
		if err := b.Add(Route[string]{Path: fmt.Sprintf("/svc%d/new/{x}", svc), Value: fmt.Sprint("new", i)}); err != nil {
			t.Fatal(err)
		}
		cur = b.Build()
	}
	close(stop)
	done.Wait()
}

func TestLookupZeroAllocsAfterEdit(t *testing.T) {
	m := buildN(t, 3000) // 1000 literal children at the root: sharded
	b := m.Edit()
	for i := 0; i < 50; i++ {
		b.Remove(Route[string]{Path: fmt.Sprintf("/svc%d/static", i), Methods: []string{"GET"}}, nil)
		if err := b.Add(Route[string]{Path: fmt.Sprintf("/svc%d/static/{v}", i), Value: "v"}); err != nil {
			t.Fatal(err)
		}
	}
	e := b.Build()
	if e.root.shards() == nil {
		t.Fatal("the root is not sharded")
	}
	var ps Params
	for _, path := range []string{"/svc7/static/1", "/svc300/items/42", "/svc300/static", "/svc300/files/a/b/c"} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, _, ok := e.Lookup("example.com", "GET", path, &ps); !ok {
				t.Fatalf("miss on %s", path)
			}
		})
		if allocs != 0 {
			t.Errorf("Lookup(%s) allocates %v times, want 0", path, allocs)
		}
	}
}

// serviceRoutes are the 10 routes of service n in version v, all under
// /p{n%50}/s{n} (under /s{n} when flat, so the root holds every service).
func serviceRoutes(flat bool, n, v int) []Route[string] {
	prefix := fmt.Sprintf("/p%d/s%d", n%50, n)
	if flat {
		prefix = fmt.Sprintf("/s%d", n)
	}
	vs := [...]string{"", "b"}[v]
	val := fmt.Sprintf("s%d.v%d", n, v)
	rs := make([]Route[string], 0, 10)
	for k := 0; k < 6; k++ {
		rs = append(rs, Route[string]{Path: fmt.Sprintf("%s/r%d%s/{id}", prefix, k, vs), Methods: []string{"GET"}, Value: val})
	}
	return append(rs,
		Route[string]{Path: prefix + "/r6" + vs, Methods: []string{"GET", "POST"}, Value: val},
		Route[string]{Path: prefix + "/files" + vs + "/*", Value: val},
		Route[string]{Path: prefix + "/r8" + vs + "/{id}/items/{item}", Value: val},
		Route[string]{Path: prefix + "/r9" + vs, Hosts: []string{"api.example.com"}, Value: val},
	)
}

// BenchmarkEditOneService replaces the 10 routes of one service in a
// table of services×10 routes: its cost must not grow with the table.
func BenchmarkEditOneService(b *testing.B) {
	for _, flat := range []bool{false, true} {
		for _, services := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("flat=%v/services=%d", flat, services), func(b *testing.B) {
				routes := [2][][]Route[string]{make([][]Route[string], services), make([][]Route[string], services)}
				bl := NewBuilder[string]()
				for n := 0; n < services; n++ {
					routes[0][n], routes[1][n] = serviceRoutes(flat, n, 0), serviceRoutes(flat, n, 1)
					for _, r := range routes[0][n] {
						if err := bl.Add(r); err != nil {
							b.Fatal(err)
						}
					}
				}
				cur := bl.Build()
				ver := make([]int, services)
				runtime.GC() // not the building's garbage: the edits'
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					n := i * 7919 % services
					e := cur.Edit()
					for _, r := range routes[ver[n]][n] {
						if e.Remove(r, valueIs(r.Value)) != 1 {
							b.Fatalf("Remove(%s) missed", r.Path)
						}
					}
					ver[n] = 1 - ver[n]
					for _, r := range routes[ver[n]][n] {
						if err := e.Add(r); err != nil {
							b.Fatal(err)
						}
					}
					cur = e.Build()
				}
				if cur.Len() != services*10 {
					b.Fatalf("Len() = %d", cur.Len())
				}
			})
		}
	}
}
