package cluster_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"telchat/store"
	"telchat/usertext"
)

// BenchmarkAccountCreate: one registration's store round trip (a
// key-value Create through the account worker), one at a time.
func BenchmarkAccountCreate(b *testing.B) {
	ns := startNATS(b, b.TempDir(), -1)
	a := startNode(b, ns.ClientURL(), "A", 30*time.Second)
	done := make(chan error, 1)
	acc := store.Account{Nick: "x", Hash: []byte("$2a$04$hash"), Created: time.Now()}
	b.ResetTimer()
	for i := range b.N {
		key := "user" + strconv.Itoa(i)
		acc.Nick = key
		a.archive.CreateAccount(key, key, acc, func(err error) { done <- err })
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAccountLogin: what a login adds in a cluster: the account read
// before the password check and the last-seen update (Get, then Get and
// Update), one at a time.
func BenchmarkAccountLogin(b *testing.B) {
	ns := startNATS(b, b.TempDir(), -1)
	a := startNode(b, ns.ClientURL(), "A", 30*time.Second)
	done := make(chan error, 1)
	a.archive.CreateAccount("bob", "bob", store.Account{Nick: "bob", Hash: []byte("$2a$04$hash")}, func(err error) { done <- err })
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		a.archive.Account("bob", "bob", func(_ store.Account, found bool, err error) {
			if err == nil && !found {
				err = store.ErrNoAccount
			}
			done <- err
		})
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		a.archive.UpdateAccount("bob", "bob", func(s *store.Account) { s.LastSeen = now }, func(err error) { done <- err })
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOfflineTake: ten offline messages kept and handed out: ns/op
// for the ten puts and the take. The take first takes what the disk store
// kept before the server joined, a write that waits for the store's next
// batch (up to its sync interval, 100 ms): that wait is most of ns/op.
func BenchmarkOfflineTake(b *testing.B) {
	ns := startNATS(b, b.TempDir(), -1)
	a := startNode(b, ns.ClientURL(), "A", 30*time.Second)
	errs := make(chan error, 10)
	taken := make(chan int, 1)
	b.ResetTimer()
	for range b.N {
		for i := range 10 {
			a.archive.PutOffline("bob", store.Offline{Time: time.Now(), From: "ann", Text: strconv.Itoa(i)}, func(err error) { errs <- err })
		}
		for range 10 {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
		a.archive.TakeOffline("bob", func(o []store.Offline, err error) {
			if err != nil {
				b.Error(err)
			}
			taken <- len(o)
		})
		if n := <-taken; n != 10 {
			b.Fatalf("took %d, want 10", n)
		}
	}
}

// BenchmarkAccountsAtStart: a server that starts beside 10,000 accounts:
// ns/op is its link's Start, which returns once its hub has them all.
func BenchmarkAccountsAtStart(b *testing.B) {
	ns := startNATS(b, b.TempDir(), -1)
	a := startNode(b, ns.ClientURL(), "A", 30*time.Second)
	const n = 10000
	local := make(map[string]store.Account, n)
	for i := range n {
		nick := "user" + strconv.Itoa(i)
		local[nick] = store.Account{Nick: nick, Hash: []byte("$2a$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234"), Created: time.Now()}
	}
	if copied, _, err := a.link.ImportAccounts(context.Background(), local, usertext.NickRules{}.Lookalike); err != nil || copied != n {
		b.Fatalf("import: %d, %v", copied, err)
	}
	b.ResetTimer()
	for i := range b.N {
		nd := newNode(b, ns.ClientURL(), "S"+strconv.Itoa(i), 30*time.Second, true)
		if err := nd.link.Start(nd.Hub); err != nil {
			b.Fatal(err)
		}
	}
}
