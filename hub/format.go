package hub

import (
	"strconv"
	"time"
)

// roughDuration formats d for people: whole seconds (rounded up when up is
// set, else down) from a second on, hundredths below.
func roughDuration(d time.Duration, up bool) string {
	switch {
	case d < time.Second:
		return max(d, 0).Round(10 * time.Millisecond).String()
	case up:
		return (d + time.Second - 1).Truncate(time.Second).String()
	default:
		return d.Truncate(time.Second).String()
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

func itoa(n int) string { return strconv.Itoa(n) }
