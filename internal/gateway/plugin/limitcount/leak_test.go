package limitcount

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: the
// Redis-backed counter's client must not outlive Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
