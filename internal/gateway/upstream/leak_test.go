package upstream

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: the
// concurrency tests start workers that must all have returned.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
