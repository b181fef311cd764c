package boltstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// ErrBackupExists: the backup's target file exists already.
var ErrBackupExists = errors.New("file exists; choose a new name")

// Backup writes a consistent snapshot of the store (bbolt's Tx.WriteTo,
// from one read transaction) to path, off the caller's goroutine, and
// calls done with its size. The snapshot holds everything committed when
// it begins. path must not exist; the file is written under a temporary
// name, fsynced, then renamed, so that a failed backup leaves nothing.
func (d *DB) Backup(path string, done func(size int64, err error)) {
	var size int64
	d.read(func(tx *bolt.Tx) error {
		n, err := writeSnapshot(tx, path)
		size = n
		return err
	}, func(err error) { done(size, err) })
}

// BackupFile copies the store file at src (not opened by a server: the
// caller holds the data directory's lock) to dst, as Backup does.
func BackupFile(src, dst string) (int64, error) {
	if _, err := os.Stat(src); err != nil {
		return 0, fmt.Errorf("store %s: %w", src, err)
	}
	db, err := openBolt(src, &bolt.Options{ReadOnly: true, Timeout: openTimeout})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var size int64
	err = db.View(func(tx *bolt.Tx) error {
		n, err := writeSnapshot(tx, dst)
		size = n
		return err
	})
	return size, err
}

// writeSnapshot writes tx's view of the file to path (which must not
// exist) through a temporary file in the same directory.
func writeSnapshot(tx *bolt.Tx, path string) (size int64, err error) {
	if _, err := os.Lstat(path); err == nil {
		return 0, fmt.Errorf("backup %s: %w", path, ErrBackupExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("backup %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("backup %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return 0, fmt.Errorf("backup %s: %w", path, err)
	}
	if size, err = tx.WriteTo(f); err != nil {
		return 0, fmt.Errorf("backup %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return 0, fmt.Errorf("backup %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return 0, fmt.Errorf("backup %s: %w", path, err)
	}
	// Link, not rename: it fails if path appeared meanwhile.
	if err = os.Link(tmp, path); err != nil {
		return 0, fmt.Errorf("backup %s: %w", path, err)
	}
	_ = os.Remove(tmp)
	return size, nil
}
