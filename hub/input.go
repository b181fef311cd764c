package hub

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"telchat/logsample"
	"telchat/message"
	"telchat/usertext"
)

// line handles one input line from a registered connection.
func (h *Hub) line(c *Conn, line string, altered bool) {
	c.lastActive = time.Now()
	c.warnedIdle = false
	if c.console {
		h.cfg.Commands.Run(h.ctx(c), line)
		return
	}
	if c.busy() {
		h.wait(c, line, altered)
		return
	}
	if c.secret != nil && c.secret.kind != secretNone {
		h.secretLine(c, line)
		return
	}
	if c.nick == "" {
		h.claimNick(c, line, altered)
		return
	}
	if line == "" {
		return
	}
	if strings.HasPrefix(line, "/") && !strings.HasPrefix(line, "//") {
		x := h.ctx(c)
		x.altered = altered
		h.cfg.Commands.Run(x, line)
		return
	}
	if strings.HasPrefix(line, "//") {
		line = line[1:]
	}
	h.say(c, line)
}

func (h *Hub) ctx(c *Conn) *Ctx { return &Ctx{h: h, c: c} }

func (h *Hub) claimNick(c *Conn, line string, altered bool) {
	display, key, err := h.cfg.Nick.CheckNick(strings.TrimSpace(line))
	if altered {
		err = errors.New("nicknames cannot contain control characters or escape sequences")
	}
	id := nickID{key: key}
	if err == nil {
		id.loose = h.cfg.Nick.Lookalike(display)
		err = h.nickInUse(id, c)
	}
	if err == nil {
		if h.refuseBanned(c, id) {
			return
		}
		if a := h.registered(id); a != nil {
			if a.key != id.key {
				err = fmt.Errorf("that nickname looks too much like the registered name %s", a.Nick)
			} else {
				h.startLogin(c, a)
				return
			}
		}
	}
	if err != nil {
		c.peer.Deliver(h.prompt("! " + usertext.Sentence(err.Error()) + "\nChoose a nickname: "))
		return
	}
	h.admit(c, display, id)
}

// refuseBanned drops c, with the reason, if nickname id or c's address is
// banned.
func (h *Hub) refuseBanned(c *Conn, id nickID) bool {
	ban, ok := h.findBan(id, c.Addr, time.Now())
	if !ok {
		return false
	}
	h.Counters.Refused.Add(1)
	h.Counters.RefusedBanned.Add(1)
	msg := "! You are banned from this server"
	if ban.Reason != "" {
		msg += ": " + ban.Reason
	}
	c.peer.Deliver(h.textLine(msg))
	h.drop(c, Reason{Kind: KindBanned, Text: ban.Reason}, false)
	return true
}

// welcome names c display and brings it into the lobby.
func (h *Hub) welcome(c *Conn, display string, id nickID) {
	h.setNick(c, display, id)
	c.namedAt = time.Now()
	h.applyMute(c, c.namedAt)
	h.samples.Logger(logsample.Session).Info().Str("session", c.ID).Str("remote", c.Remote).Str("nick", display).Msg("named")
	c.peer.Deliver(h.textLine("*** Welcome, " + display + "! Type /help for commands."))
	if h.motd != "" {
		c.peer.Deliver(h.motdMessage())
	}
	h.joinRoom(c, h.rooms[LobbyName])
	if c.loggedIn {
		h.loggedInWelcome(c)
	}
}

// say sends chat text from c to its room.
func (h *Hub) say(c *Conn, text string) {
	if h.muted(c) {
		return
	}
	h.roomSay(c.room, c, message.Message{Kind: message.Chat, From: c.nick, Text: text})
}
