//go:build race

package accesslog

// raceEnabled: the race detector allocates on its own, and its sync.Pool
// drops a quarter of what is put back, so allocation counts mean nothing.
const raceEnabled = true
