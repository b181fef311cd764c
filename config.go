package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// maxConfigSize bounds a -config file: it holds flag settings, not data.
const maxConfigSize = 64 << 10

// configPath finds the -config file named on the command line (-config F,
// -config=F, with one or two dashes) or, failing that, in TELCHAT_CONFIG.
func configPath(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue // a value of the flag before
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "config" {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return os.Getenv("TELCHAT_CONFIG")
}

// expandConfig puts the settings of the -config file, if there is one,
// before args, so that the command line wins over the file (the flag
// package keeps the last value given), and the file over the environment.
func expandConfig(args []string) ([]string, error) {
	path := configPath(args)
	if path == "" {
		return args, nil
	}
	fileArgs, err := readConfig(path)
	if err != nil {
		return nil, usageError{err}
	}
	return append(fileArgs, args...), nil
}

// readConfig reads a -config file: one flag per line, "name = value" or
// "name value" (the flag's name without its dash), "#" comments and blank
// lines ignored. It returns the settings as "-name=value" arguments.
func readConfig(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-config: %w", err)
	}
	if len(b) > maxConfigSize {
		return nil, fmt.Errorf("-config %s: larger than %d bytes", path, maxConfigSize)
	}
	var args []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			name, value, ok = strings.Cut(line, " ")
		}
		name, value = strings.TrimSpace(strings.TrimLeft(name, "-")), strings.TrimSpace(value)
		switch {
		case name == "":
			return nil, fmt.Errorf("-config %s:%d: want \"name = value\", like max-clients = 5000", path, n)
		case name == "config":
			return nil, fmt.Errorf("-config %s:%d: a config file cannot name another", path, n)
		case !ok:
			value = "true" // a bare name turns a bool flag on
		}
		args = append(args, "-"+name+"="+unquote(value))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("-config %s: %w", path, err)
	}
	return args, nil
}

// unquote removes one pair of matching quotes around a value, so that
// name = "" sets an empty value.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		return v[1 : len(v)-1]
	}
	return v
}
