package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"telchat/usertext"
)

// sameState reports whether two states hold the same data, comparing times
// as instants.
func sameState(a, b State) bool {
	if a.Version != b.Version || a.MOTD != b.MOTD || len(a.Bans) != len(b.Bans) || len(a.Topics) != len(b.Topics) {
		return false
	}
	for i := range a.Bans {
		x, y := a.Bans[i], b.Bans[i]
		if x.Mask != y.Mask || x.Reason != y.Reason || x.By != y.By || !x.Created.Equal(y.Created) || !x.Expires.Equal(y.Expires) {
			return false
		}
	}
	for k, v := range a.Topics {
		if w, ok := b.Topics[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestSaveLoadRoundTrip(t *testing.T) {
	created := time.Now().In(time.FixedZone("UTC+2", 2*3600)) // monotonic reading, non-UTC zone
	expires := created.Add(24 * time.Hour)
	tests := []struct {
		name string
		in   State
		want State
	}{
		{
			name: "everything",
			in: State{
				Bans: []Ban{
					{Mask: "Mallory", Reason: "spam", By: "op", Created: created},
					{Mask: "192.0.2.7", Reason: "flood", By: "op", Created: created, Expires: expires},
					{Mask: "::ffff:198.51.100.1", Created: created},
					{Mask: "2001:DB8::1", Created: created},
					{Mask: "10.1.2.3/8", Reason: "range ban, with \"quotes\"\nand a newline", Created: created},
				},
				MOTD:   "Welcome to telchat!\nBe nice. Ünïcödé ✓ \x1b is sanitized on load",
				Topics: map[string]string{"lobby": "general chat", "dev": "", "ünï": "topic ✓"},
			},
			want: State{
				Version: CurrentVersion,
				Bans: []Ban{
					{Mask: "mallory", Reason: "spam", By: "op", Created: created},
					{Mask: "192.0.2.7", Reason: "flood", By: "op", Created: created, Expires: expires},
					{Mask: "198.51.100.1", Created: created},
					{Mask: "2001:db8::1", Created: created},
					{Mask: "10.0.0.0/8", Reason: usertext.Sanitize("range ban, with \"quotes\"\nand a newline"), Created: created},
				},
				MOTD:   usertext.Sanitize("Welcome to telchat!\nBe nice. Ünïcödé ✓ \x1b is sanitized on load"),
				Topics: map[string]string{"lobby": "general chat", "dev": "", "ünï": "topic ✓"},
			},
		},
		{
			name: "empty state",
			in:   State{},
			want: State{Version: CurrentVersion, Topics: map[string]string{}},
		},
		{
			name: "version is always rewritten",
			in:   State{Version: 99, MOTD: "hi"},
			want: State{Version: CurrentVersion, MOTD: "hi", Topics: map[string]string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			inCopy := tt.in.Clone()
			if err := Save(dir, tt.in); err != nil {
				t.Fatalf("Save: %v", err)
			}
			if !sameState(tt.in, inCopy) || !slices.Equal(masks(tt.in.Bans), masks(inCopy.Bans)) {
				t.Fatalf("Save modified its argument: %+v", tt.in)
			}
			got, err := Load(dir)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !sameState(got, tt.want) {
				t.Fatalf("Load after Save = %+v\nwant %+v", got, tt.want)
			}
			if got.Topics == nil {
				t.Fatal("Load returned nil Topics")
			}
		})
	}
}

func masks(bans []Ban) []string {
	var m []string
	for _, b := range bans {
		m = append(m, b.Mask)
	}
	return m
}

func TestSaveReplacesAndLeavesNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	for i, motd := range []string{"first", "second", "third"} {
		if err := Save(dir, State{MOTD: motd}); err != nil {
			t.Fatalf("Save %d: %v", i, err)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{FileName}) {
			t.Fatalf("after Save %d the directory holds %q; want only %q", i, names, FileName)
		}
		got, err := Load(dir)
		if err != nil {
			t.Fatalf("Load %d: %v", i, err)
		}
		if got.MOTD != motd {
			t.Fatalf("Load %d: MOTD = %q; want %q", i, got.MOTD, motd)
		}
	}
}

func TestSaveFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	if err := Save(dir, State{MOTD: "x"}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("state file mode = %v; want 0600", got)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := di.Mode().Perm(); got != 0o700 {
		t.Errorf("created data dir mode = %v; want 0700", got)
	}

	// An existing file with a wider mode is replaced by a 0600 one.
	if err := os.Chmod(Path(dir), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Save(dir, State{MOTD: "y"}); err != nil {
		t.Fatal(err)
	}
	if fi, err = os.Stat(Path(dir)); err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("state file mode after second Save = %v; want 0600", got)
	}
}

func TestSaveErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T) string // returns the dir to save into
		state   State
		limit   int // MaxFileSize when 0
		wantErr error
	}{
		{
			name:    "bad mask",
			setup:   func(t *testing.T) string { return t.TempDir() },
			state:   State{Bans: []Ban{{Mask: "ok"}, {Mask: "not ok"}}},
			wantErr: ErrBadMask,
		},
		{
			name:    "too large",
			setup:   func(t *testing.T) string { return t.TempDir() },
			state:   State{MOTD: strings.Repeat("x", 1000)},
			limit:   1000,
			wantErr: ErrTooLarge,
		},
		{
			name: "dir is a file",
			setup: func(t *testing.T) string {
				file := filepath.Join(t.TempDir(), "file")
				if err := os.WriteFile(file, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return filepath.Join(file, "data")
			},
			state: State{MOTD: "x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.setup(t)
			limit := tt.limit
			if limit == 0 {
				limit = MaxFileSize
			}
			err := saveLimit(dir, tt.state, limit)
			if err == nil {
				t.Fatal("Save succeeded; want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Save error %v does not wrap %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), Path(dir)) {
				t.Errorf("Save error %q does not name %s", err, Path(dir))
			}
			if _, err := os.Stat(Path(dir)); err == nil {
				t.Errorf("failed Save left %s behind", Path(dir))
			}
			if entries, err := os.ReadDir(dir); err == nil && len(entries) != 0 {
				t.Errorf("failed Save left files in %s: %v", dir, entries)
			}
		})
	}
}

func TestLoadMissing(t *testing.T) {
	tests := []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{name: "missing file", dir: func(t *testing.T) string { return t.TempDir() }},
		{name: "missing dir", dir: func(t *testing.T) string { return filepath.Join(t.TempDir(), "no", "such", "dir") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(tt.dir(t))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := State{Version: CurrentVersion, Topics: map[string]string{}}
			if !sameState(got, want) || got.Topics == nil {
				t.Fatalf("Load = %+v; want %+v", got, want)
			}
		})
	}
}

func TestLoadCorrupt(t *testing.T) {
	tests := []struct {
		name    string
		content string // written to state.json unless setup is set
		setup   func(t *testing.T, dir string)
		also    error // another error the result must wrap
		limit   int   // MaxFileSize when 0
	}{
		{name: "empty file", content: ""},
		{name: "whitespace only", content: " \n"},
		{name: "truncated", content: `{"version":1,"bans":[{"mask":"alice"`},
		{name: "not JSON", content: "bans: alice\n"},
		{name: "null", content: "null"},
		{name: "array", content: "[]"},
		{name: "trailing data", content: `{"version":1}{"version":1}`},
		{name: "trailing garbage", content: `{"version":1} x`},
		{name: "unknown field", content: `{"version":1,"motd":"x","mtod":"typo"}`},
		{name: "wrong type", content: `{"version":1,"bans":"alice"}`},
		{name: "bad time", content: `{"version":1,"bans":[{"mask":"alice","created":"yesterday"}]}`},
		{name: "time out of range in UTC", content: `{"version":1,"bans":[{"mask":"alice","created":"0000-01-01T00:00:00+01:00"}]}`},
		{name: "bad ban mask", content: `{"version":1,"bans":[{"mask":"alice"},{"mask":"al ice"}]}`, also: ErrBadMask},
		{name: "empty ban mask", content: `{"version":1,"bans":[{"created":"2025-01-01T00:00:00Z"}]}`, also: ErrBadMask},
		{name: "newer version", content: `{"version":2}`, also: ErrUnsupportedVersion},
		{name: "negative version", content: `{"version":-1}`, also: ErrUnsupportedVersion},
		{name: "binary", content: "\x00\x01\x02"},
		{
			name: "state.json is a directory",
			setup: func(t *testing.T, dir string) {
				if err := os.Mkdir(Path(dir), 0o700); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "dangling symlink",
			setup: func(t *testing.T, dir string) {
				if err := os.Symlink(filepath.Join(dir, "moved-away.json"), Path(dir)); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "symlink loop",
			setup: func(t *testing.T, dir string) {
				if err := os.Symlink(FileName, Path(dir)); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name:    "too large",
			content: `{"motd":"` + strings.Repeat("x", 1000) + `"}`,
			limit:   1000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.setup != nil {
				tt.setup(t, dir)
			} else if err := os.WriteFile(Path(dir), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			limit := tt.limit
			if limit == 0 {
				limit = MaxFileSize
			}
			got, err := loadAt(dir, time.Now(), limit)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Load = %+v, %v; want error wrapping ErrCorrupt", got, err)
			}
			if tt.also != nil && !errors.Is(err, tt.also) {
				t.Errorf("Load error %v does not wrap %v", err, tt.also)
			}
			if !strings.Contains(err.Error(), Path(dir)) {
				t.Errorf("Load error %q does not name %s", err, Path(dir))
			}
		})
	}
}

func TestLoadAccepts(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		content string
		want    State
	}{
		{
			name:    "expired bans dropped, masks normalized",
			content: `{"version":1,"bans":[{"mask":"Gone","expires":"2025-06-01T12:00:00Z"},{"mask":"Alice","expires":"2025-06-01T12:00:01Z"},{"mask":"10.1.2.3/8"}],"motd":"m","topics":{"lobby":"t"}}`,
			want: State{Version: CurrentVersion, MOTD: "m", Topics: map[string]string{"lobby": "t"}, Bans: []Ban{
				{Mask: "alice", Expires: time.Date(2025, 6, 1, 12, 0, 1, 0, time.UTC)},
				{Mask: "10.0.0.0/8"},
			}},
		},
		{
			name:    "all bans expired",
			content: `{"version":1,"bans":[{"mask":"gone","expires":"2020-01-01T00:00:00Z"}]}`,
			want:    State{Version: CurrentVersion, Topics: map[string]string{}},
		},
		{
			name:    "missing version and fields, null members",
			content: `{"bans":null,"topics":null}`,
			want:    State{Version: CurrentVersion, Topics: map[string]string{}},
		},
		{
			name:    "hand-edited with BOM-free leading whitespace",
			content: "\n  {\"motd\": \"hi\"}\n\n",
			want:    State{Version: CurrentVersion, MOTD: "hi", Topics: map[string]string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(Path(dir), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := loadAt(dir, now, MaxFileSize)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !sameState(got, tt.want) || got.Topics == nil {
				t.Fatalf("Load = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// FuzzDecodeState checks that any file content is either rejected with
// ErrCorrupt or decodes to a state that Save can write and that reads back
// unchanged.
func FuzzDecodeState(f *testing.F) {
	for _, s := range []string{
		`{"version":1,"bans":[{"mask":"Alice","reason":"r","by":"op","created":"2025-01-01T00:00:00Z","expires":"2026-01-01T00:00:00+02:00"},{"mask":"10.1.2.3/8"}],"motd":"hi","topics":{"lobby":"t"}}`,
		`{"version":1}`,
		`{}`,
		`null`,
		`{"version":2}`,
		`{"bans":[{"mask":"a b"}]}`,
		`{"version":1} x`,
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decodeState(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decodeState error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		encoded, err := encodeState(st, MaxFileSize)
		if err != nil {
			t.Fatalf("decoded state %+v cannot be encoded: %v", st, err)
		}
		again, err := decodeState(encoded)
		if err != nil {
			t.Fatalf("encoded state does not decode: %v\n%s", err, encoded)
		}
		if !sameState(st, again) {
			t.Fatalf("round trip changed the state:\n%+v\n%+v", st, again)
		}
		reencoded, err := encodeState(again, MaxFileSize)
		if err != nil || !bytes.Equal(reencoded, encoded) {
			t.Fatalf("encoding is not stable: %v\n%s\n%s", err, encoded, reencoded)
		}
	})
}

func BenchmarkSave(b *testing.B) {
	dir := b.TempDir()
	st := State{MOTD: "welcome", Topics: map[string]string{"lobby": "general"}}
	for i := range 100 {
		st.Bans = append(st.Bans, Ban{Mask: "10.0.0." + string(rune('0'+i%10)), Reason: "bench", Created: time.Now()})
	}
	data, err := encodeState(st, MaxFileSize)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Save(dir, st); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLoadFollowsGoodSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(t.TempDir(), "real")
	if err := Save(real, State{MOTD: "via a link"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(Path(real), Path(dir)); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil || got.MOTD != "via a link" {
		t.Fatalf("Load = %q, %v; want the linked file's MOTD", got.MOTD, err)
	}
}

func TestLoadSanitizesText(t *testing.T) {
	dir := t.TempDir()
	hostile := `\u001b[2J\u001b]0;pwned\u0007clear\u009b31m \u202eevil\r\nfake line` // JSON escapes
	content := `{"version":1,"motd":"` + hostile + `","topics":{"lobby":"` + hostile + `"},` +
		`"bans":[{"mask":"alice","reason":"` + hostile + `","by":"` + hostile + `","created":"2025-01-01T00:00:00Z"}]}`
	if err := os.WriteFile(Path(dir), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"motd": got.MOTD, "topic": got.Topics["lobby"], "reason": got.Bans[0].Reason, "by": got.Bans[0].By} {
		if strings.ContainsAny(text, "\x1b\x07\r\n\u009b\u202e") || !strings.Contains(text, "clear") || !strings.Contains(text, "fake line") {
			t.Errorf("%s loaded as %q; want the text without controls or escape sequences", what, text)
		}
		if text != usertext.Sanitize(text) {
			t.Errorf("%s loaded as %q, which the input sanitizer would still change", what, text)
		}
	}
}

func TestCapBans(t *testing.T) {
	at := func(sec int) time.Time { return time.Unix(int64(sec), 0) }
	ban := func(mask string, sec int) Ban { return Ban{Mask: mask, Created: at(sec)} }
	tests := []struct {
		name        string
		bans        []Ban
		n           int
		wantKept    []string
		wantDropped []string
	}{
		{name: "under the cap", bans: []Ban{ban("a", 1), ban("b", 2)}, n: 3, wantKept: []string{"a", "b"}},
		{name: "no cap", bans: []Ban{ban("a", 1), ban("b", 2)}, n: 0, wantKept: []string{"a", "b"}},
		{name: "at the cap", bans: []Ban{ban("a", 1), ban("b", 2)}, n: 2, wantKept: []string{"a", "b"}},
		{
			name:        "newest kept in list order, oldest dropped first",
			bans:        []Ban{ban("c", 30), ban("a", 10), ban("d", 40), ban("b", 20), ban("e", 50)},
			n:           3,
			wantKept:    []string{"c", "d", "e"},
			wantDropped: []string{"a", "b"},
		},
		{
			name:        "equal times: the later in the list is newer",
			bans:        []Ban{ban("a", 5), ban("b", 5), ban("c", 5)},
			n:           1,
			wantKept:    []string{"c"},
			wantDropped: []string{"a", "b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept, dropped := CapBans(tt.bans, tt.n)
			if !slices.Equal(masks(kept), tt.wantKept) || !slices.Equal(masks(dropped), tt.wantDropped) {
				t.Fatalf("CapBans = kept %q, dropped %q; want %q, %q", masks(kept), masks(dropped), tt.wantKept, tt.wantDropped)
			}
		})
	}
}

func TestRemoveTemp(t *testing.T) {
	dir := t.TempDir()
	if err := Save(dir, State{MOTD: "kept"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".state.json.tmp-123", ".state.json.tmp-abc", "other.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := RemoveTemp(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{".state.json.tmp-123", ".state.json.tmp-abc"}; !slices.Equal(removed, want) {
		t.Fatalf("RemoveTemp removed %q; want %q", removed, want)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"other.txt", FileName}) {
		t.Fatalf("dir holds %q after RemoveTemp", names)
	}
	if got, err := Load(dir); err != nil || got.MOTD != "kept" {
		t.Fatalf("Load = %q, %v", got.MOTD, err)
	}
	if removed, err := RemoveTemp(filepath.Join(dir, "missing")); err != nil || removed != nil {
		t.Fatalf("RemoveTemp on a missing dir = %q, %v; want nothing", removed, err)
	}
}
