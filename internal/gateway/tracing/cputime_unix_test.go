//go:build unix

package tracing

import "syscall"

// processCPU is the CPU time (user + system) the test process has used, in
// nanoseconds. Benchmarks report it per operation because the machines they
// run on are shared: wall time per operation grows with the neighbours'
// load, CPU time much less.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
