package routing

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

func TestZZMem(t *testing.T) {
	var svcs []spec.DeployedService
	for s := 0; s < 10000; s++ {
		var routes []spec.Route
		for r := 0; r < 10; r++ {
			rt := withMethods(route(fmt.Sprintf("r%d", r), fmt.Sprintf("/r%d/{id}", r)), "GET")
			rt.ID = fmt.Sprintf("01J%023d", s*10+r)
			routes = append(routes, rt)
		}
		d := deployed("proj", fmt.Sprintf("s%05d", s), fmt.Sprintf("/s%05d", s), routes...)
		d.Service.ID = fmt.Sprintf("01K%023d", s)
		svcs = append(svcs, d)
	}
	snap := snapshot(group("g", "", svcs...))
	runtime.GC()
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	tbl := mustBuild(t, snap)
	snap = nil
	svcs = nil
	runtime.GC()
	runtime.ReadMemStats(&b)
	t.Logf("table: %.1f MiB live, %d B/route, objects %d", float64(b.HeapAlloc-a.HeapAlloc)/(1<<20), (b.HeapAlloc-a.HeapAlloc)/uint64(tbl.Len()), b.HeapObjects-a.HeapObjects)
	f, _ := os.Create("/tmp/heap.prof")
	pprof.WriteHeapProfile(f)
	f.Close()
	runtime.KeepAlive(tbl)
}
