package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReleaseScript runs scripts/release.sh for this machine's platform
// only (the cross builds are the same command with another GOARCH) and
// checks the binary it makes: static, stamped, and in SHA256SUMS.
func TestReleaseScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	out := t.TempDir()
	platform := runtime.GOOS + "/" + runtime.GOARCH
	cmd := exec.Command("scripts/release.sh", "v9.9.9-test", out)
	cmd.Env = append(os.Environ(), "PLATFORMS="+platform)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("release.sh: %v\n%s", err, b)
	}
	name := "telchat-v9.9.9-test-" + runtime.GOOS + "-" + runtime.GOARCH
	bin := filepath.Join(out, name)

	b, err := exec.Command(bin, "-version").CombinedOutput()
	if err != nil {
		t.Fatalf("-version: %v\n%s", err, b)
	}
	got := strings.TrimSpace(string(b))
	want := "telchat v9.9.9-test (commit "
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, runtime.Version()+" "+platform+")") {
		t.Errorf("-version printed %q, want %q...%s %s)", got, want, runtime.Version(), platform)
	}
	if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		if c := strings.TrimSpace(string(head))[:12]; !strings.Contains(got, "commit "+c) {
			t.Errorf("-version printed %q, want commit %s", got, c)
		}
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has an ELF interpreter: not a static binary", name)
		}
	}

	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.TrimSpace(string(sums)), "  "+name) {
		t.Errorf("SHA256SUMS = %q, want a line for %s", sums, name)
	}
	check := exec.Command("sha256sum", "-c", "SHA256SUMS")
	check.Dir = out
	if b, err := check.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v\n%s", err, b)
	}
}
