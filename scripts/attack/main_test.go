package main

import (
	"strings"
	"testing"
	"time"
)

func TestCheckKeepsToLoopback(t *testing.T) {
	ok := config{addr: "127.0.0.1:2323", addrs: 2, perAddr: 1, read: 1, every: time.Second, size: 10, dur: time.Second}
	tests := []struct {
		name  string
		edit  func(*config)
		first string
		bad   bool
	}{
		{"loopback", func(*config) {}, "127.2.0.1", false},
		{"remote server", func(c *config) { c.addr = "192.0.2.1:2323" }, "127.2.0.1", true},
		{"server name", func(c *config) { c.addr = "localhost:2323" }, "127.2.0.1", true},
		{"remote source", func(*config) {}, "192.0.2.1", true},
		{"IPv6 source", func(*config) {}, "::1", true},
		{"too many addresses", func(c *config) { c.addrs = 10001 }, "127.2.0.1", true},
		{"unbounded", func(c *config) { c.dur = 0 }, "127.2.0.1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			if err := c.check(tt.first); (err != nil) != tt.bad {
				t.Fatalf("check: %v, want an error: %v", err, tt.bad)
			}
		})
	}
}

func TestLettersAreUniqueAndDigitFree(t *testing.T) {
	seen := map[string]bool{}
	for n := range 20000 {
		s := letters(n)
		if seen[s] || strings.ContainsAny(s, "0123456789") {
			t.Fatalf("letters(%d) = %q: repeated or has digits", n, s)
		}
		seen[s] = true
	}
}
