package cluster

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"telchat/hub"
	"telchat/store"
)

// Accounts (registered nicknames) are shared through the key-value bucket
// AccountBucket(name): one key per look-alike key (the same key as the
// nickname bucket's), its value the account as the disk store encodes it
// (store.EncodeAccount: nickname, bcrypt hash, created, last seen,
// operator). A registration is a Create, so of two servers registering
// one name (or two look-alikes) at the same moment exactly one wins; a
// change (password, operator flag, last seen) is an Update naming the
// revision read, retried on a conflict, so two changes made at once on
// two servers both hold; /unregister and /drop delete the key. Every
// server watches the bucket and hands each account, and every change,
// to its hub (hub.ClusterAccount), which keeps its index of accounts for
// the nickname prompt, look-alike refusal, /accounts and offline
// messages; a login reads its account from the bucket before checking the
// password, so a password changed a moment ago on another server is the
// one asked for. Writes run in order on one goroutine; reads on their
// own, a few at a time. While the link is down every request fails at
// once with an error wrapping store.ErrUnavailable.

// AccountBucket is the name of the key-value bucket of a cluster's
// accounts.
func AccountBucket(name string) string { return "telchat_" + name + "_accounts" }

// Bounds on the account requests.
const (
	// accountQueue bounds the writes waiting for the account worker.
	accountQueue = 4096
	// accountReads bounds the reads running at once.
	accountReads = 8
	// updateTries bounds the attempts of one change against concurrent
	// changes of the same account.
	updateTries = 8
)

// errAccountsBusy refuses a write when the worker's queue is full.
var errAccountsBusy = fmt.Errorf("%w: too many account changes waiting", store.ErrUnavailable)

// accounts is a Link's side of the account bucket.
type accounts struct {
	l       *Link
	kv      jetstream.KeyValue
	js      jetstream.JetStream
	offline jetstream.Stream // offline messages (offline.go)

	mu     sync.Mutex
	closed bool           // guarded by mu: the worker stopped taking requests
	queue  chan func()    // writes, to the worker; sent under mu
	reads  chan struct{}  // semaphore of accountReads
	readWG sync.WaitGroup // reads running; Add under mu
}

// openAccounts opens (creating it if needed) the account bucket.
func (l *Link) openAccounts(ctx context.Context, js jetstream.JetStream) error {
	kv, err := openBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket:      AccountBucket(l.cfg.Name),
		Description: "telchat accounts: key = look-alike key (n.KEY or x.HEX), value = the account record (nickname, bcrypt hash, times, operator)",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    l.cfg.Replicas,
	}, l.cfg.setupTimeout())
	if err != nil {
		return err
	}
	l.acc = &accounts{l: l, kv: kv,
		queue: make(chan func(), accountQueue), reads: make(chan struct{}, accountReads)}
	return l.acc.openOffline(ctx, js)
}

// start starts the worker and the watch (see watch.go), and waits until
// the hub has been handed every account in the bucket: a server takes no
// login before it knows which names are registered.
func (a *accounts) start() error {
	l := a.l
	loaded, err := l.watchBucket(a.kv, AccountBucket(l.cfg.Name), func(e jetstream.KeyValueEntry, _ bool) {
		if ev, ok := a.event(e); ok {
			l.toSink(ev)
		}
	})
	if err != nil {
		return err
	}
	l.wg.Add(1)
	go a.worker()
	t := time.NewTimer(4 * l.cfg.OpTimeout)
	defer t.Stop()
	select {
	case <-loaded:
		return nil
	case <-l.stop:
		return fmt.Errorf("cluster: closed while reading the accounts in %s", AccountBucket(l.cfg.Name))
	case <-t.C:
		return fmt.Errorf("cluster: reading the accounts in %s took too long", AccountBucket(l.cfg.Name))
	}
}

// event turns a bucket entry into the hub's event.
func (a *accounts) event(e jetstream.KeyValueEntry) (hub.ClusterEvent, bool) {
	loose, ok := keyOfBucketKey(e.Key())
	if !ok {
		a.l.log.Warn().Str("key", e.Key()).Msg("unknown key in the account bucket; ignored")
		return hub.ClusterEvent{}, false
	}
	ev := hub.ClusterEvent{Kind: hub.ClusterAccount, AccountKey: loose}
	if e.Operation() != jetstream.KeyValuePut {
		return ev, true
	}
	acc, err := store.DecodeAccount(e.Value())
	if err != nil {
		a.l.log.Warn().Err(err).Str("key", e.Key()).Msg("bad account record in the bucket; ignored")
		return hub.ClusterEvent{}, false
	}
	ev.Account = &acc
	return ev, true
}

// keyOfBucketKey is the look-alike key of a bucket key (see bucketKey).
func keyOfBucketKey(k string) (string, bool) {
	if s, ok := strings.CutPrefix(k, "n."); ok && s != "" {
		return s, true
	}
	if s, ok := strings.CutPrefix(k, "x."); ok {
		b, err := hex.DecodeString(s)
		return string(b), err == nil && len(b) > 0
	}
	return "", false
}

// worker runs the writes in order until the link closes, then the writes
// still queued (within Close's time), and waits for the reads.
func (a *accounts) worker() {
	defer a.l.wg.Done()
	for {
		select {
		case fn := <-a.queue:
			fn()
		case <-a.l.stop:
			a.mu.Lock()
			a.closed = true
			a.mu.Unlock()
			for drained := false; !drained; {
				select {
				case fn := <-a.queue:
					fn()
				default:
					drained = true
				}
			}
			a.readWG.Wait()
			return
		}
	}
}

// write queues fn for the worker; done (if not nil) gets an error at once
// when it cannot be queued.
func (a *accounts) write(fn func(), done func(error)) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		reply(done, fmt.Errorf("%w: the cluster link is closed", store.ErrUnavailable))
		return
	}
	select {
	case a.queue <- fn:
		a.mu.Unlock()
	default:
		a.mu.Unlock()
		reply(done, errAccountsBusy)
	}
}

// reply calls done (if not nil) with err on a goroutine of its own: done
// must never run on the caller's (the hub's).
func reply(done func(error), err error) {
	if done != nil {
		go done(err)
	}
}

// unavailable wraps a failed request: the link is down, or NATS did not
// answer in time.
func unavailable(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", store.ErrUnavailable, what, err)
}

// up checks the link before a request.
func (a *accounts) up() error {
	if !a.l.nc.IsConnected() {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, errLinkDown)
	}
	return nil
}

// create registers acc under look-alike key loose.
func (a *accounts) create(loose string, acc store.Account) error {
	if err := a.up(); err != nil {
		return err
	}
	ctx, cancel := a.l.opContext()
	defer cancel()
	_, err := a.kv.Create(ctx, bucketKey(loose), store.EncodeAccount(acc))
	switch {
	case errors.Is(err, jetstream.ErrKeyExists) || wrongLastSequence(err):
		// The second: a name removed before, registered at the same
		// moment by another server (Create then updates the delete
		// marker, and reports the conflict as it is).
		return store.ErrAccountExists
	case err != nil:
		return unavailable("registering "+acc.Nick, err)
	}
	return nil
}

// wrongLastSequence reports whether err is JetStream's answer to a write
// that expected another last revision (code 10071; 10164 on replicated
// streams).
func wrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// update applies change to the account under loose, reading it and
// writing it back at the revision read, again if another server changed
// it meanwhile.
func (a *accounts) update(loose string, change func(*store.Account)) error {
	k := bucketKey(loose)
	for range updateTries {
		if err := a.up(); err != nil {
			return err
		}
		err := func() error {
			ctx, cancel := a.l.opContext()
			defer cancel()
			e, err := a.kv.Get(ctx, k)
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				return store.ErrNoAccount
			}
			if err != nil {
				return unavailable("reading an account", err)
			}
			acc, err := store.DecodeAccount(e.Value())
			if err != nil {
				return fmt.Errorf("cluster: account %s: %w", k, err)
			}
			change(&acc)
			_, err = a.kv.Update(ctx, k, store.EncodeAccount(acc), e.Revision())
			if err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
				return unavailable("changing an account", err)
			}
			return err
		}()
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return err
		}
	}
	return unavailable("changing an account", errors.New("changed elsewhere too often; try again"))
}

// remove deletes the account under loose.
func (a *accounts) remove(loose string) error {
	if err := a.up(); err != nil {
		return err
	}
	ctx, cancel := a.l.opContext()
	defer cancel()
	if err := a.kv.Delete(ctx, bucketKey(loose)); err != nil {
		return unavailable("removing an account", err)
	}
	return nil
}

// read reads the account under loose (see readFn) and hands it to done.
func (a *accounts) read(loose string, done func(store.Account, bool, error)) {
	a.readFn(func() {
		acc, found, err := a.get(loose)
		done(acc, found, err)
	}, func(err error) { done(store.Account{}, false, err) })
}

// readFn runs fn on a goroutine of its own, at most accountReads at once;
// once the link is closing it calls refused instead, on a goroutine of
// its own too.
func (a *accounts) readFn(fn func(), refused func(error)) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		go refused(fmt.Errorf("%w: the cluster link is closed", store.ErrUnavailable))
		return
	}
	a.readWG.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.readWG.Done()
		a.reads <- struct{}{}
		defer func() { <-a.reads }()
		fn()
	}()
}

func (a *accounts) get(loose string) (store.Account, bool, error) {
	if err := a.up(); err != nil {
		return store.Account{}, false, err
	}
	ctx, cancel := a.l.opContext()
	defer cancel()
	e, err := a.kv.Get(ctx, bucketKey(loose))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return store.Account{}, false, nil
	}
	if err != nil {
		return store.Account{}, false, unavailable("reading an account", err)
	}
	acc, err := store.DecodeAccount(e.Value())
	if err != nil {
		return store.Account{}, false, fmt.Errorf("cluster: account %s: %w", e.Key(), err)
	}
	return acc, true, nil
}

// ImportAccounts copies accounts (a server's own, from its disk store, by
// nickname key) into the account bucket, for a server that joins a
// cluster with accounts of its own: each goes in unless its look-alike
// key (lookalike of its nickname) is in the bucket already, in which case
// the cluster's account is kept and this one's nickname is returned in
// kept. Call it before Start, once per store (the caller remembers that it
// did: an account removed from the cluster later must not come back).
func (l *Link) ImportAccounts(ctx context.Context, local map[string]store.Account, lookalike func(string) string) (copied int, kept []string, err error) {
	for _, acc := range local {
		loose := lookalike(acc.Nick)
		if loose == "" {
			kept = append(kept, acc.Nick)
			continue
		}
		octx, cancel := context.WithTimeout(ctx, l.cfg.OpTimeout)
		_, err := l.acc.kv.Create(octx, bucketKey(loose), store.EncodeAccount(acc))
		cancel()
		switch {
		case errors.Is(err, jetstream.ErrKeyExists):
			kept = append(kept, acc.Nick)
		case err != nil:
			return copied, kept, fmt.Errorf("cluster: copying the account %s to %s: %w", acc.Nick, AccountBucket(l.cfg.Name), err)
		default:
			copied++
		}
	}
	return copied, kept, nil
}

// CreateAccount registers a nickname in the account bucket (hub.Archive).
func (a *Archive) CreateAccount(key, loose string, acc store.Account, done func(error)) {
	ac := a.link.acc
	ac.write(func() { replyNow(done, ac.create(loose, acc)) }, done)
}

// UpdateAccount changes an account in the bucket (hub.Archive).
func (a *Archive) UpdateAccount(key, loose string, change func(*store.Account), done func(error)) {
	ac := a.link.acc
	ac.write(func() { replyNow(done, ac.update(loose, change)) }, done)
}

// Account reads an account from the bucket (hub.Archive).
func (a *Archive) Account(key, loose string, done func(store.Account, bool, error)) {
	a.link.acc.read(loose, done)
}

// DeleteAccount removes an account from the bucket and its offline
// messages from the stream (hub.Archive), and this server's own copy and
// offline messages, if any, from its disk.
func (a *Archive) DeleteAccount(key, loose string, done func(error)) {
	ac := a.link.acc
	ac.write(func() {
		err := ac.remove(loose)
		if err == nil {
			if perr := ac.purgeOffline(key); perr != nil {
				ac.l.log.Warn().Err(perr).Msg("the removed account's offline messages were not removed; they expire on their own")
			}
			a.Archive.DeleteAccount(key, loose, nil)
		}
		replyNow(done, err)
	}, done)
}

// replyNow calls done, if not nil, on the caller's goroutine (a worker's).
func replyNow(done func(error), err error) {
	if done != nil {
		done(err)
	}
}
