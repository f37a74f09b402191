package routing

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"unsafe"

	"github.com/portico-gw/portico/internal/spec"
)

// publishShapedSnapshot is a group like the publish benchmark's: a
// {project} prefix and services of 10 parameterised GET routes, each
// service with its own one-node upstream.
func publishShapedSnapshot(services int) *spec.Snapshot {
	svcs := make([]spec.DeployedService, services)
	for s := range svcs {
		routes := make([]spec.Route, 10)
		for r := range routes {
			routes[r] = withMethods(spec.Route{ID: fmt.Sprintf("rt-%d-%d", s, r), Name: fmt.Sprintf("r%d", r),
				Paths: []string{fmt.Sprintf("/r%d/{id}", r)}}, "GET")
		}
		svcs[s] = deployed("proj", fmt.Sprintf("s%05d", s), fmt.Sprintf("/s%05d", s), routes...)
		svcs[s].Service.ID = fmt.Sprintf("svc-%05d", s)
	}
	return snapshot(group("bench", "/{project}", svcs...))
}

// BenchmarkTableMemory reports what a compiled table keeps alive per
// route (the snapshot it was built from is dropped, as a gateway drops
// it). PORTICO_HEAP_PROFILE=FILE saves the heap profile of the largest
// size for go tool pprof.
func BenchmarkTableMemory(b *testing.B) {
	if os.Getenv("PORTICO_HEAP_PROFILE") != "" {
		runtime.MemProfileRate = 1
	}
	for _, services := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("routes=%d", services*10), func(b *testing.B) {
			var tbl *Table
			for b.Loop() {
				before := liveHeap()
				t, err := Build(publishShapedSnapshot(services), Deps{})
				if err != nil {
					b.Fatal(err)
				}
				tbl = t
				b.ReportMetric(float64(liveHeap()-before)/float64(tbl.Len()), "B/route")
			}
			if f := os.Getenv("PORTICO_HEAP_PROFILE"); f != "" && services == 10000 {
				out, err := os.Create(f)
				if err != nil {
					b.Fatal(err)
				}
				defer out.Close()
				if err := pprof.Lookup("heap").WriteTo(out, 0); err != nil {
					b.Fatal(err)
				}
			}
			runtime.KeepAlive(tbl)
		})
	}
}

func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// A large table holds a route per path of every service: growing Route
// past 64 bytes costs a gateway of 100 000 routes megabytes.
func TestRouteSize(t *testing.T) {
	if s := unsafe.Sizeof(Route{}); s > 64 {
		t.Errorf("a route is %d bytes, want at most 64", s)
	}
}

// BenchmarkTableUpdate is one publish onto a large table: what it costs
// (time, and the garbage it leaves) is meant to depend on the service it
// changes, not on the services around it.
func BenchmarkTableUpdate(b *testing.B) {
	for _, services := range []int{10, 10000} {
		b.Run(fmt.Sprintf("services=%d", services), func(b *testing.B) {
			snap := publishShapedSnapshot(services)
			tbl, err := Build(snap, Deps{})
			if err != nil {
				b.Fatal(err)
			}
			g := snap.Groups[0]
			changed := g.Services[services/2]
			b.ReportAllocs()
			for b.Loop() {
				d := &spec.SnapshotDelta{Base: tbl.Revision, Revision: tbl.Revision + 1,
					Groups: []spec.GroupDelta{{Group: g.Group, Services: []spec.DeployedService{changed}}}}
				if tbl, err = tbl.Update(d, Deps{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
