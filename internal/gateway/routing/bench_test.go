package routing

import (
	"fmt"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/spec"
)

// benchTable is a group with a {project} prefix and n routes spread over
// services of 10 routes each: a third literal, a third with parameters, a
// third wildcards.
func benchTable(tb testing.TB, n int) *Table {
	tb.Helper()
	var svcs []spec.DeployedService
	for s := 0; s*10 < n; s++ {
		var routes []spec.Route
		for r := 0; r < 10 && s*10+r < n; r++ {
			var path string
			switch r % 3 {
			case 0:
				path = fmt.Sprintf("/items%d", r)
			case 1:
				path = fmt.Sprintf("/items%d/{id}/detail", r)
			default:
				path = fmt.Sprintf("/files%d/*", r)
			}
			routes = append(routes, withMethods(route(fmt.Sprintf("r%d", r), path), "GET", "POST"))
		}
		svcs = append(svcs, deployed("proj", fmt.Sprintf("svc%d", s), fmt.Sprintf("/svc%d", s), routes...))
	}
	return mustBuild(tb, snapshot(group("g", "/{project}", svcs...)))
}

func BenchmarkTableLookup(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		tbl := benchTable(b, n)
		last := (n - 1) / 10 // the last service: deepest in no particular order, a real one
		cases := []struct {
			name, method, path string
			hit                bool
		}{
			{"exact", "GET", fmt.Sprintf("/proj/svc%d/items0", last), true},
			{"param", "GET", fmt.Sprintf("/proj/svc%d/items1/12345/detail", last), true},
			{"wildcard", "GET", fmt.Sprintf("/proj/svc%d/files2/a/b/c.png", last), true},
			{"miss404", "GET", fmt.Sprintf("/proj/svc%d/nothing/here", last), false},
			{"miss405", "DELETE", fmt.Sprintf("/proj/svc%d/items0", last), false},
		}
		for _, c := range cases {
			b.Run(fmt.Sprintf("routes=%d/%s", n, c.name), func(b *testing.B) {
				var ps match.Params
				if _, _, ok := tbl.Lookup("", c.method, c.path, &ps); ok != c.hit {
					b.Fatalf("Lookup(%s %s) hit=%v, want %v", c.method, c.path, ok, c.hit)
				}
				b.ReportAllocs()
				for b.Loop() {
					tbl.Lookup("", c.method, c.path, &ps)
				}
			})
		}
	}
}

// The hot path's promise: a hit allocates nothing, at any size.
func TestTableLookupHitsDoNotAllocate(t *testing.T) {
	for _, n := range []int{10, 10000} {
		tbl := benchTable(t, n)
		for _, path := range []string{"/proj/svc0/items0", "/proj/svc0/items1/9/detail", "/proj/svc0/files2/x/y"} {
			var ps match.Params
			allocs := testing.AllocsPerRun(100, func() {
				if _, _, ok := tbl.Lookup("", "GET", path, &ps); !ok {
					panic("miss on " + path)
				}
			})
			if allocs != 0 {
				t.Errorf("%d routes, %s: %v allocs per lookup", n, path, allocs)
			}
		}
	}
}
