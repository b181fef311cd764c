package boltstore

import (
	"bytes"
	"time"

	bolt "go.etcd.io/bbolt"

	"telchat/store"
)

// AppendHistory queues m for room's history (room is the room's key). It
// never blocks; the line is on disk after the next commit. Past
// Options.HistoryKeep lines in the room, the oldest are removed.
func (d *DB) AppendHistory(room string, m store.Message) {
	rec := store.EncodeMessage(m)
	d.enqueue(op{history: true, apply: func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketHistory).CreateBucketIfNotExists([]byte(room))
		if err != nil {
			return err
		}
		// Keys only grow (time first): full pages, not bbolt's half-full
		// default for random inserts. Set for each transaction's bucket.
		b.FillPercent = appendFill
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if err := b.Put(seqKey(m.Time, seq), rec); err != nil {
			return err
		}
		n, ok := d.counts[room]
		if !ok {
			n = countKeys(b) // this line included
		} else {
			n++
		}
		c := b.Cursor()
		for k, _ := c.First(); k != nil && n > d.opt.HistoryKeep; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
			n--
		}
		d.counts[room] = n
		return nil
	}})
}

// History reads, off the caller's goroutine, the last n messages of room
// said before before (the zero time: the newest), oldest first, and calls
// done with them. Messages older than Options.HistoryAge are left out.
func (d *DB) History(room string, before time.Time, n int, done func([]store.Message, error)) {
	var out []store.Message
	cutoff := time.Now().Add(-d.opt.HistoryAge)
	d.read(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketHistory).Bucket([]byte(room))
		if b == nil || n <= 0 {
			return nil
		}
		c := b.Cursor()
		var k, v []byte
		if before.IsZero() {
			k, v = c.Last()
		} else {
			// Seek finds the first key at or after before; the one
			// ahead of it is the newest said before.
			if k, _ = c.Seek(timeKey(before)); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		}
		for ; k != nil && len(out) < n; k, v = c.Prev() {
			m, err := store.DecodeMessage(v)
			if err != nil {
				return err
			}
			if m.Time.Before(cutoff) {
				break
			}
			out = append(out, m)
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		return nil
	}, func(err error) {
		if err != nil {
			out = nil
		}
		done(out, err)
	})
}

// Purge removes from every room's history the lines said by the user with
// nickname key from at or after since (the zero time: all), and calls done
// with how many after the commit.
func (d *DB) Purge(from string, since time.Time, done func(n int, err error)) {
	n := 0
	d.enqueue(op{apply: func(tx *bolt.Tx) error {
		n = 0
		hist := tx.Bucket(bucketHistory)
		var rooms [][]byte
		if err := hist.ForEachBucket(func(k []byte) error {
			rooms = append(rooms, bytes.Clone(k))
			return nil
		}); err != nil {
			return err
		}
		for _, room := range rooms {
			b := hist.Bucket(room)
			c := b.Cursor()
			for k, v := c.Seek(timeKey(since)); k != nil; {
				m, err := store.DecodeMessage(v)
				if err == nil && m.FromKey == from {
					k = bytes.Clone(k)
					if err := c.Delete(); err != nil {
						return err
					}
					n++
					if cnt, ok := d.counts[string(room)]; ok {
						d.counts[string(room)] = cnt - 1
					}
					// Seek again: Next after Delete may skip an item.
					k, v = c.Seek(k)
					continue
				}
				k, v = c.Next()
			}
		}
		return nil
	}, done: func(err error) { done(n, err) }})
}

// pruneAll removes the history lines and offline messages past their age.
func (d *DB) pruneAll(tx *bolt.Tx) error {
	now := time.Now()
	// The counts are recounted at each room's next line.
	clear(d.counts)
	if err := pruneNested(tx.Bucket(bucketHistory), timeKey(now.Add(-d.opt.HistoryAge))); err != nil {
		return err
	}
	return pruneNested(tx.Bucket(bucketOffline), timeKey(now.Add(-d.opt.OfflineAge)))
}

// pruneNested deletes, in each sub-bucket of parent, the keys before
// cutoff; it removes sub-buckets left empty.
func pruneNested(parent *bolt.Bucket, cutoff []byte) error {
	var names [][]byte
	if err := parent.ForEachBucket(func(k []byte) error {
		names = append(names, bytes.Clone(k))
		return nil
	}); err != nil {
		return err
	}
	for _, name := range names {
		b := parent.Bucket(name)
		c := b.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k, cutoff) < 0; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		if k, _ := b.Cursor().First(); k == nil {
			if err := parent.DeleteBucket(name); err != nil {
				return err
			}
		}
	}
	return nil
}

// appendFill is how full bbolt fills the pages of buckets whose keys are
// appended in order.
const appendFill = 0.95

// countKeys counts b's keys. (Bucket.Stats does not see the writes of the
// transaction in progress.)
func countKeys(b *bolt.Bucket) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}
