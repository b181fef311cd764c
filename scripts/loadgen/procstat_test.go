package main

import (
	"errors"
	"os"
	"strings"
	"testing"
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
