package basicauth

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: a
// request parked in the bcrypt guard's queue must be released, not leaked.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
