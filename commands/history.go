package commands

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"telchat/hub"
)

// defaultHistoryLines is how many lines /history shows without a number.
const defaultHistoryLines = 50

// history runs /history [N] and /history before [DATE] HH:MM[:SS] [N].
func history(x *hub.Ctx, a []string) error {
	n, before, err := parseHistory(strings.Join(a, " "), time.Now())
	if err != nil {
		return err
	}
	return x.History(n, before)
}

// parseHistory reads the arguments of /history. Times are UTC; a time of
// day without a date is its latest occurrence before now.
func parseHistory(s string, now time.Time) (n int, before time.Time, err error) {
	f := strings.Fields(s)
	n = defaultHistoryLines
	if len(f) > 0 && strings.EqualFold(f[0], "before") {
		f = f[1:]
		if len(f) == 0 {
			return 0, time.Time{}, fmt.Errorf("%w: a time is missing after before (HH:MM, UTC)", ErrUsage)
		}
		if before, f, err = parseBefore(f, now.UTC()); err != nil {
			return 0, time.Time{}, err
		}
	}
	switch len(f) {
	case 0:
	case 1:
		v, err := strconv.Atoi(f[0])
		if err != nil || v < 1 || v > hub.MaxHistoryPage {
			return 0, time.Time{}, fmt.Errorf("%q is not a number of lines from 1 to %d", shortArg(f[0]), hub.MaxHistoryPage)
		}
		n = v
	default:
		return 0, time.Time{}, ErrUsage
	}
	return n, before, nil
}

// parseBefore reads "[YYYY-MM-DD] HH:MM[:SS]" from the start of f.
func parseBefore(f []string, now time.Time) (time.Time, []string, error) {
	var day time.Time
	if d, err := time.Parse(time.DateOnly, f[0]); err == nil {
		day = d
		f = f[1:]
		if len(f) == 0 {
			return time.Time{}, nil, fmt.Errorf("%w: a time of day (HH:MM) is missing after the date", ErrUsage)
		}
	}
	var clock time.Time
	var err error
	for _, layout := range []string{"15:04:05.999999999", "15:04"} {
		if clock, err = time.Parse(layout, f[0]); err == nil {
			break
		}
	}
	if err != nil {
		return time.Time{}, nil, errors.New("the time must be HH:MM or HH:MM:SS (UTC, seconds may have a fraction), optionally after a date YYYY-MM-DD")
	}
	since := clock.Sub(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC))
	if !day.IsZero() {
		return day.Add(since), f[1:], nil
	}
	t := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Add(since)
	if t.After(now) {
		t = t.AddDate(0, 0, -1)
	}
	return t, f[1:], nil
}

// shortArg cuts an argument echoed in an error.
func shortArg(s string) string { return truncate(s, 40) }
