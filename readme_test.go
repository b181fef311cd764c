package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadmeArchitectureMatchesCode: README's architecture map names every
// package directory of the module (scripts/ stands for the commands under
// it), and every directory it names exists and holds Go code.
func TestReadmeArchitectureMatchesCode(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(readme), "## Architecture\n")
	if !ok {
		t.Fatal("README has no Architecture section")
	}
	_, block, ok := strings.Cut(sec, "```\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("README's Architecture section has no package map")
	}
	var listed []string
	for _, line := range strings.Split(block, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasSuffix(f[0], "/") {
			listed = append(listed, strings.TrimSuffix(f[0], "/"))
		}
	}
	if !strings.Contains(block, "main.go") {
		t.Error("README's package map does not name main.go")
	}

	var pkgs []string
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			if dir := filepath.ToSlash(filepath.Dir(path)); dir != "." && !slices.Contains(pkgs, dir) {
				pkgs = append(pkgs, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		if !slices.Contains(listed, p) && !strings.HasPrefix(p, "scripts/") {
			t.Errorf("package %s/ is not in README's architecture map", p)
		}
	}
	for _, l := range listed {
		if !slices.Contains(pkgs, l) && l != "scripts" {
			t.Errorf("README's architecture map names %s/, which holds no Go package", l)
		}
	}
}
