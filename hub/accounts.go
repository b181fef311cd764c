package hub

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"telchat/message"
	"telchat/store"
	"telchat/usertext"
)

// The bounds on accounts and their passwords.
const (
	// MinPassword and MaxPassword bound an account password, in bytes.
	MinPassword = 8
	MaxPassword = 128
	// loginTries is how many wrong passwords a login may give before the
	// name is refused.
	loginTries = 3
	// maxRegisterAddrs bounds the addresses counted for
	// Config.AccountsPerDay; past it, registration waits for the next day.
	maxRegisterAddrs = 65536
)

// Errors of the account commands.
var (
	ErrNoAccounts   = errors.New("accounts need the store; not enabled on this server")
	ErrRegistered   = errors.New("that nickname is registered")
	ErrNotOwner     = errors.New("your nickname is not registered")
	ErrNoAccount    = errors.New("no such account")
	ErrPasswordSize = fmt.Errorf("a password is %d to %d bytes", MinPassword, MaxPassword)
	// ErrAccountsDown: the store that keeps the accounts (a cluster's)
	// cannot be reached for now.
	ErrAccountsDown = errors.New("accounts cannot be checked right now; try again in a moment")
)

// account is a registered nickname in the hub's index.
type account struct {
	key, loose string
	store.Account
	// pending: registered here, not yet confirmed by the store (which may
	// refuse it: a look-alike registered at the same moment elsewhere).
	pending bool
}

// accountIndex is every account, by nickname key and by look-alike key. It
// belongs to the hub goroutine.
type accountIndex struct {
	byKey   map[string]*account
	byLoose map[string]*account
	// registered counts the accounts made from each address group on day.
	day        int
	registered map[netip.Prefix]int
}

// secretKind says what a password prompt is for.
type secretKind uint8

const (
	secretNone       secretKind = iota
	secretLogin                 // at the nickname prompt, for a registered name
	secretRegister              // /register: the new password
	secretRegister2             // /register: the same again
	secretPasswdOld             // /passwd: the current password
	secretPasswdNew             // /passwd: the new password
	secretPasswdNew2            // /passwd: the same again
	secretUnregister            // /unregister: the password
)

// secretState is a connection's password dialogue. The lines it reads are
// never logged, echoed by the hub or run as commands.
type secretState struct {
	kind     secretKind
	nick     string // secretLogin: the name being logged in to
	id       nickID
	tries    int
	first    string    // the password typed before "again"
	checking bool      // a check is running: lines are refused meanwhile
	since    time.Time // when the login prompt began (nickname timeout)
	told     bool      // told that the client shows what is typed
}

// loadAccounts indexes the accounts loaded at start.
func (h *Hub) loadAccounts(accounts map[string]store.Account) {
	h.accts.byKey = make(map[string]*account, len(accounts))
	h.accts.byLoose = make(map[string]*account, len(accounts))
	h.accts.registered = make(map[netip.Prefix]int)
	for key, a := range accounts {
		h.indexAccount(&account{key: key, loose: h.cfg.Nick.Lookalike(a.Nick), Account: a})
	}
}

func (h *Hub) indexAccount(a *account) {
	h.accts.byKey[a.key] = a
	if a.loose != "" {
		h.accts.byLoose[a.loose] = a
	}
}

func (h *Hub) unindexAccount(a *account) {
	if h.accts.byKey[a.key] == a {
		delete(h.accts.byKey, a.key)
	}
	if a.loose != "" && h.accts.byLoose[a.loose] == a {
		delete(h.accts.byLoose, a.loose)
	}
}

// registered returns the account that nickname id is, or looks like.
func (h *Hub) registered(id nickID) *account {
	if a, ok := h.accts.byKey[id.key]; ok {
		return a
	}
	if id.loose != "" {
		return h.accts.byLoose[id.loose]
	}
	return nil
}

// accountsOn reports whether this hub keeps accounts.
func (h *Hub) accountsOn() bool { return h.cfg.Archive != nil }

// askSecret asks a password question: text is lines to show, then the
// prompt (after the last "\n"). A terminal in character mode asks without
// echo (Terminal.AskSecret); otherwise the client shows what is typed, and
// the first time on a connection the user is told so.
func (h *Hub) askSecret(c *Conn, text string) {
	head, prompt := "", text
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		head, prompt = text[:i], text[i+1:]
	}
	if t, ok := c.peer.(Terminal); ok {
		if head != "" {
			c.peer.Deliver(&message.Message{Kind: message.Reply, Text: head, Time: time.Now()})
		}
		if t.AskSecret(prompt, "") {
			return
		}
		text = prompt // the head is out
	}
	if !c.secret.told {
		c.secret.told = true
		text = "(Your client shows what you type: make sure nobody is watching your screen.)\n" + text
	}
	c.peer.Deliver(h.prompt(text))
}

// startLogin asks for the password of the registered name display, chosen
// at the nickname prompt.
func (h *Hub) startLogin(c *Conn, a *account) {
	if c.secret == nil {
		c.secret = &secretState{}
	}
	told := c.secret.told
	*c.secret = secretState{kind: secretLogin, nick: a.Nick, id: nickID{key: a.key, loose: a.loose}, since: time.Now(), told: told}
	h.askSecret(c, a.Nick+" is a registered nickname.\nPassword: ")
}

// endSecret ends the dialogue (keeping the notice's memory).
func (c *Conn) endSecret() {
	if c.secret != nil {
		*c.secret = secretState{told: c.secret.told}
	}
}

// secretLine handles a line typed at a password prompt.
func (h *Hub) secretLine(c *Conn, line string) {
	s := c.secret
	if s.checking {
		c.peer.Deliver(h.textLine("! Your password is still being checked"))
		return
	}
	if line == "" {
		kind := s.kind
		c.endSecret()
		if kind == secretLogin {
			c.peer.Deliver(h.prompt("Choose a nickname: "))
		} else {
			h.deliver(c, h.textLine("*** Cancelled"))
		}
		return
	}
	switch s.kind {
	case secretLogin:
		h.loginPassword(c, line)
	case secretRegister, secretPasswdNew:
		if len(line) < MinPassword || len(line) > MaxPassword {
			h.askSecret(c, "! "+usertext.Sentence(ErrPasswordSize.Error())+"\nPassword: ")
			return
		}
		s.first = line
		if s.kind == secretRegister {
			s.kind = secretRegister2
		} else {
			s.kind = secretPasswdNew2
		}
		h.askSecret(c, "Again: ")
	case secretRegister2, secretPasswdNew2:
		if line != s.first {
			s.first = ""
			if s.kind == secretRegister2 {
				s.kind = secretRegister
			} else {
				s.kind = secretPasswdNew
			}
			h.askSecret(c, "! The two passwords differ; once more.\nPassword: ")
			return
		}
		h.setPassword(c, line, s.kind == secretRegister2)
	case secretPasswdOld, secretUnregister:
		h.checkOwnPassword(c, line)
	}
}

// loginPassword checks a password given for a registered name at the
// nickname prompt.
func (h *Hub) loginPassword(c *Conn, pw string) {
	s := c.secret
	a := h.accts.byKey[s.id.key]
	if a == nil { // dropped meanwhile: the name is free
		nick, id := s.nick, s.id
		c.endSecret()
		h.claimFree(c, nick, id)
		return
	}
	// The account as stored now: in a cluster it may have changed on
	// another server a moment ago (a new password).
	s.checking = true
	h.cfg.Archive.Account(a.key, a.loose, func(fresh store.Account, found bool, err error) {
		h.post(func() { h.loginFetched(c, pw, fresh, found, err) })
	})
}

// loginFetched checks a login's password against the account as read
// from the store.
func (h *Hub) loginFetched(c *Conn, pw string, fresh store.Account, found bool, err error) {
	if _, present := h.conns[c]; !present || c.secret == nil || c.secret.kind != secretLogin || !c.secret.checking {
		return
	}
	defer h.resume(c) // unless the password check below keeps it busy
	s := c.secret
	s.checking = false
	if err != nil {
		h.log.Warn().Err(err).Str("session", c.ID).Str("remote", c.Remote).Str("nick", s.nick).Msg("account not readable for a login")
		c.endSecret()
		c.peer.Deliver(h.prompt("! " + usertext.Sentence(ErrAccountsDown.Error()) + "\nChoose a nickname: "))
		return
	}
	a := h.accts.byKey[s.id.key]
	if !found {
		if a != nil && !a.pending {
			h.unindexAccount(a) // removed elsewhere; its removal is on its way
		}
		nick, id := s.nick, s.id
		c.endSecret()
		h.claimFree(c, nick, id)
		return
	}
	if a == nil || a.pending {
		a = &account{key: s.id.key, loose: s.id.loose}
		h.indexAccount(a)
	}
	a.Account = fresh
	hash := a.Hash
	err = h.passwordWork(c, true, func() bool {
		return bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil
	}, func(ok bool) { h.loginChecked(c, a, ok) })
	if err != nil {
		// A wait, not a wrong password: the prompt stays.
		h.askSecret(c, "! "+usertext.Sentence(err.Error())+"\nPassword: ")
		return
	}
	s.checking = true
}

// loginChecked answers a login's password check.
func (h *Hub) loginChecked(c *Conn, a *account, ok bool) {
	if _, present := h.conns[c]; !present || c.secret == nil || c.secret.kind != secretLogin {
		return
	}
	s := c.secret
	s.checking = false
	if !ok {
		s.tries++
		h.log.Warn().Str("session", c.ID).Str("remote", c.Remote).Str("nick", a.Nick).Int("tries", s.tries).Msg("wrong account password")
		if s.tries >= loginTries {
			c.endSecret()
			c.peer.Deliver(h.prompt("! Wrong password " + itoa(loginTries) + " times; choose another nickname.\nChoose a nickname: "))
			return
		}
		h.askSecret(c, "! Wrong password\nPassword: ")
		return
	}
	c.endSecret()
	if h.accts.byKey[a.key] != a {
		c.peer.Deliver(h.prompt("! That account was just removed; choose a nickname.\nChoose a nickname: "))
		return
	}
	id := nickID{key: a.key, loose: a.loose}
	if err := h.nickInUse(id, c); err != nil {
		c.peer.Deliver(h.prompt("! " + usertext.Sentence(err.Error()) + "\nChoose a nickname: "))
		return
	}
	if h.refuseBanned(c, id) {
		return
	}
	c.loggedIn = true
	now := time.Now()
	a.LastSeen = now
	h.cfg.Archive.UpdateAccount(a.key, a.loose, func(s *store.Account) { s.LastSeen = now }, nil)
	h.log.Info().Str("session", c.ID).Str("remote", c.Remote).Str("nick", a.Nick).Msg("logged in")
	h.admit(c, a.Nick, id)
}

// loggedInWelcome follows the welcome of a user who logged in to its
// account (once the cluster, if any, gave it the name): an operator
// account makes it an admin, and its offline messages come.
func (h *Hub) loggedInWelcome(c *Conn) {
	a := h.accts.byKey[c.key]
	if a == nil {
		return
	}
	if a.Oper && !c.admin {
		c.admin = true
		h.deliver(c, h.textLine("*** Your account is an operator: you are now an admin"))
	}
	h.deliverOffline(c, a.key)
}

// claimFree names c with a free (unregistered) name, as the nickname
// prompt does once the checks passed.
func (h *Hub) claimFree(c *Conn, display string, id nickID) {
	if err := h.nickInUse(id, c); err != nil {
		c.peer.Deliver(h.prompt("! " + usertext.Sentence(err.Error()) + "\nChoose a nickname: "))
		return
	}
	if h.refuseBanned(c, id) {
		return
	}
	h.admit(c, display, id)
}

// checkSecretTimeout, every tick, refuses the name of an unnamed
// connection that has not given its password within the nickname timeout;
// it may choose another (within a new timeout).
func (h *Hub) checkSecretTimeout(c *Conn, now time.Time) bool {
	s := c.secret
	if s == nil || s.kind != secretLogin || s.checking || now.Sub(s.since) < h.cfg.NickTimeout {
		return false
	}
	c.endSecret()
	c.nickSince = now
	c.peer.Deliver(h.prompt("\n! No password given in time; choose a nickname.\nChoose a nickname: "))
	return true
}

// checkOwnPassword checks the password of the caller's account for
// /passwd or /unregister.
func (h *Hub) checkOwnPassword(c *Conn, pw string) {
	s := c.secret
	a := h.accts.byKey[c.key]
	if a == nil || !c.loggedIn {
		c.endSecret()
		h.deliver(c, h.textLine("! "+usertext.Sentence(ErrNotOwner.Error())))
		return
	}
	hash := a.Hash
	err := h.passwordWork(c, true, func() bool {
		return bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil
	}, func(ok bool) {
		if _, present := h.conns[c]; !present || c.secret == nil {
			return
		}
		c.secret.checking = false
		if !ok {
			h.log.Warn().Str("session", c.ID).Str("remote", c.Remote).Str("nick", c.nick).Msg("wrong account password")
			c.endSecret()
			h.deliver(c, h.textLine("! Wrong password"))
			return
		}
		if c.secret.kind == secretPasswdOld {
			c.secret.kind = secretPasswdNew
			h.askSecret(c, "New password: ")
			return
		}
		c.endSecret()
		h.dropAccount(a, func(err error) {
			if _, present := h.conns[c]; !present {
				return
			}
			if err != nil {
				h.deliver(c, h.textLine("! "+accountError(err)))
				return
			}
			c.loggedIn = false
			h.deliver(c, h.textLine("*** "+a.Nick+" is no longer registered"))
		})
	})
	if err != nil {
		c.endSecret()
		h.deliver(c, h.textLine("! "+usertext.Sentence(err.Error())))
		return
	}
	s.checking = true
}

// setPassword hashes pw off the hub, then registers the caller's name
// (register) or changes its password, and answers once it is on disk.
func (h *Hub) setPassword(c *Conn, pw string, register bool) {
	s := c.secret
	var hash []byte
	cost := h.cfg.BcryptCost
	err := h.passwordWork(c, false, func() bool {
		var err error
		hash, err = bcrypt.GenerateFromPassword([]byte(pw), cost)
		return err == nil
	}, func(ok bool) {
		if _, present := h.conns[c]; !present || c.secret == nil {
			return
		}
		c.endSecret()
		if !ok {
			h.deliver(c, h.textLine("! The password could not be hashed"))
			return
		}
		if register {
			h.finishRegister(c, hash)
			return
		}
		a := h.accts.byKey[c.key]
		if a == nil || !c.loggedIn {
			h.deliver(c, h.textLine("! "+usertext.Sentence(ErrNotOwner.Error())))
			return
		}
		a.Hash = hash
		h.cfg.Archive.UpdateAccount(a.key, a.loose, func(s *store.Account) { s.Hash = hash }, func(err error) {
			h.post(func() { h.answerSaved(c, err, "*** Password changed") })
		})
	})
	if err != nil {
		c.endSecret()
		h.deliver(c, h.textLine("! "+usertext.Sentence(err.Error())))
		return
	}
	s.checking = true
}

// finishRegister makes the caller's name an account with hash.
func (h *Hub) finishRegister(c *Conn, hash []byte) {
	id := nickID{key: c.key, loose: c.loose}
	if h.registered(id) != nil {
		h.deliver(c, h.textLine("! "+usertext.Sentence(ErrRegistered.Error())))
		return
	}
	h.countRegistration(c.Addr)
	now := time.Now()
	a := &account{key: c.key, loose: c.loose, Account: store.Account{Nick: c.nick, Hash: hash, Created: now, LastSeen: now}, pending: true}
	h.indexAccount(a)
	c.loggedIn = true
	addr := c.Addr
	h.cfg.Archive.CreateAccount(a.key, a.loose, a.Account, func(err error) {
		h.post(func() {
			a.pending = false
			if err != nil {
				// Refused (registered a moment ago on another server) or
				// not saved: it was never registered.
				h.unindexAccount(a)
				h.uncountRegistration(addr)
				if c.key == a.key {
					c.loggedIn = false
				}
			} else {
				h.log.Info().Str("session", c.ID).Str("remote", c.Remote).Str("nick", a.Nick).Msg("registered")
			}
			h.answerSaved(c, err, "*** "+a.Nick+" is registered to you: from now on it asks for your password")
		})
	})
}

// answerSaved tells c that a change is on disk, or that it failed.
func (h *Hub) answerSaved(c *Conn, err error, line string) {
	if err != nil && !errors.Is(err, store.ErrAccountExists) && !errors.Is(err, store.ErrNoAccount) {
		h.log.Error().Err(err).Msg("saving an account failed")
	}
	if _, present := h.conns[c]; !present {
		return
	}
	if err != nil {
		h.deliver(c, h.textLine("! "+accountError(err)))
		return
	}
	h.deliver(c, h.textLine(line))
}

// accountError is the one-line answer to a failed account change.
func accountError(err error) string {
	switch {
	case errors.Is(err, store.ErrAccountExists):
		return usertext.Sentence(ErrRegistered.Error()) + " (just now, perhaps on another server)"
	case errors.Is(err, store.ErrNoAccount):
		return "That account was just removed"
	case errors.Is(err, store.ErrUnavailable):
		return usertext.Sentence(ErrAccountsDown.Error())
	}
	return "Not saved: " + err.Error()
}

// accountsDown reports whether the accounts cannot be changed for now:
// they live in the cluster, and this server's link to it is down.
func (h *Hub) accountsDown() bool { return h.clustered() && h.cluster.linkDown }

// dropAccount removes a from the index and the store (with its offline
// messages); done is called on the hub once that is on disk. If the store
// refuses (a cluster's, out of reach), the account is back as it was.
func (h *Hub) dropAccount(a *account, done func(error)) {
	h.unindexAccount(a)
	var owners []*Conn
	for c := range h.conns {
		if c.key == a.key && c.loggedIn {
			c.loggedIn = false
			owners = append(owners, c)
		}
	}
	h.cfg.Archive.DeleteAccount(a.key, a.loose, func(err error) {
		h.post(func() {
			if err != nil && h.accts.byKey[a.key] == nil && h.accts.byLoose[a.loose] == nil {
				h.indexAccount(a)
				for _, c := range owners {
					if _, present := h.conns[c]; present && c.key == a.key {
						c.loggedIn = true
					}
				}
			}
			done(err)
		})
	})
}

// accountChanged applies a change from a shared store (a cluster's): the
// account with look-alike key loose is now a (nil: removed). Its changes
// made here come back this way too; applying one twice changes nothing.
func (h *Hub) accountChanged(loose string, a *store.Account) {
	if a == nil {
		old := h.accts.byLoose[loose]
		if old == nil {
			return
		}
		if old.pending {
			return // registered here since, and not yet answered
		}
		h.unindexAccount(old)
		for c := range h.conns {
			if c.key == old.key {
				c.loggedIn = false // keeps the name for the session, as for /drop
			}
		}
		return
	}
	display, key, err := h.cfg.Nick.CheckNick(a.Nick)
	if err != nil {
		h.log.Warn().Err(err).Str("nick", a.Nick).Msg("an account in the cluster is not a valid nickname here; ignored")
		return
	}
	if l := h.cfg.Nick.Lookalike(display); l != loose {
		h.log.Warn().Str("nick", a.Nick).Msg("an account's look-alike key differs here (do the servers have the same -unicode-nicks?)")
	}
	if old := h.accts.byKey[key]; old != nil && !old.pending {
		// In place: a login being checked keeps its account.
		if old.loose != loose {
			h.unindexAccount(old)
			old.loose = loose
		}
		old.Account = *a
		h.indexAccount(old)
		return
	}
	// New, or replacing a look-alike (or the same name) registered here a
	// moment ago, whose registration the store will refuse.
	if other := h.accts.byLoose[loose]; other != nil {
		h.unindexAccount(other)
	}
	if other := h.accts.byKey[key]; other != nil {
		h.unindexAccount(other)
	}
	h.indexAccount(&account{key: key, loose: loose, Account: *a})
}

// countRegistration counts an account made from addr's group today.
func (h *Hub) countRegistration(addr netip.Addr) {
	h.rollRegistrationDay()
	h.accts.registered[h.AddrGroup(addr)]++
}

// registrationAllowed reports whether addr may register another account
// today.
func (h *Hub) registrationAllowed(addr netip.Addr) bool {
	h.rollRegistrationDay()
	if h.cfg.AccountsPerDay <= 0 {
		return true
	}
	n, ok := h.accts.registered[h.AddrGroup(addr)]
	if !ok && len(h.accts.registered) >= maxRegisterAddrs {
		return false
	}
	return n < h.cfg.AccountsPerDay
}

// uncountRegistration takes back a registration counted for addr that
// did not happen.
func (h *Hub) uncountRegistration(addr netip.Addr) {
	g := h.AddrGroup(addr)
	if n := h.accts.registered[g]; n > 1 {
		h.accts.registered[g] = n - 1
	} else {
		delete(h.accts.registered, g)
	}
}

func (h *Hub) rollRegistrationDay() {
	if d := time.Now().UTC().YearDay(); d != h.accts.day {
		h.accts.day = d
		clear(h.accts.registered)
	}
}
