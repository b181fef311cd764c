package hub

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"telchat/usertext"
)

// A nickname in a cluster is accepted only once Config.Claims has claimed
// it for this server: the claim runs off the hub goroutine (it is a round
// trip to the cluster) and its result comes back through the inbox, as
// /oper's password check does. Meanwhile the connection waits
// (Conn.claiming): the lines it sends are held (Conn.waiting) and handled
// in order once the claim is answered, so that a client that sends its
// nickname and its first lines at once loses none of them.

// maxWaiting bounds the lines a connection may send while its nickname
// claim is in flight: what a client sends right after its nickname (a
// script, a paste) waits for the answer, as it would be handled after it
// on a single server; beyond that, lines are refused.
const maxWaiting = 32

// waitingLine is an input line held until a claim is answered.
type waitingLine struct {
	text    string
	altered bool
}

// busy reports whether c's lines must wait (Hub.wait): its nickname
// claim, its /oper password check or the check of a password it typed at a
// prompt (login, /passwd, /register, /unregister) is in flight. A script
// or a paste that sends its next lines at once then has them handled
// after the answer, in order, as a person typing after it would.
func (c *Conn) busy() bool {
	return c.claiming || c.operPending || (c.secret != nil && c.secret.checking)
}

// wait holds line until what c waits for (busy) is answered.
func (h *Hub) wait(c *Conn, line string, altered bool) {
	if len(c.waiting) >= maxWaiting {
		msg := "! Your password is still being checked, one moment"
		switch {
		case c.claiming && c.nick == "":
			msg = "! Your nickname is still being checked, one moment"
		case c.claiming:
			msg = "! Your last nickname is still being checked, one moment"
		}
		c.peer.Deliver(h.textLine(msg))
		return
	}
	c.waiting = append(c.waiting, waitingLine{line, altered})
}

// resume handles, in order, the lines c sent while it was busy, until one
// makes it busy again (the rest wait for that) or c is gone.
func (h *Hub) resume(c *Conn) {
	for len(c.waiting) > 0 && !c.busy() {
		if _, present := h.conns[c]; !present {
			break
		}
		l := c.waiting[0]
		c.waiting = c.waiting[1:]
		h.line(c, l.text, l.altered)
	}
	if len(c.waiting) == 0 || !c.busy() {
		c.waiting = nil
	}
}

// errClusterUnreachable is shown when a claim could not be made.
var errClusterUnreachable = errors.New("the cluster cannot check nicknames right now; try again in a moment")

// admit welcomes c with its first nickname, display (id), once the
// cluster (if any) has given it the name.
func (h *Hub) admit(c *Conn, display string, id nickID) {
	if h.cfg.Claims == nil {
		h.welcome(c, display, id)
		return
	}
	h.claimFirst(c, display, id)
}

// claimFirst claims display (id) as c's first nickname.
func (h *Hub) claimFirst(c *Conn, display string, id nickID) {
	c.claiming = true
	h.cfg.Claims.Claim(id.loose, display, func(err error) {
		h.post(func() { h.firstClaimed(c, display, id, err) })
	})
}

func (h *Hub) firstClaimed(c *Conn, display string, id nickID, err error) {
	c.claiming = false
	defer h.resume(c)
	if _, present := h.conns[c]; !present || c.nick != "" {
		if err == nil {
			h.cfg.Claims.Release(id.loose)
		}
		return
	}
	if err == nil {
		// The name may have been taken here while the claim ran (by a
		// user of another server we heard of meanwhile).
		if err = h.nickInUse(id, c); err != nil {
			h.cfg.Claims.Release(id.loose)
		}
	}
	if err != nil {
		if !errors.Is(err, ErrNickTaken) && !errors.Is(err, ErrNickLookalike) {
			h.log.Warn().Err(err).Str("session", c.ID).Msg("nickname claim failed")
			err = errClusterUnreachable
		}
		c.loggedIn = false
		c.peer.Deliver(h.prompt("! " + usertext.Sentence(err.Error()) + "\nChoose a nickname: "))
		return
	}
	h.welcome(c, display, id)
}

// claimRename claims display (id) for c's /nick; the answer comes later
// (c's next lines wait for it).
func (h *Hub) claimRename(c *Conn, display string, id nickID) {
	if c.claiming {
		h.deliver(c, h.textLine("! Your last nickname is still being checked, one moment"))
		return
	}
	c.claiming = true
	h.cfg.Claims.Claim(id.loose, display, func(err error) {
		h.post(func() { h.renameClaimed(c, display, id, err) })
	})
}

func (h *Hub) renameClaimed(c *Conn, display string, id nickID, err error) {
	c.claiming = false
	defer h.resume(c)
	if _, present := h.conns[c]; !present {
		if err == nil {
			h.cfg.Claims.Release(id.loose)
		}
		return
	}
	if err == nil {
		err = h.nickInUse(id, c)
		if err == nil {
			if ban, banned := h.findBan(id, netip.Addr{}, time.Now()); banned {
				err = fmt.Errorf("%w%s", errBannedNick, suffix(ban.Reason))
			}
		}
		if err != nil {
			h.cfg.Claims.Release(id.loose)
		}
	}
	if err != nil {
		if !errors.Is(err, ErrNickTaken) && !errors.Is(err, ErrNickLookalike) && !errors.Is(err, errBannedNick) {
			h.log.Warn().Err(err).Str("session", c.ID).Msg("nickname claim failed")
			err = errClusterUnreachable
		}
		h.deliver(c, h.textLine("! "+usertext.Sentence(err.Error())))
		return
	}
	h.renamed(c, display, id)
}

var errBannedNick = errors.New("that nickname is banned")
