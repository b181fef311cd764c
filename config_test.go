package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadConfig(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
		err        string
	}{
		{"forms", "# comment\n\nmax-clients = 5000\n-msg-rate 2\n  name=\"my chat\"  \nconsole\nmotd-file = ''\n",
			[]string{"-max-clients=5000", "-msg-rate=2", "-name=my chat", "-console=true", "-motd-file="}, ""},
		{"nested config", "config = other.conf\n", nil, ":1: a config file cannot name another"},
		{"no name", "= 5\n", nil, `:1: want "name = value"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "telchat.conf")
			writeFile(t, path, tc.text)
			got, err := readConfig(path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := readConfig(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.HasPrefix(err.Error(), "-config: open ") {
		t.Errorf("a missing file: %v", err)
	}
}

func TestConfigPath(t *testing.T) {
	t.Setenv("TELCHAT_CONFIG", "/from/env")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-addr", ":23", "-config", "/a"}, "/a"},
		{[]string{"--config=/b", "-addr", ":23"}, "/b"},
		{[]string{"-addr", ":23"}, "/from/env"},
		{[]string{"--", "-config", "/c"}, "/from/env"},
	}
	for _, tc := range tests {
		if got := configPath(tc.args); got != tc.want {
			t.Errorf("configPath(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}
