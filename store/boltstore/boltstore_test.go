package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/goleak"

	"telchat/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func open(t *testing.T, dir string, opt Options) *DB {
	t.Helper()
	if opt.SyncInterval == 0 {
		opt.SyncInterval = time.Millisecond
	}
	d, err := Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close(context.Background()) })
	return d
}

// result waits for one value from a store callback, with a deadline.
func result[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("no answer from the store within 10s")
		panic("unreachable")
	}
}

type hist struct {
	msgs []store.Message
	err  error
}

func history(t *testing.T, d *DB, room string, before time.Time, n int) []store.Message {
	t.Helper()
	ch := make(chan hist, 1)
	d.History(room, before, n, func(m []store.Message, err error) { ch <- hist{m, err} })
	r := result(t, ch)
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.msgs
}

// flush waits until everything queued before it is committed.
func flush(t *testing.T, d *DB) {
	t.Helper()
	ch := make(chan error, 1)
	d.enqueue(op{apply: func(*bolt.Tx) error { return nil }, done: func(err error) { ch <- err }})
	if err := result(t, ch); err != nil {
		t.Fatal(err)
	}
}

func lines(ms []store.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

func TestHistorySurvivesReopenAndKeepsTheNewest(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir, Options{HistoryKeep: 5})
	base := time.Now().Add(-time.Hour)
	for i := range 8 {
		d.AppendHistory("lobby", store.Message{Time: base.Add(time.Duration(i) * time.Minute), FromKey: "bob", Text: fmt.Sprint("<bob> ", i)})
	}
	d.AppendHistory("other", store.Message{Time: base, Text: "x"})
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	d = open(t, dir, Options{HistoryKeep: 5})
	got := lines(history(t, d, "lobby", time.Time{}, 100))
	want := []string{"<bob> 3", "<bob> 4", "<bob> 5", "<bob> 6", "<bob> 7"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("history = %q, want %q", got, want)
	}
	got = lines(history(t, d, "lobby", base.Add(5*time.Minute), 2))
	if want := []string{"<bob> 3", "<bob> 4"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("history before minute 5 = %q, want %q", got, want)
	}
	if got := history(t, d, "nowhere", time.Time{}, 10); len(got) != 0 {
		t.Errorf("unknown room: %v", got)
	}
}

func TestHistoryAgeLimit(t *testing.T) {
	d := open(t, t.TempDir(), Options{HistoryAge: time.Hour})
	now := time.Now()
	d.AppendHistory("r", store.Message{Time: now.Add(-2 * time.Hour), Text: "old"})
	d.AppendHistory("r", store.Message{Time: now, Text: "new"})
	flush(t, d)
	if got := lines(history(t, d, "r", time.Time{}, 10)); fmt.Sprint(got) != "[new]" {
		t.Errorf("history = %q, want only the new line", got)
	}
	ch := make(chan error, 1)
	d.enqueue(op{apply: d.pruneAll, done: func(err error) { ch <- err }})
	if err := result(t, ch); err != nil {
		t.Fatal(err)
	}
}

func TestPurge(t *testing.T) {
	d := open(t, t.TempDir(), Options{})
	now := time.Now()
	for i, from := range []string{"bob", "ann", "bob", "bob", "ann"} {
		d.AppendHistory("r", store.Message{Time: now.Add(time.Duration(i) * time.Second), FromKey: from, Text: fmt.Sprint(from, i)})
	}
	type res struct {
		n   int
		err error
	}
	ch := make(chan res, 1)
	d.Purge("bob", now.Add(time.Second), func(n int, err error) { ch <- res{n, err} })
	if r := result(t, ch); r.err != nil || r.n != 2 {
		t.Fatalf("purge = %d, %v; want 2", r.n, r.err)
	}
	d.Purge("ann", time.Time{}, func(n int, err error) { ch <- res{n, err} })
	if r := result(t, ch); r.err != nil || r.n != 2 {
		t.Fatalf("purge of all = %d, %v; want 2", r.n, r.err)
	}
	if got := lines(history(t, d, "r", time.Time{}, 10)); fmt.Sprint(got) != "[bob0]" {
		t.Errorf("after purge: %q", got)
	}
}

func TestStateImportedOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	st := store.State{MOTD: "hello", Bans: []store.Ban{{Mask: "10.0.0.1", Created: time.Now()}}, Topics: map[string]string{"lobby": "t"}}
	if err := store.Save(dir, st); err != nil {
		t.Fatal(err)
	}
	d := open(t, dir, Options{OperatorState: true})
	if got := d.State(); got.MOTD != "hello" || len(got.Bans) != 1 || got.Topics["lobby"] != "t" {
		t.Fatalf("imported state = %+v", got)
	}
	saved := make(chan store.SaveResult, 1)
	d.Submit(store.State{MOTD: "changed"}, 1, func(r store.SaveResult) { saved <- r })
	if r := result(t, saved); r.Err != nil || r.Gen != 1 {
		t.Fatalf("save = %+v", r)
	}
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(store.Path(dir)); err != nil {
		t.Errorf("state.json gone: %v", err)
	}
	d = open(t, dir, Options{OperatorState: true})
	if got := d.State(); got.MOTD != "changed" || len(got.Bans) != 0 {
		t.Errorf("after reopen: %+v (the store, not state.json, must be read)", got)
	}
}

func TestCorruptStoreRefused(t *testing.T) {
	tests := []struct {
		name  string
		write func(path string) error
	}{
		{"garbage", func(p string) error {
			return os.WriteFile(p, []byte("this is not a bbolt file at all, not even close......"), 0o600)
		}},
		{"truncated", func(p string) error {
			d, err := Open(filepath.Dir(p), Options{})
			if err != nil {
				return err
			}
			if err := d.Close(context.Background()); err != nil {
				return err
			}
			return os.Truncate(p, 100)
		}},
		{"a damaged page", func(p string) error {
			d, err := Open(filepath.Dir(p), Options{})
			if err != nil {
				return err
			}
			for i := range 2000 {
				d.AppendHistory(fmt.Sprint("room", i%20), store.Message{Time: time.Now(), Text: strings.Repeat("x", 100)})
			}
			if err := d.Close(context.Background()); err != nil {
				return err
			}
			f, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			// Zeroes after the two meta pages, which stay valid: bbolt
			// opens the file; only walking its pages finds the damage.
			page := int64(os.Getpagesize())
			_, err = f.WriteAt(make([]byte, st.Size()-2*page), 2*page)
			return err
		}},
		{"a leaf page of another type", func(p string) error {
			d, err := Open(filepath.Dir(p), Options{})
			if err != nil {
				return err
			}
			for i := range 2000 {
				d.AppendHistory(fmt.Sprint("room", i%20), store.Message{Time: time.Now(), Text: strings.Repeat("x", 100)})
			}
			if err := d.Close(context.Background()); err != nil {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			// A page starts with its id (8 bytes), then its flags; 0x02 is
			// a leaf. Make the last leaf a branch (0x01) with garbage.
			page := os.Getpagesize()
			last := -1
			for off := 2 * page; off+page <= len(b); off += page {
				if b[off+8] == 0x02 && b[off+9] == 0 {
					last = off
				}
			}
			if last < 0 {
				return errors.New("no leaf page found")
			}
			b[last+8] = 0x01
			return os.WriteFile(p, b, 0o600)
		}},
		{"bad state record", func(p string) error {
			d, err := Open(filepath.Dir(p), Options{OperatorState: true})
			if err != nil {
				return err
			}
			d.enqueue(op{apply: func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyState, []byte("{nope")) }})
			return d.Close(context.Background())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tt.write(Path(dir)); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir, Options{})
			if err == nil {
				t.Fatal("Open succeeded on a damaged file")
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, store.ErrCorrupt) {
				t.Errorf("error %v does not wrap ErrCorrupt", err)
			}
			t.Logf("%v", err)
			if !containsPath(err, Path(dir)) {
				t.Errorf("error %v does not name %s", err, Path(dir))
			}
		})
	}
}

func containsPath(err error, path string) bool {
	return err != nil && len(path) > 0 && contains(err.Error(), path)
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestOfflineMailbox(t *testing.T) {
	d := open(t, t.TempDir(), Options{OfflineMax: 3})
	now := time.Now()
	errs := make(chan error, 4)
	for i := range 4 {
		d.PutOffline("bob", store.Offline{Time: now.Add(time.Duration(i) * time.Millisecond), From: "ann", Text: fmt.Sprint(i)}, func(err error) { errs <- err })
	}
	for i := range 4 {
		err := result(t, errs)
		if i < 3 && err != nil || i == 3 && !errors.Is(err, ErrMailboxFull) {
			t.Errorf("put %d: %v", i, err)
		}
	}
	type taken struct {
		o   []store.Offline
		err error
	}
	ch := make(chan taken, 1)
	d.TakeOffline("bob", func(o []store.Offline, err error) { ch <- taken{o, err} })
	r := result(t, ch)
	if r.err != nil || len(r.o) != 3 || r.o[0].Text != "0" || r.o[2].Text != "2" {
		t.Fatalf("take = %+v, %v", r.o, r.err)
	}
	d.TakeOffline("bob", func(o []store.Offline, err error) { ch <- taken{o, err} })
	if r := result(t, ch); r.err != nil || len(r.o) != 0 {
		t.Errorf("second take = %+v, %v; want nothing", r.o, r.err)
	}
}

func TestAccountsReloaded(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir, Options{})
	done := make(chan error, 2)
	d.CreateAccount("bob", "bob", store.Account{Nick: "Bob", Hash: []byte("h0"), Created: time.Now()}, func(err error) { done <- err })
	d.CreateAccount("ann", "ann", store.Account{Nick: "Ann", Hash: []byte("h2")}, nil)
	d.DeleteAccount("ann", "ann", func(err error) { done <- err })
	for range 2 {
		if err := result(t, done); err != nil {
			t.Fatal(err)
		}
	}
	d.CreateAccount("bob", "bob", store.Account{Nick: "BOB", Hash: []byte("h3")}, func(err error) { done <- err })
	if err := result(t, done); !errors.Is(err, store.ErrAccountExists) {
		t.Errorf("creating bob again: %v, want ErrAccountExists", err)
	}
	d.UpdateAccount("bob", "bob", func(a *store.Account) { a.Hash = []byte("h1") }, func(err error) { done <- err })
	d.UpdateAccount("ann", "ann", func(a *store.Account) { a.Oper = true }, func(err error) { done <- err })
	if err := result(t, done); err != nil {
		t.Errorf("updating bob: %v", err)
	}
	if err := result(t, done); !errors.Is(err, store.ErrNoAccount) {
		t.Errorf("updating ann (removed): %v, want ErrNoAccount", err)
	}
	type read struct {
		a     store.Account
		found bool
		err   error
	}
	got := make(chan read, 1)
	d.Account("bob", "bob", func(a store.Account, found bool, err error) { got <- read{a, found, err} })
	if r := result(t, got); r.err != nil || !r.found || string(r.a.Hash) != "h1" || r.a.Nick != "Bob" {
		t.Errorf("reading bob: %+v", r)
	}
	d.Account("ann", "ann", func(a store.Account, found bool, err error) { got <- read{a, found, err} })
	if r := result(t, got); r.err != nil || r.found {
		t.Errorf("reading ann (removed): %+v", r)
	}
	if at, err := d.Noted("shared"); err != nil || !at.IsZero() {
		t.Errorf("Noted before Note = %v, %v", at, err)
	}
	d.Note("shared", func(err error) { done <- err })
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	d = open(t, dir, Options{})
	acc := d.Accounts()
	if len(acc) != 1 || acc["bob"].Nick != "Bob" || string(acc["bob"].Hash) != "h1" {
		t.Errorf("accounts = %+v", acc)
	}
	if at, err := d.Noted("shared"); err != nil || at.IsZero() {
		t.Errorf("Noted after a restart = %v, %v", at, err)
	}
}

func TestBackup(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir, Options{})
	d.AppendHistory("lobby", store.Message{Time: time.Now(), Text: "kept"})
	flush(t, d)
	out := filepath.Join(t.TempDir(), "copy.db")
	type res struct {
		n   int64
		err error
	}
	ch := make(chan res, 1)
	d.Backup(out, func(n int64, err error) { ch <- res{n, err} })
	if r := result(t, ch); r.err != nil || r.n == 0 {
		t.Fatalf("backup = %d, %v", r.n, r.err)
	}
	d.Backup(out, func(n int64, err error) { ch <- res{n, err} })
	if r := result(t, ch); !errors.Is(r.err, ErrBackupExists) {
		t.Errorf("backup over an existing file: %v", r.err)
	}
	// The copy is a store of its own.
	restored := t.TempDir()
	if err := os.Rename(out, Path(restored)); err != nil {
		t.Fatal(err)
	}
	d2 := open(t, restored, Options{})
	if got := lines(history(t, d2, "lobby", time.Time{}, 10)); fmt.Sprint(got) != "[kept]" {
		t.Errorf("history in the backup: %q", got)
	}
	if err := d2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, err := BackupFile(Path(restored), filepath.Join(t.TempDir(), "x.db")); err != nil || n == 0 {
		t.Errorf("BackupFile of a closed store = %d, %v", n, err)
	}
}
