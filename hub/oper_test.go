package hub

import (
	"errors"
	"testing"
	"time"
)

// TestOperWaitSaysHowLong: a refused /oper says when to try again, rounded
// up to whole seconds (never "in 0s").
func TestOperWaitSaysHowLong(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		a    *operAttempts
		want string // "" when it may try now
	}{
		{"not recorded", nil, ""},
		{"first try", &operAttempts{}, ""},
		{"wait over", &operAttempts{fails: 3, next: now}, ""},
		{"12 s to go", &operAttempts{fails: 4, next: now.Add(12 * time.Second)}, "too many attempts, try again in 12s"},
		{"a fraction rounds up", &operAttempts{fails: 1, next: now.Add(1500 * time.Millisecond)}, "too many attempts, try again in 2s"},
		{"a moment is a second", &operAttempts{fails: 1, next: now.Add(time.Millisecond)}, "too many attempts, try again in 1s"},
		{"a minute", &operAttempts{fails: 9, next: now.Add(operBackoff(9))}, "too many attempts, try again in 60s"},
		{"check running", &operAttempts{pending: true}, "your last password is still being checked; try again when it is answered"},
	}
	if got, want := errOperBusy.Error(), "too many password checks are running; try again in a second"; got != want || !errors.Is(errOperBusy, ErrRetryLater) {
		t.Errorf("busy: %q, want %q wrapping ErrRetryLater", got, want)
	}
	for _, tc := range tests {
		err := operWait(tc.a, now)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v, want no wait", tc.name, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want || !errors.Is(err, ErrRetryLater)):
			t.Errorf("%s: %v, want %q wrapping ErrRetryLater", tc.name, err, tc.want)
		}
	}
}
