package openapi

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkImportGitHub imports GitHub's REST description (13 MB, 1 223
// operations; from the corpus of TestImportRealDocuments, skipped when it
// is not there) and plans its re-import, as POST …/services/import does.
// The goal is under 2 s; the benchmark fails when its slowest run is over
// and so is the CPU time of each. cpu-s is the process's CPU time per
// import (user and system, every thread, the garbage collector's too).
func BenchmarkImportGitHub(b *testing.B) {
	doc, err := os.ReadFile(filepath.Join(corpusDir(b), "github", "api.github.com.json"))
	if errors.Is(err, fs.ErrNotExist) && os.Getenv("PORTICO_REQUIRE_OPENAPI_CORPUS") == "" {
		b.Skipf("%v: no corpus fetched (.ci/run fetches it)", err)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	var worst time.Duration
	cpu0 := cpuTime()
	for b.Loop() {
		start := time.Now()
		res, err := Import(doc, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Service.Routes) < 1000 {
			b.Fatalf("%d routes", len(res.Service.Routes))
		}
		if p := NewPlan(res, stored(res)); p.Changed() {
			b.Fatal("re-import of the same document changes")
		}
		worst = max(worst, time.Since(start))
	}
	cpu := (cpuTime() - cpu0).Seconds() / float64(b.N)
	b.ReportMetric(cpu, "cpu-s/op")
	b.ReportMetric(worst.Seconds(), "worst-s")
	// On a busy machine the wall time says little (the import waits for a
	// core); the CPU time bounds what it takes on an idle one.
	if worst > 2*time.Second && cpu > 2 {
		b.Errorf("importing GitHub's description took %v (%.2f s of CPU each), goal under 2 s", worst, cpu)
	}
}

// cpuTime is the CPU time the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
