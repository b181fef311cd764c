package hub

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"time"

	"golang.org/x/crypto/bcrypt"

	"telchat/store"
)

// AccountInfo describes an account for /accounts.
type AccountInfo struct {
	Nick              string
	Created, LastSeen time.Time
	Oper              bool
}

// beginSecret starts a password dialogue of kind on the caller, asking
// question.
func (x *Ctx) beginSecret(kind secretKind, question string) {
	c := x.c
	if c.secret == nil {
		c.secret = &secretState{}
	}
	told := c.secret.told
	*c.secret = secretState{kind: kind, told: told}
	x.h.askSecret(c, question)
}

// Register makes the caller's nickname an account: it asks for a password
// twice, then answers once the account is on disk.
func (x *Ctx) Register() error {
	c, err := x.user()
	if err != nil {
		return err
	}
	h := x.h
	if !h.accountsOn() {
		return ErrNoAccounts
	}
	if h.accountsDown() {
		return ErrAccountsDown
	}
	if h.registered(nickID{key: c.key, loose: c.loose}) != nil {
		return fmt.Errorf("%w already", ErrRegistered)
	}
	if !h.registrationAllowed(c.Addr) {
		h.log.Warn().Str("session", c.ID).Str("remote", c.Remote).Str("nick", c.nick).Msg("registration refused: too many accounts from this address today")
		return fmt.Errorf("too many accounts were registered from your address today; %w tomorrow", ErrRetryLater)
	}
	x.beginSecret(secretRegister, fmt.Sprintf("Choose a password for %s (%d to %d bytes; an empty line cancels).\nPassword: ", c.nick, MinPassword, MaxPassword))
	return nil
}

// ChangePassword asks for the account's password, then a new one twice.
func (x *Ctx) ChangePassword() error {
	if _, err := x.owner(); err != nil {
		return err
	}
	x.beginSecret(secretPasswdOld, "Current password: ")
	return nil
}

// Unregister asks for the account's password, then removes the account
// (and its offline messages); the caller keeps the name for this session.
func (x *Ctx) Unregister() error {
	if _, err := x.owner(); err != nil {
		return err
	}
	x.beginSecret(secretUnregister, "To give up the nickname, your password: ")
	return nil
}

// owner returns the caller if it is logged in to its nickname's account.
func (x *Ctx) owner() (*Conn, error) {
	c, err := x.user()
	if err != nil {
		return nil, err
	}
	if !x.h.accountsOn() {
		return nil, ErrNoAccounts
	}
	if x.h.accountsDown() {
		return nil, ErrAccountsDown
	}
	if a := x.h.accts.byKey[c.key]; a == nil || !c.loggedIn {
		return nil, ErrNotOwner
	}
	return c, nil
}

// Accounts lists the accounts by nickname.
func (x *Ctx) Accounts() ([]AccountInfo, error) {
	if !x.h.accountsOn() {
		return nil, ErrNoAccounts
	}
	out := make([]AccountInfo, 0, len(x.h.accts.byKey))
	for _, a := range x.h.accts.byKey {
		out = append(out, AccountInfo{Nick: a.Nick, Created: a.Created, LastSeen: a.LastSeen, Oper: a.Oper})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Nick < out[j].Nick })
	return out, nil
}

// account finds the account of nick for an admin command.
func (x *Ctx) account(nick string) (*account, error) {
	if !x.h.accountsOn() {
		return nil, ErrNoAccounts
	}
	if x.h.accountsDown() {
		return nil, ErrAccountsDown
	}
	_, key, err := x.h.cfg.Nick.CheckNick(nick)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNoAccount, shortName(nick))
	}
	a := x.h.accts.byKey[key]
	if a == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoAccount, shortName(nick))
	}
	return a, nil
}

// Drop removes nick's account and its offline messages (not its history);
// a user online with the name keeps it for the session. The caller hears
// once it is on disk.
func (x *Ctx) Drop(nick string) error {
	a, err := x.account(nick)
	if err != nil {
		return err
	}
	h, c := x.h, x.c
	h.dropAccount(a, func(err error) {
		x := h.ctx(c)
		x.Audit("drop", nick, err)
		h.answerSaved(c, err, "*** The account "+a.Nick+" is removed")
	})
	return nil
}

// ResetPassword gives nick's account a new random password and shows it
// to the caller, who must be the console or the admin socket (a password
// never goes over a chat connection).
func (x *Ctx) ResetPassword(nick string) error {
	if !x.c.console {
		return errors.New("resetpass works only on the server's console or admin socket")
	}
	a, err := x.account(nick)
	if err != nil {
		return err
	}
	pw := rand.Text()[:16]
	h, c, cost := x.h, x.c, x.h.cfg.BcryptCost
	go func() {
		hash, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
		h.post(func() {
			if err != nil || h.accts.byKey[a.key] != a {
				if err == nil {
					err = ErrNoAccount
				}
				h.ctx(c).Audit("resetpass", nick, err)
				h.answerSaved(c, err, "")
				return
			}
			a.Hash = hash
			h.cfg.Archive.UpdateAccount(a.key, a.loose, func(s *store.Account) { s.Hash = hash }, func(err error) {
				h.post(func() {
					h.ctx(c).Audit("resetpass", nick, err)
					h.answerSaved(c, err, "*** New password for "+a.Nick+": "+pw+" (tell it to its owner, who should change it with /passwd)")
				})
			})
		})
	}()
	return nil
}

// SetOper makes nick's account an operator (on) or not: its owner becomes
// an admin at each login.
func (x *Ctx) SetOper(nick string, on bool) error {
	a, err := x.account(nick)
	if err != nil {
		return err
	}
	a.Oper = on
	h, c := x.h, x.c
	args := "del " + nick
	if on {
		args = "add " + nick
	}
	what := "no longer an operator"
	if on {
		what = "an operator: its owner is an admin after logging in"
	}
	h.cfg.Archive.UpdateAccount(a.key, a.loose, func(s *store.Account) { s.Oper = on }, func(err error) {
		h.post(func() {
			h.ctx(c).Audit("opers", args, err)
			h.answerSaved(c, err, "*** The account "+a.Nick+" is "+what)
		})
	})
	return nil
}
