package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// echoOff turns off the echo of the terminal fd until restore is called.
// hash-password calls it before it shows a prompt, so that a password typed
// or pasted the moment the prompt appears is not echoed (term.ReadPassword
// turns the echo off only once it starts reading).
func echoOff(fd int) (restore func(), err error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, fmt.Errorf("reading the terminal's settings: %w", err)
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return nil, fmt.Errorf("turning the terminal's echo off: %w", err)
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}
