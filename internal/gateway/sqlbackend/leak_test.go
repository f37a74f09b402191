package sqlbackend

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// open database keeps one, so a Registry must close its pools.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
