package main

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    memorySample
		wantErr error
	}{
		{"typical", "Name:\ttelchat\nVmPeak:\t  800000 kB\nVmHWM:\t   52000 kB\nVmRSS:\t   41000 kB\nThreads:\t7\n",
			memorySample{RSSKiB: 41000, PeakKiB: 52000}, nil},
		{"missing rss", "VmHWM:\t 1 kB\n", memorySample{}, errFieldMissing},
		{"empty value", "VmRSS:\n", memorySample{}, errFieldMissing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatus(strings.NewReader(tc.text))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseStatus = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseSyscw(t *testing.T) {
	got, err := parseSyscw(strings.NewReader("rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4567\nread_bytes: 0\n"))
	if err != nil || got != 4567 {
		t.Fatalf("parseSyscw = %d, %v; want 4567", got, err)
	}
	if _, err := parseSyscw(strings.NewReader("rchar: 1\n")); !errors.Is(err, errFieldMissing) {
		t.Fatalf("missing syscw: err = %v, want errFieldMissing", err)
	}
}

func TestReadOwnProcess(t *testing.T) {
	m, err := readMemory(os.Getpid())
	if err != nil {
		t.Fatalf("readMemory(self): %v", err)
	}
	if m.RSSKiB <= 0 || m.PeakKiB < m.RSSKiB {
		t.Fatalf("implausible memory sample %+v", m)
	}
	if _, err := readWriteSyscalls(os.Getpid()); err != nil {
		t.Fatalf("readWriteSyscalls(self): %v", err)
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    time.Duration
		wantErr bool
	}{
		{"typical", "4242 (telchat) S 1 4242 4242 0 -1 4194560 2200 0 0 0 150 37 0 0 20 0 9 0 1000 1790200 4000 18446744073709551615", 1870 * time.Millisecond, false},
		{"name with spaces and parens", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5", 30 * time.Millisecond, false},
		{"short", "7 (x) R 1 2 3", 0, true},
		{"no name", "7 x R", 0, true},
		{"bad number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 x 2 0", 0, true},
	}
	for _, tc := range tests {
		got, err := parseStatCPU(tc.stat)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s: parseStatCPU = %v, %v; want %v, error %v", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestReadCPUSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	before, err := readCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		after, err := readCPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if after > before {
			return
		}
	}
	t.Errorf("CPU time never grew from %v while spinning", before)
}
