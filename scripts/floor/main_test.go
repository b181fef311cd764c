package main

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr error
		check   func(config) bool
	}{
		{"defaults", nil, nil, func(c config) bool { return c.conns == 1000 && c.lines == 5 && c.interval == 50*time.Millisecond }},
		{"f pattern", []string{"-conns", "100", "-lines", "1", "-interval", "20ms"}, nil,
			func(c config) bool { return c.conns == 100 && c.lines == 1 && c.interval == 20*time.Millisecond }},
		{"no conns", []string{"-conns", "0"}, errBadConfig, nil},
		{"burst too big", []string{"-lines", "1000", "-size", "1000"}, errBadConfig, nil},
		{"zero interval", []string{"-interval", "0s"}, errBadConfig, nil},
		{"extra argument", []string{"x"}, errBadConfig, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig(tc.args, io.Discard)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.check != nil && !tc.check(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
}

func TestRunMeasuresEveryConnection(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("floor needs Linux")
	}
	defer goleak.VerifyNone(t)
	tests := []struct {
		name  string
		split bool
	}{{"one write per burst", false}, {"one write per line", true}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config{conns: 10, lines: 3, size: 40, bursts: 4, interval: time.Millisecond, writers: 2, split: tc.split, timeout: 20 * time.Second}
			res, err := run(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.bursts != 4 || len(res.latencies) != 40 {
				t.Fatalf("bursts=%d latencies=%d, want 4 and 40", res.bursts, len(res.latencies))
			}
			var out strings.Builder
			res.print(&out, cfg)
			if !strings.Contains(out.String(), "RESULT conns=10 lines=3 size=40") {
				t.Fatalf("no RESULT line:\n%s", out.String())
			}
		})
	}
}
