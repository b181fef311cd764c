package hub

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"telchat/message"
)

// Emote sends "* nick action" to the caller's room.
func (x *Ctx) Emote(action string) error {
	c, err := x.user()
	if err != nil {
		return err
	}
	if x.h.muted(c) {
		return nil
	}
	x.h.roomSay(c.room, c, message.Message{Kind: message.Action, From: c.nick, Text: action})
	return nil
}

// Private sends a private message to nick and confirms it to the caller.
func (x *Ctx) Private(nick, text string) error {
	c, err := x.user()
	if err != nil {
		return err
	}
	to, err := x.lookup(nick)
	if err != nil {
		if u := x.h.remoteLookup(nick); u != nil {
			return x.privateRemote(c, u, text)
		}
		if ok, oerr := x.privateOffline(c, nick, text); ok {
			return oerr
		}
		return err
	}
	return x.private(c, to, text)
}

func (x *Ctx) private(c, to *Conn, text string) error {
	if to == c {
		return ErrSelf
	}
	if x.h.muted(c) {
		return nil
	}
	if _, ignored := to.ignores[c.key]; !ignored {
		// Counted at its plain size, "*nick* text" and the line end.
		if err := x.h.privateRoom(to, len(c.nick)+len(text)+5, time.Now()); err != nil {
			return err
		}
		to.lastFrom, to.lastFromRemote = c, ""
		x.h.deliver(to, x.h.oneOff(message.Message{Kind: message.Private, From: c.nick, To: to.nick, Text: text, Time: time.Now()}))
	}
	x.h.deliver(c, x.h.oneOff(message.Message{Kind: message.PrivateSent, From: c.nick, To: to.nick, Text: text, Time: time.Now()}))
	if to.away != "" {
		x.Reply("*** " + to.nick + " is away: " + to.away)
	}
	x.h.Counters.PrivateMessages.Add(1)
	return nil
}

// ReplyLast sends a private message to whoever last sent one to the caller.
func (x *Ctx) ReplyLast(text string) error {
	c, err := x.user()
	if err != nil {
		return err
	}
	// A pointer, not a nickname: after the sender leaves or renames, a
	// reply never reaches whoever took their old name.
	to := c.lastFrom
	if to == nil && c.lastFromRemote != "" {
		u := x.h.cluster.users[c.lastFromRemote]
		if u == nil {
			return fmt.Errorf("%w: they have left", ErrNoSuchUser)
		}
		return x.privateRemote(c, u, text)
	}
	if to == nil {
		return ErrNoReply
	}
	if _, present := x.h.conns[to]; !present || to.nick == "" {
		c.lastFrom = nil
		return fmt.Errorf("%w: they have left", ErrNoSuchUser)
	}
	return x.private(c, to, text)
}

// Rename changes the caller's nickname and tells the room.
func (x *Ctx) Rename(nick string) error {
	c, err := x.user()
	if err != nil {
		return err
	}
	if x.altered {
		return ErrAltered
	}
	if x.h.isMuted(c, time.Now()) {
		return ErrMutedNick
	}
	display, key, err := x.h.cfg.Nick.CheckNick(nick)
	if err != nil {
		return err
	}
	if display == c.nick {
		return ErrSameNick
	}
	id := nickID{key: key, loose: x.h.cfg.Nick.Lookalike(display)}
	if err := x.h.nickInUse(id, c); err != nil {
		return err
	}
	if a := x.h.registered(id); a != nil && (a.key != c.key || !c.loggedIn) {
		return fmt.Errorf("%w (%s): to use it, reconnect and give it, with its password, at the nickname prompt", ErrRegistered, a.Nick)
	}
	// Only nickname bans: an address ban concerns the connection, not the
	// name it asks for.
	if ban, banned := x.h.findBan(id, netip.Addr{}, time.Now()); banned {
		return fmt.Errorf("that nickname is banned%s", suffix(ban.Reason))
	}
	if x.h.cfg.Claims != nil && id.loose != c.loose {
		x.h.claimRename(c, display, id)
		return nil
	}
	x.h.renamed(c, display, id)
	return nil
}

// renamed changes c's nickname to display (id), tells its room and the
// cluster, and confirms it to c.
func (h *Hub) renamed(c *Conn, display string, id nickID) {
	x := h.ctx(c)
	key := id.key
	old, oldKey, oldLoose := c.nick, c.key, c.loose
	x.h.setNick(c, display, id)
	c.namedAt = time.Now()
	if h.cfg.Claims != nil && oldLoose != id.loose {
		h.cfg.Claims.Release(oldLoose)
	}
	h.relayUser(c, old)
	if key != oldKey {
		c.loggedIn = false // logged in to the old name's account only
		// Whoever ignored the old name keeps ignoring the user.
		for m := range x.h.conns {
			if _, ok := m.ignores[oldKey]; ok {
				delete(m.ignores, oldKey)
				m.ignores[key] = struct{}{}
			}
		}
	}
	x.h.notice(c.room, c, &message.Message{Kind: message.Notice, From: display, Text: old + " is now known as " + display})
	x.Reply("*** You are now known as " + display)
}

// SetAway sets (or, with empty text, clears) the caller's away message
// and returns the one it replaced ("": the caller was not away).
func (x *Ctx) SetAway(text string) (was string, err error) {
	c, err := x.user()
	if err != nil {
		return "", err
	}
	was, c.away = c.away, text
	x.h.relayUser(c, "")
	return was, nil
}

// Ignore stops nick's room text and private messages from reaching the
// caller.
func (x *Ctx) Ignore(nick string) (string, error) {
	c, err := x.user()
	if err != nil {
		return "", err
	}
	to, err := x.lookup(nick)
	if err != nil {
		u := x.h.remoteLookup(nick)
		if u == nil {
			return "", err
		}
		to = &Conn{nick: u.Nick, key: u.key}
	}
	if to == c {
		return "", ErrSelf
	}
	if c.ignores == nil {
		c.ignores = make(map[string]struct{})
	}
	if _, already := c.ignores[to.key]; already {
		return "", fmt.Errorf("you are already ignoring %s", to.nick)
	}
	if len(c.ignores) >= x.h.cfg.MaxIgnores {
		return "", fmt.Errorf("ignore %w (%d names)", ErrTooMany, x.h.cfg.MaxIgnores)
	}
	c.ignores[to.key] = struct{}{}
	return to.nick, nil
}

// Unignore undoes Ignore. It also works for users who have left.
func (x *Ctx) Unignore(nick string) error {
	c, err := x.user()
	if err != nil {
		return err
	}
	_, key, err := x.h.cfg.Nick.CheckNick(nick)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrNoSuchUser, shortName(nick))
	}
	if _, ok := c.ignores[key]; !ok {
		return fmt.Errorf("you are not ignoring %s", shortName(nick))
	}
	delete(c.ignores, key)
	return nil
}

// Ignored lists the keys the caller ignores.
func (x *Ctx) Ignored() []string {
	var out []string
	for k := range x.c.ignores {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
