package boltstore

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A note is a one-time fact the store remembers for the server, such as
// "this store's accounts were copied to the cluster telchat": a key in
// the meta bucket ("note:" and its name) whose value is when it was
// noted.

func noteKey(name string) []byte { return []byte("note:" + name) }

// Noted reports when the note name was made, or the zero time if never.
// It reads the disk on the caller's goroutine: for start-up.
func (d *DB) Noted(name string) (time.Time, error) {
	var at time.Time
	err := d.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(noteKey(name))
		if v == nil {
			return nil
		}
		t, err := time.Parse(time.RFC3339, string(v))
		if err != nil {
			return fmt.Errorf("note %q: %w", name, err)
		}
		at = t
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("store %s: %w", d.path, err)
	}
	return at, nil
}

// Note queues the note name (made now) and calls done, if not nil, after
// the commit.
func (d *DB) Note(name string, done func(error)) {
	v := []byte(time.Now().UTC().Format(time.RFC3339))
	d.enqueue(op{done: done, apply: func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(noteKey(name), v)
	}})
}
