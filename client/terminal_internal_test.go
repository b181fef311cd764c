package client

import "testing"

func TestColourTerm(t *testing.T) {
	for name, want := range map[string]bool{
		"XTERM": true, "xterm-256color": true, "screen": true, "screen.xterm-256color": true,
		"tmux-256color": true, "vt100": true, "VT220": true, "vt52": false, "linux": true,
		"ansi": true, "putty": true, "dumb": false, "": false, "unknown": false, "vt": false,
	} {
		if got := colourTerm(name); got != want {
			t.Errorf("colourTerm(%q) = %v, want %v", name, got, want)
		}
	}
}
