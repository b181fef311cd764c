package boltstore

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"telchat/store"
)

// CreateAccount queues the registration of nickname key and calls done,
// if not nil, after the commit: nil, or [store.ErrAccountExists] when key
// is registered already. loose (the look-alike key) is not used: the hub
// refuses look-alikes of the accounts it holds, and it holds them all.
func (d *DB) CreateAccount(key, loose string, a store.Account, done func(error)) {
	rec := store.EncodeAccount(a)
	d.enqueue(op{done: done, apply: func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccounts)
		if b.Get([]byte(key)) != nil {
			return store.ErrAccountExists
		}
		return b.Put([]byte(key), rec)
	}})
}

// UpdateAccount queues a change to the account of nickname key: change
// gets the stored account to modify (it runs on the writer goroutine, and
// again if the commit is retried, so it only sets fields). done, if not
// nil, is called after the commit with nil or [store.ErrNoAccount].
func (d *DB) UpdateAccount(key, loose string, change func(*store.Account), done func(error)) {
	d.enqueue(op{done: done, apply: func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccounts)
		v := b.Get([]byte(key))
		if v == nil {
			return store.ErrNoAccount
		}
		a, err := store.DecodeAccount(v)
		if err != nil {
			return fmt.Errorf("account %q: %w", key, err)
		}
		change(&a)
		return b.Put([]byte(key), store.EncodeAccount(a))
	}})
}

// Account reads the account of nickname key as it is on disk, off the
// caller's goroutine: done gets found false when there is none.
func (d *DB) Account(key, loose string, done func(a store.Account, found bool, err error)) {
	var a store.Account
	var found bool
	d.read(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAccounts).Get([]byte(key))
		if v == nil {
			return nil
		}
		var err error
		if a, err = store.DecodeAccount(v); err != nil {
			return fmt.Errorf("account %q: %w", key, err)
		}
		found = true
		return nil
	}, func(err error) { done(a, found, err) })
}

// DeleteAccount queues the removal of the account of nickname key, and its
// offline messages, and calls done, if not nil, after the commit.
func (d *DB) DeleteAccount(key, loose string, done func(error)) {
	d.enqueue(op{done: done, apply: func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketAccounts).Delete([]byte(key)); err != nil {
			return err
		}
		if tx.Bucket(bucketOffline).Bucket([]byte(key)) != nil {
			return tx.Bucket(bucketOffline).DeleteBucket([]byte(key))
		}
		return nil
	}})
}

// PutOffline queues a private message for the registered user with
// nickname key to, and calls done after the commit: nil when it is stored,
// [ErrMailboxFull] when they have Options.OfflineMax messages waiting.
func (d *DB) PutOffline(to string, o store.Offline, done func(error)) {
	rec := store.EncodeOffline(o)
	d.enqueue(op{done: done, apply: func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketOffline).CreateBucketIfNotExists([]byte(to))
		if err != nil {
			return err
		}
		cutoff := timeKey(time.Now().Add(-d.opt.OfflineAge))
		c := b.Cursor()
		for k, _ := c.First(); k != nil && string(k) < string(cutoff); k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		if countKeys(b) >= d.opt.OfflineMax {
			return ErrMailboxFull
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		return b.Put(seqKey(o.Time, seq), rec)
	}})
}

// TakeOffline removes the offline messages waiting for the user with
// nickname key to, and calls done with them, oldest first, once their
// removal is committed: each message is handed out once.
func (d *DB) TakeOffline(to string, done func([]store.Offline, error)) {
	var out []store.Offline
	d.enqueue(op{apply: func(tx *bolt.Tx) error {
		out = nil
		parent := tx.Bucket(bucketOffline)
		b := parent.Bucket([]byte(to))
		if b == nil {
			return nil
		}
		cutoff := time.Now().Add(-d.opt.OfflineAge)
		err := b.ForEach(func(_, v []byte) error {
			o, err := store.DecodeOffline(v)
			if err != nil {
				d.log.Error().Err(err).Str("file", d.path).Msg("an offline message cannot be read; it is skipped")
				return nil
			}
			if !o.Time.Before(cutoff) {
				out = append(out, o)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return parent.DeleteBucket([]byte(to))
	}, done: func(err error) {
		if err != nil {
			out = nil
		}
		done(out, err)
	}})
}
