package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"telchat/hub"
)

// Nicknames are unique in the cluster through the key-value bucket
// NickBucket(name): a user's name is accepted only once this server has
// created the key of its look-alike key (Create succeeds for one server
// only: of two servers taking a name at the same moment exactly one wins).
// The value names the server and the nickname. The bucket's TTL is
// Config.Timeout, and the server renews its claims every Timeout/3, so
// the claims of a server that dies expire with its presence. A user who
// leaves or renames releases the claim (a delete that names the revision,
// so a claim that expired and was taken by another server is never
// deleted). All requests run on one goroutine, the claims worker, in the
// order the hub made them: a release always reaches NATS before a later
// claim of the same name.

// claimQueue bounds the claims and releases waiting for the worker.
const claimQueue = 4096

type opKind uint8

const (
	opClaim opKind = iota + 1
	opRelease
	opRenew
	opAdmin      // a change to the admin state (adminstate.go)
	opDeleteDead // the record of a mute lifted or run out, or of a ban lifted
)

type claimOp struct {
	kind      opKind
	key, nick string
	done      func(error)
	ev        hub.ClusterEvent // opAdmin
	rev       uint64           // opDeleteDead
}

// errClaimsBusy refuses a claim when the worker's queue is full.
var errClaimsBusy = errors.New("cluster: too many nickname claims waiting")

// errLinkDown refuses a claim while the NATS connection is down.
var errLinkDown = errors.New("cluster: the NATS connection is down")

// bucketKey turns a look-alike key into a bucket key ([-_=./a-zA-Z0-9]):
// "n." and the key itself when it is plain lower-case ASCII, else "x."
// and its bytes in hex.
func bucketKey(key string) string {
	plain := key != ""
	for i := 0; plain && i < len(key); i++ {
		b := key[i]
		plain = 'a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '_' || b == '-'
	}
	if plain {
		return "n." + key
	}
	return fmt.Sprintf("x.%x", key)
}

// claimValue is what a claim holds: the server id and the nickname.
func (l *Link) claimValue(nick string) []byte { return []byte(l.cfg.ServerID + "\n" + nick) }

// Claim claims the look-alike key for nick (hub.Claimer); done is called
// on the worker's goroutine, or on one of its own.
func (l *Link) Claim(key, nick string, done func(error)) {
	if !l.enqueueOp(claimOp{kind: opClaim, key: key, nick: nick, done: done}) {
		go done(errClaimsBusy)
	}
}

// Release gives up the claim on key (hub.Claimer).
func (l *Link) Release(key string) {
	if !l.enqueueOp(claimOp{kind: opRelease, key: key}) {
		l.log.Warn().Str("key", key).Msg("nickname release dropped (queue full); the claim expires on its own")
	}
}

func (l *Link) enqueueOp(op claimOp) bool {
	l.sendMu.RLock()
	defer l.sendMu.RUnlock()
	if l.closed.Load() {
		return false
	}
	select {
	case l.ops <- op:
		return true
	default:
		return false
	}
}

// claimsWorker runs the claims, releases and renewals in order.
func (l *Link) claimsWorker() {
	defer l.wg.Done()
	held := map[string]uint64{} // bucket key -> revision of our claim
	nicks := map[string]string{}
	t := time.NewTicker(l.cfg.Timeout / 3)
	defer t.Stop()
	for {
		select {
		case op, ok := <-l.ops:
			if !ok {
				return
			}
			switch op.kind {
			case opClaim:
				err := l.claim(held, nicks, op.key, op.nick)
				op.done(err)
			case opRelease:
				l.release(held, nicks, op.key)
			case opRenew:
				l.renew(held, nicks)
			case opAdmin:
				l.putAdmin(op.ev)
			case opDeleteDead:
				l.deleteDead(op.key, op.rev)
			}
		case <-t.C:
			if !l.killed.Load() {
				l.renew(held, nicks)
			}
		}
	}
}

func (l *Link) opContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), l.cfg.OpTimeout)
}

func (l *Link) claim(held map[string]uint64, nicks map[string]string, key, nick string) error {
	k := bucketKey(key)
	if !l.nc.IsConnected() {
		return errLinkDown
	}
	ctx, cancel := l.opContext()
	defer cancel()
	rev, err := l.kv.Create(ctx, k, l.claimValue(nick))
	if errors.Is(err, jetstream.ErrKeyExists) {
		e, gerr := l.kv.Get(ctx, k)
		if gerr != nil {
			if errors.Is(gerr, jetstream.ErrKeyNotFound) {
				return fmt.Errorf("%w (it was just released; try again)", hub.ErrNickTaken)
			}
			return fmt.Errorf("cluster: reading claim %s: %w", k, gerr)
		}
		server, _, _ := strings.Cut(string(e.Value()), "\n")
		if _, ours := held[k]; server != l.cfg.ServerID || ours {
			return fmt.Errorf("%w (on server %s)", hub.ErrNickTaken, server)
		}
		// Ours from before a restart with the same server id: nobody
		// here holds it any more.
		rev, err = l.kv.Update(ctx, k, l.claimValue(nick), e.Revision())
	}
	if err != nil {
		return fmt.Errorf("cluster: claiming %s: %w", k, err)
	}
	held[k], nicks[k] = rev, nick
	return nil
}

func (l *Link) release(held map[string]uint64, nicks map[string]string, key string) {
	k := bucketKey(key)
	rev, ok := held[k]
	if !ok {
		return
	}
	delete(held, k)
	delete(nicks, k)
	if !l.nc.IsConnected() {
		return // it expires on its own
	}
	ctx, cancel := l.opContext()
	defer cancel()
	if err := l.kv.Delete(ctx, k, jetstream.LastRevision(rev)); err != nil {
		l.log.Debug().Err(err).Str("key", k).Msg("nickname release failed; the claim expires on its own")
	}
}

// renew refreshes every claim this server holds, so that it does not
// expire; a claim found lost (expired and taken by another server while
// this one could not renew) is logged.
func (l *Link) renew(held map[string]uint64, nicks map[string]string) {
	if !l.nc.IsConnected() {
		return
	}
	for k, rev := range held {
		ctx, cancel := l.opContext()
		nrev, err := l.kv.Update(ctx, k, l.claimValue(nicks[k]), rev)
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			nrev, err = l.reclaim(ctx, k, nicks[k])
		}
		cancel()
		if err == nil {
			held[k] = nrev
		}
	}
}

// errClaimLost: another server holds a claim this server held.
var errClaimLost = errors.New("cluster: nickname claim lost to another server")

// reclaim renews a claim whose update at the revision this server knew
// failed: the key still holds this server's claim at another revision
// (an update that was stored but whose answer was lost, as while
// JetStream settles after a NATS restart), or it expired meanwhile and is
// taken again if nobody else has. A claim another server holds is logged.
func (l *Link) reclaim(ctx context.Context, k, nick string) (uint64, error) {
	val := l.claimValue(nick)
	e, err := l.kv.Get(ctx, k)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		rev, err := l.kv.Create(ctx, k, val)
		if errors.Is(err, jetstream.ErrKeyExists) {
			l.log.Warn().Str("key", k).Str("nick", nick).Msg("nickname claim lost to another server")
		}
		return rev, err
	case err != nil:
		return 0, fmt.Errorf("cluster: reading claim %s: %w", k, err)
	case string(e.Value()) != string(val):
		l.log.Warn().Str("key", k).Str("nick", nick).Msg("nickname claim lost to another server")
		return 0, errClaimLost
	}
	return l.kv.Update(ctx, k, val, e.Revision())
}
