package store

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine running, such as
// a Saver that was not closed or whose goroutine does not stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
