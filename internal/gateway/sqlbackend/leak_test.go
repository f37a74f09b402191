package sqlbackend

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: a pool
// dropped from the registry must have its connections closed.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
