// Package boltstore keeps telchat's durable data in one bbolt file under the
// data directory: the operator state (bans, MOTD, topics), room history,
// registered accounts and offline messages.
//
// The hub never waits on the disk. Writes are queued without blocking and
// committed by the store's own goroutine, one transaction (and one fsync)
// per batch, at most one batch per sync interval; a batch starts as soon as
// there is work and the interval since the previous one has passed. A
// caller that needs to know that a write is on disk passes a function that
// is called after the commit. Reads run on their own goroutines (bbolt
// allows reads beside the writer) and report through a function as well.
//
// Records are encoded by package store ([store.EncodeMessage] and the
// others), each starting with a version byte; the operator state is one
// JSON record, as in state.json.
package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"telchat/store"
)

// FileName is the store's file inside the data directory.
const FileName = "telchat.db"

// Defaults for Options.
const (
	DefaultSyncInterval = 100 * time.Millisecond
	DefaultHistoryKeep  = 10000
	DefaultHistoryAge   = 30 * 24 * time.Hour
	DefaultOfflineMax   = 100
	DefaultOfflineAge   = 30 * 24 * time.Hour
)

// Bounds on work waiting for the store.
const (
	// maxPending bounds the writes queued for the next batch; past it, new
	// history lines are dropped (and counted in the log) rather than let
	// memory grow while the disk is failing. Other writes are kept.
	maxPending = 1 << 20
	// maxReads bounds the reads running at once; maxReadWaiting those
	// waiting for a slot, past which a read fails with ErrBusy.
	maxReads       = 8
	maxReadWaiting = 1024
	// openTimeout is how long Open waits for bbolt's own file lock.
	openTimeout = 2 * time.Second
)

// Errors reported by the store.
var (
	// ErrCorrupt is wrapped when the file cannot be opened or decoded.
	ErrCorrupt = errors.New("corrupt or unreadable store")
	// ErrMailboxFull: the recipient has the most offline messages allowed.
	ErrMailboxFull = store.ErrMailboxFull
	// ErrBusy: too many reads are waiting.
	ErrBusy = errors.New("the store is busy, try again")
	// ErrClosed: the store is closed.
	ErrClosed = errors.New("store closed")
)

// Bucket names.
var (
	bucketMeta     = []byte("meta")
	bucketHistory  = []byte("history")
	bucketAccounts = []byte("accounts")
	bucketOffline  = []byte("offline")
	keyState       = []byte("state")
	keyImported    = []byte("imported")
	keyFormat      = []byte("format")
)

// formatVersion is the layout of buckets and keys, kept in meta/format.
const formatVersion = 1

// Options configure a DB. Zero values mean the defaults.
type Options struct {
	// SyncInterval is the shortest time between two commits (and the
	// longest a write waits for one while the store keeps up).
	SyncInterval time.Duration
	// HistoryKeep is how many messages each room keeps on disk.
	HistoryKeep int
	// HistoryAge is how long a message is kept on disk.
	HistoryAge time.Duration
	// OfflineMax bounds the offline messages per recipient; OfflineAge is
	// how long they are kept.
	OfflineMax int
	OfflineAge time.Duration
	// OperatorState makes the store keep the operator state (bans, MOTD,
	// topics) too: on first use it imports state.json (left in place as a
	// backup), and Submit saves into the store. Without it the store
	// holds no operator state and state.json stays the place for it.
	OperatorState bool
	// Log receives errors and the state.json import; the zero Logger
	// discards.
	Log zerolog.Logger
}

func (o *Options) setDefaults() {
	if o.SyncInterval <= 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.HistoryKeep <= 0 {
		o.HistoryKeep = DefaultHistoryKeep
	}
	if o.HistoryAge <= 0 {
		o.HistoryAge = DefaultHistoryAge
	}
	if o.OfflineMax <= 0 {
		o.OfflineMax = DefaultOfflineMax
	}
	if o.OfflineAge <= 0 {
		o.OfflineAge = DefaultOfflineAge
	}
}

// Path returns the store's path in dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// DB is an open store. Its methods are safe for concurrent use and never
// block on the disk, except Open, Close and the Load accessors' data which
// Open read.
type DB struct {
	db   *bolt.DB
	path string
	opt  Options
	log  zerolog.Logger

	state    store.State
	accounts map[string]store.Account

	wake   chan struct{} // capacity 1
	stop   chan struct{}
	exited chan struct{}
	reads  chan struct{} // semaphore of maxReads
	readWG sync.WaitGroup

	mu       sync.Mutex
	pending  []op        // guarded by mu
	snap     *stateWrite // newest state not yet committed; guarded by mu
	closed   bool        // guarded by mu
	dropped  int         // history lines dropped since the last log; guarded by mu
	waiting  int         // reads waiting for a slot; guarded by mu
	failures int         // failed commits in a row; guarded by mu

	// Owned by the writer goroutine.
	counts map[string]int // room key -> messages on disk

	closeOnce sync.Once
	closeErr  error
}

// op is one queued write: apply runs inside the batch's transaction and
// returns an error of its own (the op is skipped, the batch goes on);
// done, if set, is called after the commit with apply's error, or the
// commit's.
type op struct {
	apply   func(tx *bolt.Tx) error
	done    func(error)
	history bool // a history line: may be dropped when the queue is full
}

// stateWrite is a submitted operator state.
type stateWrite struct {
	st     store.State
	gen    uint64
	report func(store.SaveResult)
}

// Open opens (creating it if needed) the store in dir, which the caller has
// locked with [store.Lock]. On first use it imports dir/state.json, which
// it leaves in place as a backup. A file that bbolt cannot open, or whose
// records cannot be decoded, gives an error naming the file and wrapping
// [ErrCorrupt]: never an empty start.
func Open(dir string, opt Options) (*DB, error) {
	opt.setDefaults()
	path := Path(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	bdb, err := openBolt(path, &bolt.Options{Timeout: openTimeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, err
	}
	d := &DB{
		db:       bdb,
		path:     path,
		opt:      opt,
		log:      opt.Log,
		accounts: make(map[string]store.Account),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		exited:   make(chan struct{}),
		reads:    make(chan struct{}, maxReads),
		counts:   make(map[string]int),
	}
	if err := d.load(dir); err != nil {
		_ = bdb.Close()
		return nil, err
	}
	go d.run()
	return d, nil
}

// openBolt opens the bbolt file at path. bbolt panics on some damaged
// files (a freelist page that is not one): that is an error here, wrapping
// ErrCorrupt and naming the file, like any other that stops the opening.
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	defer func() {
		if p := recover(); p != nil {
			db, err = nil, fmt.Errorf("store %s: %w: %v", path, ErrCorrupt, p)
		}
	}()
	db, err = bolt.Open(path, 0o600, o)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w: %w", path, ErrCorrupt, err)
	}
	return db, nil
}

// load creates the buckets, imports state.json on first use and reads the
// state and the accounts. A panic inside bbolt (it panics on some damaged
// pages) is turned into an error.
func (d *DB) load(dir string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store %s: %w: %v", d.path, ErrCorrupt, p)
		}
	}()
	var imported bool
	err = d.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketHistory, bucketAccounts, bucketOffline} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if f := meta.Get(keyFormat); f == nil {
			if err := meta.Put(keyFormat, []byte{formatVersion}); err != nil {
				return err
			}
		} else if len(f) != 1 || f[0] != formatVersion {
			return fmt.Errorf("%w: layout version %v (this program reads %d)", ErrCorrupt, f, formatVersion)
		}
		if !d.opt.OperatorState || meta.Get(keyState) != nil {
			return nil
		}
		st, err := store.Load(dir)
		if err != nil {
			return fmt.Errorf("importing %s: %w", store.Path(dir), err)
		}
		b, err := store.MarshalState(st)
		if err != nil {
			return fmt.Errorf("importing %s: %w", store.Path(dir), err)
		}
		if err := meta.Put(keyState, b); err != nil {
			return err
		}
		imported = true
		return meta.Put(keyImported, []byte(time.Now().UTC().Format(time.RFC3339)))
	})
	if err != nil {
		return fmt.Errorf("store %s: %w", d.path, err)
	}
	if imported {
		if _, statErr := os.Stat(store.Path(dir)); statErr == nil {
			d.log.Info().Str("from", store.Path(dir)).Str("to", d.path).
				Msg("imported bans, MOTD and topics; the old file is kept as a backup and no longer read")
		}
	}
	// bbolt checks only its meta pages when it opens a file: walk every
	// page once, so that damage anywhere stops the start now rather than
	// turning up as a missing room history later (about 0.4 s per million
	// messages).
	if err := d.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("store %s: %w: %w", d.path, ErrCorrupt, err)
		}
		return nil
	}); err != nil {
		return err
	}
	return d.db.View(func(tx *bolt.Tx) error {
		if rec := tx.Bucket(bucketMeta).Get(keyState); rec != nil {
			st, err := store.UnmarshalState(rec)
			if err != nil {
				return fmt.Errorf("store %s: state: %w", d.path, err)
			}
			d.state = st
		}
		return tx.Bucket(bucketAccounts).ForEach(func(k, v []byte) error {
			a, err := store.DecodeAccount(v)
			if err != nil {
				return fmt.Errorf("store %s: %w: account %q: %w", d.path, ErrCorrupt, k, err)
			}
			d.accounts[string(k)] = a
			return nil
		})
	})
}

// State is the operator state as loaded by Open (empty without
// Options.OperatorState).
func (d *DB) State() store.State { return d.state.Clone() }

// Accounts are the accounts as loaded by Open, by nickname key. The map is
// the caller's.
func (d *DB) Accounts() map[string]store.Account {
	out := make(map[string]store.Account, len(d.accounts))
	for k, a := range d.accounts {
		out[k] = a
	}
	return out
}

// Path is the store's file.
func (d *DB) Path() string { return d.path }

// Submit queues the operator state (coalescing: only the newest pending
// snapshot is written) and calls report after the commit that holds it,
// or after each failed attempt. It implements hub.Saver.
func (d *DB) Submit(st store.State, gen uint64, report func(store.SaveResult)) {
	w := &stateWrite{st: st.Clone(), gen: gen, report: report}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.snap = w
	d.mu.Unlock()
	d.poke()
}

// enqueue adds a write to the next batch. It never blocks.
func (d *DB) enqueue(o op) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		if o.done != nil {
			o.done(ErrClosed)
		}
		return
	}
	if o.history && len(d.pending) >= maxPending {
		d.dropped++
		d.mu.Unlock()
		return
	}
	d.pending = append(d.pending, o)
	d.mu.Unlock()
	d.poke()
}

func (d *DB) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run is the writer goroutine: one transaction per batch, batches at least
// SyncInterval apart.
func (d *DB) run() {
	defer close(d.exited)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	prune := time.NewTicker(time.Minute)
	defer prune.Stop()
	var last time.Time
	wait := store.RetryMin
	for {
		select {
		case <-d.wake:
		case <-retry.C:
		case <-prune.C:
			d.enqueue(op{apply: d.pruneAll})
			continue
		case <-d.stop:
			return
		}
		if gap := d.opt.SyncInterval - time.Since(last); gap > 0 {
			t := time.NewTimer(gap)
			select {
			case <-t.C:
			case <-d.stop:
				t.Stop()
				return
			}
		}
		last = time.Now()
		if err := d.commit(); err != nil {
			retry.Reset(wait)
			wait = min(2*wait, store.RetryMax)
			continue
		}
		wait = store.RetryMin
	}
}

// commit writes everything pending in one transaction. On failure the
// writes go back to the front of the queue, to be tried again.
func (d *DB) commit() (err error) {
	d.mu.Lock()
	ops, snap, dropped := d.pending, d.snap, d.dropped
	d.pending, d.snap, d.dropped = nil, nil, 0
	d.mu.Unlock()
	if dropped > 0 {
		d.log.Error().Int("lines", dropped).Msg("history lines dropped: the store is not keeping up")
	}
	if len(ops) == 0 && snap == nil {
		return nil
	}
	var stateRecord []byte
	if snap != nil {
		if stateRecord, err = store.MarshalState(snap.st); err != nil {
			// Not the disk's fault: retrying cannot help.
			d.log.Error().Err(err).Msg("operator state not saved: it cannot be encoded")
			if snap.report != nil {
				snap.report(store.SaveResult{Gen: snap.gen, Err: err, Failures: 1})
			}
			snap = nil
		}
	}
	results := make([]error, len(ops))
	err = d.update(func(tx *bolt.Tx) error {
		clear(results)
		for i, o := range ops {
			results[i] = o.apply(tx)
		}
		if stateRecord != nil {
			return tx.Bucket(bucketMeta).Put(keyState, stateRecord)
		}
		return nil
	})
	d.mu.Lock()
	prev := d.failures
	if err != nil {
		d.failures++
		d.pending = append(ops, d.pending...)
		if d.snap == nil {
			d.snap = snap
		}
	} else {
		d.failures = 0
	}
	failures := d.failures
	d.mu.Unlock()
	switch {
	case err != nil:
		d.log.Error().Err(err).Str("file", d.path).Int("failures", failures).Msg("store commit failed; retrying")
	case prev > 0:
		d.log.Info().Str("file", d.path).Int("failures", prev).Msg("store commits succeed again")
	}
	if snap != nil && snap.report != nil {
		snap.report(store.SaveResult{Gen: snap.gen, Err: err, Failures: failures})
	}
	if err != nil {
		return err
	}
	for i, o := range ops {
		if o.done != nil {
			o.done(results[i])
		}
	}
	return nil
}

// update runs fn in a write transaction, turning a bbolt panic into an
// error.
func (d *DB) update(fn func(tx *bolt.Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, p)
		}
	}()
	return d.db.Update(fn)
}

// read runs fn in a read transaction on its own goroutine, at most
// maxReads at once; done gets fn's error (or ErrBusy, ErrClosed).
func (d *DB) read(fn func(tx *bolt.Tx) error, done func(error)) {
	d.mu.Lock()
	if d.closed || d.waiting >= maxReadWaiting {
		closed := d.closed
		d.mu.Unlock()
		if closed {
			done(ErrClosed)
		} else {
			done(ErrBusy)
		}
		return
	}
	d.waiting++
	d.readWG.Add(1)
	d.mu.Unlock()
	go func() {
		defer d.readWG.Done()
		d.reads <- struct{}{}
		d.mu.Lock()
		d.waiting--
		d.mu.Unlock()
		err := func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("%w: %v", ErrCorrupt, p)
				}
			}()
			return d.db.View(fn)
		}()
		<-d.reads
		done(err)
	}()
}

// Close commits what is queued (retrying until ctx ends) and closes the
// file. It returns an error wrapping [store.ErrNotSaved] if something
// could not be written.
func (d *DB) Close(ctx context.Context) error {
	d.closeOnce.Do(func() {
		d.mu.Lock()
		d.closed = true
		d.mu.Unlock()
		close(d.stop)
		<-d.exited
		wait := store.RetryMin
		for {
			err := d.commit()
			if err == nil {
				break
			}
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				d.closeErr = fmt.Errorf("%w: %w (gave up at shutdown: %w)", store.ErrNotSaved, err, ctx.Err())
			}
			if d.closeErr != nil {
				break
			}
			wait = min(2*wait, store.RetryMax)
		}
		d.readWG.Wait()
		if err := d.db.Close(); err != nil && d.closeErr == nil {
			d.closeErr = fmt.Errorf("close store %s: %w", d.path, err)
		}
	})
	return d.closeErr
}

// seqKey is a record key: the time in Unix nanoseconds, then a sequence
// number, both big-endian, so that keys sort by time.
func seqKey(t time.Time, seq uint64) []byte {
	k := timeKey(t)
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

// timeKey is the smallest key at or after t. Times before 1970 (and the
// zero time) are 0, the first key.
func timeKey(t time.Time) []byte {
	k := make([]byte, 16)
	if t.After(time.Unix(0, 0)) {
		binary.BigEndian.PutUint64(k, uint64(t.UnixNano()))
	}
	return k
}
