package match

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The property: a matcher reached by any sequence of edits answers every
// request as a matcher built fresh from the routes left, and every matcher
// it was edited from answers as it did before.

// modelEntry is one path × host entry the oracle expects to be served.
type modelEntry struct {
	route Route[string] // as added; Hosts holds the one host of the entry
	host  string        // lower case, "" for any
}

type model []modelEntry

// shapeOf is a route path with its parameters blanked out, and the names of
// those parameters: two paths of one shape answer the same requests.
func shapeOf(path string) (shape, names string) {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		switch {
		case len(p) > 2 && p[0] == '{' && p[len(p)-1] == '}':
			names += p[1:len(p)-1] + ","
			parts[i] = "{}"
		case len(p) > 1 && p[0] == ':':
			names += p[1:] + ","
			parts[i] = "{}"
		}
	}
	return strings.Join(parts, "/"), names
}

// methodSet is the oracle's own reading of a method list: none is all.
func methodSet(ms []string) uint32 {
	if len(ms) == 0 {
		return ^uint32(0)
	}
	var s uint32
	for _, m := range ms {
		s |= 1 << slices.Index([]string{"GET", "POST", "PUT", "DELETE"}, m)
	}
	return s
}

func hostsOf(r Route[string]) []string {
	if len(r.Hosts) == 0 {
		return []string{""}
	}
	return r.Hosts
}

// conflicts returns the values Add(r) must be refused for, or nil.
func (md model) conflicts(r Route[string]) []string {
	shape, _ := shapeOf(r.Path)
	var vals []string
	seen := map[string]bool{}
	for _, h := range hostsOf(r) {
		h = strings.ToLower(h)
		if seen[h] {
			vals = append(vals, r.Value)
		}
		seen[h] = true
		for _, e := range md {
			s, _ := shapeOf(e.route.Path)
			if s == shape && e.host == h && methodSet(e.route.Methods)&methodSet(r.Methods) != 0 {
				vals = append(vals, e.route.Value)
			}
		}
	}
	return vals
}

func (md model) add(r Route[string]) model {
	for _, h := range hostsOf(r) {
		e := modelEntry{route: r, host: strings.ToLower(h)}
		if h != "" {
			e.route.Hosts = []string{h}
		}
		md = append(md, e)
	}
	return md
}

// remove is Remove's contract, read directly.
func (md model) remove(r Route[string], same func(string) bool) (model, int) {
	shape, names := shapeOf(r.Path)
	var keep model
	for _, e := range md {
		s, n := shapeOf(e.route.Path)
		gone := s == shape && n == names && methodSet(e.route.Methods) == methodSet(r.Methods) &&
			slices.ContainsFunc(hostsOf(r), func(h string) bool { return strings.ToLower(h) == e.host }) &&
			(same == nil || same(e.route.Value))
		if !gone {
			keep = append(keep, e)
		}
	}
	return keep, len(md) - len(keep)
}

func (md model) build(t *testing.T) *Matcher[string] {
	t.Helper()
	b := NewBuilder[string]()
	for _, e := range md {
		if err := b.Add(e.route); err != nil {
			t.Fatalf("fresh build: Add(%+v): %v", e.route, err)
		}
	}
	return b.Build()
}

var (
	propLits  = []string{"a", "b", "c", "api", "users", "blog", "v1", "v2"}
	propHosts = []string{"api.example.com", "*.example.com", "x.test", "*.api.example.com"}
	propMeths = []string{"GET", "POST", "PUT", "DELETE"}
)

func randRoute(rng *rand.Rand, i int) Route[string] {
	r := Route[string]{Path: "/", Value: fmt.Sprintf("r%d", i)}
	if rng.IntN(40) != 0 {
		depth := 1 + rng.IntN(3)
		var segs []string
		for d := 0; d < depth; d++ {
			last, x := d == depth-1, rng.IntN(100)
			lit := propLits[rng.IntN(len(propLits))]
			switch {
			case last && x < 15:
				segs = append(segs, "*")
			case last && x < 25:
				segs = append(segs, lit+"*")
			case x < 65:
				segs = append(segs, lit)
			case x < 82:
				segs = append(segs, "{"+[]string{"id", "x"}[rng.IntN(2)]+"}")
			default:
				segs = append(segs, ":"+[]string{"id", "x"}[rng.IntN(2)])
			}
		}
		r.Path = "/" + strings.Join(segs, "/")
	}
	switch x := rng.IntN(30); {
	case x == 0:
		r.Hosts = []string{"api.example.com", "API.example.com"} // refused: one host twice
	case x < 10:
		r.Hosts = []string{propHosts[rng.IntN(len(propHosts))]}
	case x < 15:
		p := rng.Perm(len(propHosts))
		r.Hosts = []string{propHosts[p[0]], propHosts[p[1]]}
	}
	if rng.IntN(10) >= 4 {
		for _, m := range propMeths {
			if rng.IntN(2) == 0 {
				r.Methods = append(r.Methods, m)
			}
		}
	}
	return r
}

// probePaths are requests for every route path, with parameters that may
// also be literals, wildcards covering nothing or more, and near misses.
func probePaths(rng *rand.Rand, routes []Route[string]) []string {
	set := map[string]bool{"/": true, "/a": true, "/a/": true, "//": true, "/nope": true}
	for _, r := range routes {
		for range 2 {
			parts := strings.Split(r.Path[1:], "/")
			for i, p := range parts {
				switch {
				case p == "*":
					parts[i] = []string{"", "q/r"}[rng.IntN(2)]
				case strings.HasSuffix(p, "*"):
					parts[i] = strings.TrimSuffix(p, "*") + []string{"", "z/q"}[rng.IntN(2)]
				case strings.HasPrefix(p, "{") || strings.HasPrefix(p, ":"):
					parts[i] = []string{"42", "a", "users"}[rng.IntN(3)]
				}
			}
			path := "/" + strings.Join(parts, "/")
			set[path], set[path+"/zz"] = true, true
			if i := strings.LastIndexByte(path, '/'); i > 0 {
				set[path[:i]] = true
			}
		}
	}
	paths := make([]string, 0, len(set))
	for p := range set {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths
}

type probe struct{ host, method, path string }

func TestEditMatchesFreshBuild(t *testing.T) {
	// With small limits, nodes go through every form of their literal
	// children (a list, a map, shards) and back.
	for _, limits := range [][4]int{{maxKids, listAt, shardAt, joinAt}, {2, 2, 4, 3}} {
		t.Run(fmt.Sprintf("maxKids=%d,shardAt=%d", limits[0], limits[2]), func(t *testing.T) {
			old := [4]int{maxKids, listAt, shardAt, joinAt}
			maxKids, listAt, shardAt, joinAt = limits[0], limits[1], limits[2], limits[3]
			t.Cleanup(func() { maxKids, listAt, shardAt, joinAt = old[0], old[1], old[2], old[3] })
			testEditMatchesFreshBuild(t, rand.New(rand.NewPCG(1, uint64(limits[2]))))
		})
	}
}

func testEditMatchesFreshBuild(t *testing.T, rng *rand.Rand) {
	const nRoutes, steps, sample = 300, 250, 120
	cands := make([]Route[string], nRoutes)
	for i := range cands {
		cands[i] = randRoute(rng, i)
	}
	var probes []probe
	for _, p := range probePaths(rng, cands) {
		for _, h := range []string{"", "api.example.com", "API.Example.com", "b.example.com", "q.api.example.com", "example.com", "x.test"} {
			for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH", "BREW"} {
				probes = append(probes, probe{h, m, p})
			}
		}
	}
	type version struct {
		m, fresh *Matcher[string]
		md       model
	}
	same := func(t *testing.T, what string, m, fresh *Matcher[string], n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			p := probes[rng.IntN(len(probes))]
			if n >= len(probes) {
				p = probes[i]
			}
			if got, want := lookup(m, p.host, p.method, p.path), lookup(fresh, p.host, p.method, p.path); got != want {
				t.Fatalf("%s: %s %s%s = %s, a fresh build says %s", what, p.method, p.host, p.path, got, want)
			}
		}
	}
	empty := NewBuilder[string]().Build()
	history := []version{{m: empty, fresh: empty}}
	adds, refused, removed := 0, 0, 0
	for step := 0; step < steps; step++ {
		base := history[len(history)-1]
		if rng.IntN(5) == 0 {
			base = history[rng.IntN(len(history))] // edit an older version
		}
		b, md := base.m.Edit(), slices.Clone(base.md)
		var log []string
		for range 1 + rng.IntN(6) {
			c := cands[rng.IntN(len(cands))]
			if rng.IntN(5) < 3 || len(md) == 0 { // more adds than removes: the table grows
				want := md.conflicts(c)
				err := b.Add(c)
				log = append(log, fmt.Sprintf("Add(%s %v %v %s) = %v", c.Path, c.Hosts, c.Methods, c.Value, err))
				var ce *ConflictError[string]
				switch {
				case want == nil && err != nil:
					t.Fatalf("step %d: %s, want no error\n%s", step, log[len(log)-1], strings.Join(log, "\n"))
				case want != nil && (!errors.As(err, &ce) || !slices.Contains(want, ce.Existing)):
					t.Fatalf("step %d: %s, want a conflict with one of %v", step, log[len(log)-1], want)
				case err == nil:
					md, adds = md.add(c), adds+1
				default:
					refused++
				}
				continue
			}
			// Remove a live entry's route: all or some of its hosts, its
			// methods, the other spelling of its parameters; sometimes
			// with other methods or value, which must remove nothing.
			r := md[rng.IntN(len(md))].route
			for _, x := range cands {
				if x.Value == r.Value {
					r = x
				}
			}
			r.Path = strings.NewReplacer("{id}", ":id", ":id", "{id}").Replace(r.Path)
			if len(r.Hosts) > 1 && rng.IntN(2) == 0 {
				r.Hosts = []string{strings.ToUpper(r.Hosts[rng.IntN(len(r.Hosts))])}
			}
			var pred func(string) bool
			switch rng.IntN(8) {
			case 0:
				r.Methods = []string{"GET"}
			case 1:
				pred = valueIs("other")
			case 2:
				// nil: any value
			default:
				pred = valueIs(r.Value)
			}
			var want int
			md, want = md.remove(r, pred)
			got := b.Remove(r, pred)
			log = append(log, fmt.Sprintf("Remove(%s %v %v %s) = %d", r.Path, r.Hosts, r.Methods, r.Value, got))
			if got != want {
				t.Fatalf("step %d: %s, want %d\n%s", step, log[len(log)-1], want, strings.Join(log, "\n"))
			}
			removed += got
		}
		next := version{m: b.Build(), md: md}
		next.fresh = md.build(t)
		if next.m.Len() != len(md) {
			t.Fatalf("step %d: Len() = %d, want %d", step, next.m.Len(), len(md))
		}
		checkTree(t, next.m)
		same(t, fmt.Sprintf("step %d: after\n%s\n", step, strings.Join(log, "\n")), next.m, next.fresh, sample)
		same(t, fmt.Sprintf("step %d: the version edited", step), base.m, base.fresh, sample/2)
		if history = append(history, next); len(history) > 16 {
			history = history[1:]
		}
	}
	for i, v := range history {
		same(t, fmt.Sprintf("version %d at the end", i), v.m, v.fresh, 1000)
	}
	same(t, "last version, every probe", history[len(history)-1].m, history[len(history)-1].fresh, len(probes))
	t.Logf("%d adds, %d refused, %d entries removed, %d probes, %d entries at the end",
		adds, refused, removed, len(probes), len(history[len(history)-1].md))
}
