package hub_test

import (
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"telchat/hub"
	"telchat/internal/servertest"
	"telchat/store"
	"telchat/store/boltstore"
)

// outOfReach is a disk store whose account writes can be made to fail as
// a cluster's do while its link is down.
type outOfReach struct {
	*boltstore.DB
	down atomic.Bool
}

func (o *outOfReach) CreateAccount(key, loose string, a store.Account, done func(error)) {
	if o.down.Load() {
		go done(store.ErrUnavailable)
		return
	}
	o.DB.CreateAccount(key, loose, a, done)
}

func (o *outOfReach) DeleteAccount(key, loose string, done func(error)) {
	if o.down.Load() {
		go done(store.ErrUnavailable)
		return
	}
	o.DB.DeleteAccount(key, loose, done)
}

// TestAccountWritesRefused: a registration or removal the store refuses
// is undone: the name is not registered, or stays registered (its owner
// still logged in), and the user gets one clear line.
func TestAccountWritesRefused(t *testing.T) {
	db, err := boltstore.Open(t.TempDir(), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(t.Context()) })
	st := &outOfReach{DB: db}
	s := servertest.Start(t, servertest.Config{Hub: hub.Config{Archive: st, BcryptCost: bcrypt.MinCost}})

	register := func(c *servertest.Client) string {
		c.Send("/register")
		c.ExpectText("Password: ")
		c.Send("a fine secret")
		c.ExpectText("Again: ")
		c.Send("a fine secret")
		return c.Line()
	}
	alice := s.Login(t, "alice")
	st.down.Store(true)
	if l := register(alice); l != "! Accounts cannot be checked right now; try again in a moment" {
		t.Errorf("registration refused by the store: %q", l)
	}
	alice.Send("/passwd")
	alice.Expect("! Your nickname is not registered")
	st.down.Store(false)
	if l := register(alice); !strings.Contains(l, "alice is registered to you") {
		t.Fatalf("registration: %q", l)
	}

	st.down.Store(true)
	alice.Send("/unregister")
	alice.ExpectText("your password: ")
	alice.Send("a fine secret")
	alice.Expect("! Accounts cannot be checked right now; try again in a moment")
	alice.Send("/passwd") // still hers
	alice.ExpectText("Current password: ")
	alice.Send("a fine secret")
	alice.ExpectText("New password: ")
	alice.Send("another secret")
	alice.ExpectText("Again: ")
	alice.Send("another secret")
	alice.Expect("*** Password changed")
	alice.Send("/quit")
	alice.ExpectEOF()
	other := s.Dial(t)
	other.ExpectPrompt()
	other.Send("aIice")
	other.Expect("registered name alice")
}
