package version

import (
	"runtime"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	tests := []struct {
		stamped, commit, want string
	}{
		{"v1.2.3", "0123456789abcdef", "v1.2.3"},
		{"", "", ""}, // module version or "devel": test binaries carry no VCS version
	}
	for _, tc := range tests {
		i := Read(tc.stamped, tc.commit)
		if tc.commit != "" && i.Commit == "" {
			t.Errorf("Read(%q, %q).Commit is empty", tc.stamped, tc.commit)
		}
		if tc.want != "" && i.Version != tc.want {
			t.Errorf("Read(%q).Version = %q, want %q", tc.stamped, i.Version, tc.want)
		}
		if i.Version == "" {
			t.Errorf("Read(%q).Version is empty", tc.stamped)
		}
		if i.Go != runtime.Version() {
			t.Errorf("Go = %q, want %q", i.Go, runtime.Version())
		}
		s := i.String()
		if !strings.HasPrefix(s, "telchat "+i.Version+" (commit ") || !strings.Contains(s, runtime.GOOS+"/"+runtime.GOARCH) {
			t.Errorf("String() = %q", s)
		}
	}
}

func TestShortCommit(t *testing.T) {
	tests := []struct {
		i    Info
		want string
	}{
		{Info{}, "unknown"},
		{Info{Commit: "0123456789abcdef0123"}, "0123456789ab"},
		{Info{Commit: "0123456789abcdef0123", Modified: true}, "0123456789ab+dirty"},
		{Info{Commit: "abc"}, "abc"},
	}
	for _, tc := range tests {
		if got := tc.i.ShortCommit(); got != tc.want {
			t.Errorf("%+v.ShortCommit() = %q, want %q", tc.i, got, tc.want)
		}
	}
}
