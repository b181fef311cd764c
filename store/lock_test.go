package store_test

import (
	"errors"
	"testing"

	"telchat/store"
)

func TestLockIsExclusive(t *testing.T) {
	dir := t.TempDir()
	var release func() error
	lock := func() (err error) { release, err = store.Lock(dir); return err }
	steps := []struct {
		name    string
		do      func() error
		wantErr error
	}{
		{"first lock", lock, nil},
		{"second lock while held", func() error { _, err := store.Lock(dir); return err }, store.ErrLocked},
		{"release", func() error { return release() }, nil},
		{"lock again after release", lock, nil},
	}
	for _, s := range steps {
		if err := s.do(); !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: err = %v, want %v", s.name, err, s.wantErr)
		}
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
}
