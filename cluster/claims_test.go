package cluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"telchat/cluster"
	"telchat/internal/servertest"
)

// TestClaimRenewedAtAnotherRevision: a claim whose revision moved without
// this server knowing (an update that was stored but whose answer was
// lost, as while JetStream settles after a NATS restart) is still this
// server's: the renewal takes it at its revision and it never expires
// while its user is online. (Before, the renewal failed, the claim was
// logged "lost to another server", and it expired: for a moment anyone
// anywhere could take the name of a user who was online.)
func TestClaimRenewedAtAnotherRevision(t *testing.T) {
	const timeout = 2 * time.Second
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", timeout)
	a.Login(t, "alice")

	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), servertest.Timeout)
	defer cancel()
	kv, err := js.KeyValue(ctx, cluster.NickBucket("telchat"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.Keys(ctx)
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %q: %v, want alice's claim", keys, err)
	}
	key := keys[0]
	e, err := kv.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	// The same value at a new revision: A's own update, as if its answer
	// had been lost.
	if _, err := kv.Update(ctx, key, e.Value(), e.Revision()); err != nil {
		t.Fatal(err)
	}
	// Over three claim lifetimes the claim is always there, A's.
	end := time.Now().Add(3 * timeout)
	for time.Now().Before(end) {
		got, err := kv.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			t.Fatal("alice's claim expired while she was online")
		case err != nil:
			t.Fatal(err)
		case string(got.Value()) != string(e.Value()):
			t.Fatalf("claim %q, want %q", got.Value(), e.Value())
		}
		time.Sleep(20 * time.Millisecond) // a poll interval, not a synchronization
	}
}
