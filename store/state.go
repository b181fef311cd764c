package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"telchat/usertext"
)

// CurrentVersion is the state file format written by [Save]. [Load] accepts
// files of this version or older (a missing version counts as current).
const CurrentVersion = 1

// FileName is the name of the state file inside the data directory.
const FileName = "state.json"

// MaxFileSize is the largest state file [Load] reads and [Save] writes.
const MaxFileSize = 16 << 20

// MaxBans is the default bound on the number of bans (see [CapBans]).
const MaxBans = 10000

// tempPrefix starts the name of the temporary files Save writes and renames.
const tempPrefix = "." + FileName + ".tmp-"

var (
	// ErrCorrupt is wrapped by [Load] errors for a state file that exists but
	// cannot be read or decoded.
	ErrCorrupt = errors.New("corrupt or unreadable state file")
	// ErrUnsupportedVersion is wrapped, together with [ErrCorrupt], when the
	// file was written by a newer format version.
	ErrUnsupportedVersion = errors.New("unsupported state file version")
	// ErrTooLarge is wrapped by [Save] when the encoded state exceeds
	// [MaxFileSize], which [Load] would refuse.
	ErrTooLarge = errors.New("state too large")
)

// State is everything persisted.
type State struct {
	// Version is the file format version; [Save] always writes
	// [CurrentVersion] and [Load] always returns it.
	Version int `json:"version"`
	// Bans are the operator's bans, in the order they were added.
	Bans []Ban `json:"bans"`
	// MOTD is the message of the day.
	MOTD string `json:"motd"`
	// Topics maps a room key to that room's topic.
	Topics map[string]string `json:"topics"`
}

// Clone returns a copy of s that shares no slice or map with it.
func (s State) Clone() State {
	s.Bans = slices.Clone(s.Bans)
	s.Topics = maps.Clone(s.Topics)
	return s
}

// Path returns the path of the state file in dir.
func Path(dir string) string {
	return filepath.Join(dir, FileName)
}

// emptyState is what Load returns when there is no file yet.
func emptyState() State {
	return State{Version: CurrentVersion, Topics: map[string]string{}}
}

// Load reads dir/state.json. A missing file (or missing dir) gives an empty
// State and no error. A corrupt or unreadable file, or a symbolic link to a
// missing file, gives an error that names the path and wraps [ErrCorrupt]
// (never a silently empty state); so does a ban whose mask [ParseMask]
// rejects. Masks are returned normalized, expired bans are dropped, text
// (MOTD, topics, ban reasons and authors) is passed through
// [usertext.Sanitize] as if typed, Version is [CurrentVersion] and Topics is
// never nil.
func Load(dir string) (State, error) {
	return loadAt(dir, time.Now(), MaxFileSize)
}

// loadAt is Load with the clock and size limit as parameters, for tests.
func loadAt(dir string, now time.Time, maxSize int) (State, error) {
	path := Path(dir)
	// Lstat, not Open: a dangling symlink opens as "not exist", and an
	// empty start would lift every ban without a word.
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return emptyState(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		if target, lerr := os.Readlink(path); lerr == nil {
			return State{}, fmt.Errorf("load state %s: %w: a symbolic link to %s, which cannot be opened: %w", path, ErrCorrupt, target, err)
		}
		return State{}, fmt.Errorf("load state %s: %w: %w", path, ErrCorrupt, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(maxSize)+1))
	if err != nil {
		return State{}, fmt.Errorf("load state %s: %w: %w", path, ErrCorrupt, err)
	}
	if len(data) > maxSize {
		return State{}, fmt.Errorf("load state %s: %w: larger than %d bytes", path, ErrCorrupt, maxSize)
	}
	st, err := decodeState(data)
	if err != nil {
		return State{}, fmt.Errorf("load state %s: %w", path, err)
	}
	st.Bans = dropExpired(st.Bans, now)
	return st, nil
}

// decodeState parses and validates the file contents. Every error wraps
// ErrCorrupt.
func decodeState(data []byte) (State, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return State{}, fmt.Errorf("%w: empty file", ErrCorrupt)
	}
	if trimmed[0] != '{' {
		return State{}, fmt.Errorf("%w: not a JSON object", ErrCorrupt)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var st State
	if err := dec.Decode(&st); err != nil {
		return State{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return State{}, fmt.Errorf("%w: data after the JSON object", ErrCorrupt)
	}
	if st.Version < 0 || st.Version > CurrentVersion {
		return State{}, fmt.Errorf("%w: %w %d (this program reads up to %d)", ErrCorrupt, ErrUnsupportedVersion, st.Version, CurrentVersion)
	}
	st.Version = CurrentVersion
	for i := range st.Bans {
		mask, err := ParseMask(st.Bans[i].Mask)
		if err != nil {
			return State{}, fmt.Errorf("%w: ban %d: %w", ErrCorrupt, i, err)
		}
		st.Bans[i].Mask = mask
		for _, ts := range []time.Time{st.Bans[i].Created, st.Bans[i].Expires} {
			// Save writes times in UTC; refuse any that would then fall
			// outside the years JSON (RFC 3339) can represent.
			if y := ts.UTC().Year(); y < 0 || y > 9999 {
				return State{}, fmt.Errorf("%w: ban %d: time %v out of range", ErrCorrupt, i, ts)
			}
		}
	}
	if len(st.Bans) == 0 {
		st.Bans = nil
	}
	if st.Topics == nil {
		st.Topics = map[string]string{}
	}
	sanitize(&st)
	return st, nil
}

// sanitize passes the text of a loaded state through the same sanitizer as
// typed input: a hand-edited file must not send escape codes to terminals.
func sanitize(st *State) {
	st.MOTD = usertext.Sanitize(st.MOTD)
	for k, t := range st.Topics {
		st.Topics[k] = usertext.Sanitize(t)
	}
	for i := range st.Bans {
		st.Bans[i].Reason = usertext.Sanitize(st.Bans[i].Reason)
		st.Bans[i].By = usertext.Sanitize(st.Bans[i].By)
	}
}

// CapBans keeps at most n bans: the n newest by Created (ties: the later in
// the list), in their original order. It returns the bans kept and those
// dropped (oldest first). A list that holds more than the cap can only come
// from a file edited by hand or written with a larger cap; the newest bans
// are the operators' latest decisions. n <= 0 keeps every ban.
func CapBans(bans []Ban, n int) (kept, dropped []Ban) {
	if n <= 0 || len(bans) <= n {
		return bans, nil
	}
	idx := make([]int, len(bans))
	for i := range idx {
		idx[i] = i
	}
	// Newest first; a stable sort keeps later entries ahead on equal times.
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := bans[b].Created.Compare(bans[a].Created); c != 0 {
			return c
		}
		return b - a
	})
	keep := make([]bool, len(bans))
	for _, i := range idx[:n] {
		keep[i] = true
	}
	kept = make([]Ban, 0, n)
	for i, b := range bans {
		if keep[i] {
			kept = append(kept, b)
		}
	}
	for _, i := range slices.Backward(idx[n:]) {
		dropped = append(dropped, bans[i])
	}
	return kept, dropped
}

// RemoveTemp removes the temporary files that a save interrupted by a crash
// left in dir, and returns their names. Call it only while holding [Lock]
// on dir: another process's save in progress would lose its file.
func RemoveTemp(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("remove temporary files: %w", err)
	}
	var removed []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tempPrefix) || e.IsDir() {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return removed, fmt.Errorf("remove temporary file: %w", err)
		}
		removed = append(removed, e.Name())
	}
	return removed, nil
}

// dropExpired removes, in place, the bans that have expired at now. It
// returns nil when no ban is left.
func dropExpired(bans []Ban, now time.Time) []Ban {
	bans = slices.DeleteFunc(bans, func(b Ban) bool { return b.Expired(now) })
	if len(bans) == 0 {
		return nil
	}
	return bans
}

// encodeState validates s and returns the file contents, at most maxSize
// bytes. It does not modify
// s. Masks are normalized and times written in UTC.
func encodeState(s State, maxSize int) ([]byte, error) {
	out := State{
		Version: CurrentVersion,
		Bans:    make([]Ban, len(s.Bans)),
		MOTD:    s.MOTD,
		Topics:  s.Topics,
	}
	if out.Topics == nil {
		out.Topics = map[string]string{}
	}
	for i, b := range s.Bans {
		mask, err := ParseMask(b.Mask)
		if err != nil {
			return nil, fmt.Errorf("ban %d: %w", i, err)
		}
		b.Mask = mask
		b.Created = b.Created.UTC()
		if !b.Expires.IsZero() {
			b.Expires = b.Expires.UTC()
		}
		out.Bans[i] = b
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	data = append(data, '\n')
	if len(data) > maxSize {
		return nil, fmt.Errorf("%w: %d bytes encoded, limit %d", ErrTooLarge, len(data), maxSize)
	}
	return data, nil
}

// Save writes dir/state.json atomically: it creates dir (0700) if needed,
// writes a temporary file in dir, fsyncs it, renames it over state.json and
// fsyncs the dir. The file mode is 0600. Bans with a mask that [ParseMask]
// rejects make Save fail (wrapping [ErrBadMask]) without touching the disk,
// so that whatever Save writes, [Load] accepts. s is not modified.
func Save(dir string, s State) error {
	return saveLimit(dir, s, MaxFileSize)
}

// saveLimit is Save with the size limit as a parameter, for tests.
func saveLimit(dir string, s State, maxSize int) error {
	path := Path(dir)
	data, err := encodeState(s, maxSize)
	if err != nil {
		return fmt.Errorf("save state %s: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save state %s: %w", path, err)
	}
	if err := writeFileAtomic(dir, FileName, data, 0o600); err != nil {
		return fmt.Errorf("save state %s: %w", path, err)
	}
	return nil
}

// writeFileAtomic replaces dir/name with data so that readers and crashes
// see either the old file or the new one in full.
func writeFileAtomic(dir, name string, data []byte, perm os.FileMode) (err error) {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*") // tempPrefix for FileName
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	closed, renamed := false, false
	defer func() {
		if err == nil || renamed {
			return
		}
		if !closed {
			_ = tmp.Close() // already failing; the write error is what matters
		}
		_ = os.Remove(tmpName) // best effort; a leftover temp file is harmless
	}()
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	closed = true
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmpName, filepath.Join(dir, name)); err != nil {
		return err
	}
	renamed = true
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		_ = d.Close()
		return err
	}
	return d.Close()
}
