package engine

import "time"

// monoEpoch anchors Monotonic.
var monoEpoch = time.Now()

// monoOffset puts Monotonic's start far from zero, so a field holding 0
// for "never" reads as longer ago than any timeout.
const monoOffset = int64(1) << 50 // about 13 days

// Monotonic is nanoseconds on the process's monotonic clock. The hot path
// measures intervals with it: it reads one clock where time.Now reads two
// (wall and monotonic), which is half the cost on a VM's clock source.
func Monotonic() int64 { return int64(time.Since(monoEpoch)) + monoOffset }
