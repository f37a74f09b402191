//go:build !unix

package tracing

// processCPU is not measured here; benchmarks then report 0 cpu-ns/op.
func processCPU() int64 { return 0 }
