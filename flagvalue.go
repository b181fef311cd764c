package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"telchat/commands"
)

// The flag values in this file refuse a bad value with an error that says
// what the flag allows, so that "-idle-timeout 30x" or TELCHAT_MAX_LINE=abc
// gets one line naming the flag (or variable), the value and the allowed
// forms, instead of the flag package's bare "parse error".

// durationAllowed describes the forms parseFlagDuration accepts.
const durationAllowed = "want a duration: a number of seconds (30) or a number with a unit (500ms, 90s, 30m, 2h, 7d)"

// parseFlagDuration reads a duration flag in the forms the chat commands
// accept (commands.ParseDuration: "30" is seconds, "90s", "7d"), plus zero
// ("0", "0s") for the flags where it means off or never. A negative Go
// duration is returned as is, so that options.check can say why the flag
// refuses it.
func parseFlagDuration(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	if d, err := commands.ParseDuration(s); err == nil {
		return d, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d <= 0 {
		return d, nil
	}
	return 0, errors.New(durationAllowed)
}

// durationValue is a time.Duration flag read by parseFlagDuration.
type durationValue struct{ p *time.Duration }

// Set implements flag.Value.
func (v durationValue) Set(s string) error {
	d, err := parseFlagDuration(s)
	if err != nil {
		return err
	}
	*v.p = d
	return nil
}

// String implements flag.Value.
func (v durationValue) String() string {
	if v.p == nil {
		return ""
	}
	return v.p.String()
}

// intValue is an int flag.
type intValue struct{ p *int }

// Set implements flag.Value.
func (v intValue) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, strconv.IntSize)
	if err != nil {
		return errors.New("want a whole number, like 100")
	}
	*v.p = int(n)
	return nil
}

// String implements flag.Value.
func (v intValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.Itoa(*v.p)
}

// int64Value is an int64 flag.
type int64Value struct{ p *int64 }

// Set implements flag.Value.
func (v int64Value) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return errors.New("want a whole number, like 100")
	}
	*v.p = n
	return nil
}

// String implements flag.Value.
func (v int64Value) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.FormatInt(*v.p, 10)
}

// floatValue is a float64 flag.
type floatValue struct{ p *float64 }

// Set implements flag.Value.
func (v floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != f { // NaN compares unequal to itself
		return errors.New("want a number, like 5 or 0.5")
	}
	*v.p = f
	return nil
}

// String implements flag.Value.
func (v floatValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.FormatFloat(*v.p, 'g', -1, 64)
}

// boolValue is a bool flag: "-console" alone means true.
type boolValue struct{ p *bool }

// Set implements flag.Value.
func (v boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	*v.p = b
	return nil
}

// String implements flag.Value.
func (v boolValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.FormatBool(*v.p)
}

// IsBoolFlag tells the flag package that the flag needs no value.
func (v boolValue) IsBoolFlag() bool { return true }

// choiceValue is a string flag that must be one of a few words.
type choiceValue struct {
	p       *string
	choices []string
}

// Set implements flag.Value.
func (v choiceValue) Set(s string) error {
	for _, c := range v.choices {
		if s == c {
			*v.p = s
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(v.choices, ", "))
}

// String implements flag.Value.
func (v choiceValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}
