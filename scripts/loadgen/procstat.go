package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// errFieldMissing is returned when a /proc file lacks the wanted field.
var errFieldMissing = errors.New("field missing")

// memorySample is the resident memory of a process, in KiB.
type memorySample struct {
	RSSKiB  int64 // VmRSS: current resident set
	PeakKiB int64 // VmHWM: peak resident set since start
}

// readMemory reads VmRSS and VmHWM from /proc/PID/status.
func readMemory(pid int) (memorySample, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memorySample{}, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	return parseStatus(bytes.NewReader(data))
}

// parseStatus extracts VmRSS and VmHWM (in kB) from the text of /proc/PID/status.
func parseStatus(r io.Reader) (memorySample, error) {
	var m memorySample
	var haveRSS, haveHWM bool
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "VmRSS":
			dst, haveRSS = &m.RSSKiB, true
		case "VmHWM":
			dst, haveHWM = &m.PeakKiB, true
		default:
			continue
		}
		fields := strings.Fields(value)
		if len(fields) == 0 {
			return m, fmt.Errorf("%s has no value: %w", key, errFieldMissing)
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("%s value %q: %w", key, fields[0], err)
		}
		*dst = n
	}
	if err := sc.Err(); err != nil {
		return m, fmt.Errorf("scan status: %w", err)
	}
	if !haveRSS || !haveHWM {
		return m, fmt.Errorf("VmRSS/VmHWM: %w", errFieldMissing)
	}
	return m, nil
}

// readWriteSyscalls reads syscw (write-like system calls so far) from /proc/PID/io.
func readWriteSyscalls(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, fmt.Errorf("read io of pid %d: %w", pid, err)
	}
	return parseSyscw(bytes.NewReader(data))
}

// parseSyscw extracts the syscw counter from the text of /proc/PID/io.
func parseSyscw(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || key != "syscw" {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("syscw value %q: %w", value, err)
		}
		return n, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("scan io: %w", err)
	}
	return 0, fmt.Errorf("syscw: %w", errFieldMissing)
}

// userHZ is the unit of the CPU times in /proc/PID/stat (USER_HZ, 100 on
// every Linux architecture Go supports).
const userHZ = 100

// readCPU reads the CPU time (user + system) a process has used from
// /proc/PID/stat.
func readCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	return parseStatCPU(string(data))
}

// parseStatCPU extracts utime + stime (fields 14 and 15) from the text of
// /proc/PID/stat. The command name (field 2) is in parentheses and may
// hold spaces, so fields are counted after its closing parenthesis.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no command name: %w", errFieldMissing)
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields: %w", len(f)+2, errFieldMissing)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: cpu time %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}
