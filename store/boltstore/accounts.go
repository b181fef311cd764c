package boltstore

import (
	"time"

	bolt "go.etcd.io/bbolt"

	"telchat/store"
)

// PutAccount queues the account of nickname key (creating or replacing
// it) and calls done, if not nil, after the commit.
func (d *DB) PutAccount(key string, a store.Account, done func(error)) {
	rec := store.EncodeAccount(a)
	d.enqueue(op{done: done, apply: func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAccounts).Put([]byte(key), rec)
	}})
}

// DeleteAccount queues the removal of the account of nickname key, and its
// offline messages, and calls done, if not nil, after the commit.
func (d *DB) DeleteAccount(key string, done func(error)) {
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
