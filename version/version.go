// Package version says which build of telchat is running: the version
// stamped at link time (scripts/release.sh passes -ldflags
// "-X main.releaseVersion=v1.2.3"), and the commit and Go version that the Go
// toolchain records in every binary (runtime/debug.ReadBuildInfo).
package version

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Info describes one build.
type Info struct {
	// Version is the stamped version, else the module version the Go
	// toolchain derived from the repository ("v0.0.0-2026...-abcdef"), else
	// "devel".
	Version string
	// Commit is the VCS revision the binary was built from ("" if unknown).
	Commit string
	// Modified reports uncommitted changes in the work tree at build time.
	Modified bool
	// Go is the Go version that built the binary.
	Go string
	// Platform is GOOS/GOARCH.
	Platform string
}

// Read returns the running binary's Info; stamped and commit are the
// link-time version and commit ("" when none was stamped). The build info's
// own commit, when there is one, wins over a stamped commit.
func Read(stamped, commit string) Info {
	i := Info{Version: stamped, Commit: commit, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		i.Go = bi.GoVersion
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				i.Commit = s.Value
			case "vcs.modified":
				i.Modified = s.Value == "true"
			}
		}
	}
	if i.Version == "" {
		i.Version = "devel"
	}
	return i
}

// ShortCommit is the first 12 hex digits of Commit, with "+dirty" when the
// tree was modified, or "unknown".
func (i Info) ShortCommit() string {
	if i.Commit == "" {
		return "unknown"
	}
	c := i.Commit[:min(12, len(i.Commit))]
	if i.Modified {
		c += "+dirty"
	}
	return c
}

// String is the -version line: "telchat v1.2.3 (commit 0123456789ab, go1.26.8 linux/amd64)".
func (i Info) String() string {
	var b strings.Builder
	b.WriteString("telchat ")
	b.WriteString(i.Version)
	b.WriteString(" (commit ")
	b.WriteString(i.ShortCommit())
	b.WriteString(", ")
	b.WriteString(i.Go)
	b.WriteString(" ")
	b.WriteString(i.Platform)
	b.WriteString(")")
	return b.String()
}
