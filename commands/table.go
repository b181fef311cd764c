package commands

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"telchat/hub"
)

// builtin is the table of every command; /help reads t, the table being
// built.
func builtin(t *Table) []*Command {
	return []*Command{
		{Name: "help", Aliases: []string{"h", "?"}, Args: "[COMMAND]", Summary: "list the commands, or explain one",
			MaxArgs: 1, Run: func(x *hub.Ctx, a []string) error { return t.help(x, a) }},
		{Name: "who", Aliases: []string{"names"}, Args: "[ROOM]", Summary: "list the users in your room",
			MaxArgs: 1, Run: who},
		{Name: "whois", Args: "NICK", Summary: "show a user's room, idle time, connect time and away message",
			MinArgs: 1, MaxArgs: 1, Run: whois},
		{Name: "msg", Aliases: []string{"w", "tell", "query"}, Args: "NICK TEXT", Summary: "send a private message",
			MinArgs: 2, MaxArgs: 2, Rest: true, Run: func(x *hub.Ctx, a []string) error { return x.Private(a[0], a[1]) }},
		{Name: "reply", Aliases: []string{"r"}, Args: "TEXT", Summary: "answer the last private message you got",
			MinArgs: 1, MaxArgs: 1, Rest: true, Run: func(x *hub.Ctx, a []string) error { return x.ReplyLast(a[0]) }},
		{Name: "me", Aliases: []string{"action"}, Args: "ACTION", Summary: "say what you are doing: * you ACTION",
			MinArgs: 1, MaxArgs: 1, Rest: true, Run: func(x *hub.Ctx, a []string) error { return x.Emote(a[0]) }},
		{Name: "nick", Args: "NEW", Summary: "change your nickname",
			MinArgs: 1, MaxArgs: 1, Run: func(x *hub.Ctx, a []string) error { return x.Rename(a[0]) }},
		{Name: "away", Args: "[TEXT]", Summary: "set an away message; without text, clear it",
			MaxArgs: 1, Rest: true, Run: away},
		{Name: "ignore", Args: "[NICK]", Summary: "stop a user's messages reaching you; without NICK, list",
			MaxArgs: 1, Run: ignore},
		{Name: "unignore", Args: "NICK", Summary: "see a user's messages again",
			MinArgs: 1, MaxArgs: 1, Run: unignore},
		{Name: "join", Aliases: []string{"j"}, Args: "ROOM", Summary: "go to a room, creating it if needed",
			MinArgs: 1, MaxArgs: 1, Run: join},
		{Name: "part", Aliases: []string{"leave"}, Summary: "leave your room for the lobby",
			Run: func(x *hub.Ctx, a []string) error { return x.Part() }},
		{Name: "rooms", Aliases: []string{"list"}, Summary: "list rooms with their member counts and topics",
			Run: rooms},
		{Name: "topic", Args: "[TEXT]", Summary: "show or set your room's topic",
			MaxArgs: 1, Rest: true, Run: topic},
		{Name: "motd", Args: "[set TEXT]", Summary: "show the message of the day (admins: set it)",
			MaxArgs: 2, Rest: true, Run: motd},
		{Name: "quit", Aliases: []string{"exit", "bye"}, Args: "[REASON]", Summary: "leave the chat",
			MaxArgs: 1, Rest: true, Run: quit},
		{Name: "oper", Args: "PASSWORD", Summary: "become an admin with the server's admin password",
			MinArgs: 1, MaxArgs: 1, Rest: true, Run: func(x *hub.Ctx, a []string) error { return x.Oper(a[0]) }},

		{Name: "kick", Args: "NICK [REASON]", Summary: "disconnect a user", Perm: AdminOnly,
			MinArgs: 1, MaxArgs: 2, Rest: true, Run: kick},
		{Name: "ban", Args: "NICK|IP|CIDR [DURATION] [REASON]", Summary: "ban and kick; refused at connect (e.g. /ban 10.0.0.0/8 1h spam)", Perm: AdminOnly,
			MinArgs: 1, MaxArgs: 3, Rest: true, Run: ban},
		{Name: "unban", Args: "NICK|IP|CIDR", Summary: "lift a ban", Perm: AdminOnly,
			MinArgs: 1, MaxArgs: 1, Run: unban},
		{Name: "bans", Summary: "list the bans", Perm: AdminOnly, Run: bans},
		{Name: "mute", Args: "NICK [DURATION]", Summary: "stop a user from talking", Perm: AdminOnly,
			MinArgs: 1, MaxArgs: 2, Run: mute},
		{Name: "unmute", Args: "NICK", Summary: "let a muted user talk again", Perm: AdminOnly,
			MinArgs: 1, MaxArgs: 1, Run: unmute},
		{Name: "wall", Aliases: []string{"broadcast"}, Args: "TEXT", Summary: "send a notice to every room", Perm: AdminOnly,
			MinArgs: 1, MaxArgs: 1, Rest: true, Run: func(x *hub.Ctx, a []string) error { x.Wall(a[0]); return nil }},
		{Name: "move", Args: "NICK ROOM", Summary: "move a user to a room", Perm: AdminOnly,
			MinArgs: 2, MaxArgs: 2, Run: move},
		{Name: "clients", Summary: "list every connection with its traffic and queue", Perm: AdminOnly, Run: clients},
		{Name: "stats", Summary: "show uptime, connections, message rate and drops", Perm: AdminOnly, Run: stats},
		{Name: "shutdown", Args: "[SECONDS] [REASON]", Summary: "warn everyone, then shut the server down gracefully", Perm: AdminOnly,
			MaxArgs: 2, Rest: true, Run: shutdown},
	}
}

func (t *Table) help(x *hub.Ctx, a []string) error {
	if len(a) == 1 {
		c, ok := t.Lookup(a[0])
		if !ok || c.Perm == AdminOnly && !x.IsAdmin() {
			msg := fmt.Sprintf("no command /%s; type /help for the list", truncate(strings.TrimPrefix(a[0], "/"), maxName))
			if s := t.Suggest(a[0], x.IsAdmin()); s != "" {
				msg += " (did you mean /" + s + "?)"
			}
			return errors.New(msg)
		}
		line := "*** " + c.Usage() + ": " + c.Summary
		if len(c.Aliases) > 0 {
			line += " (also /" + strings.Join(c.Aliases, ", /") + ")"
		}
		x.Reply(line)
		return nil
	}
	head := "*** Commands (anything else you type is said to your room):"
	if x.IsConsole() {
		head = "*** Commands (the leading / is optional here):"
	}
	x.Reply(append([]string{head}, t.HelpLines(x.IsAdmin())...)...)
	return nil
}

func who(x *hub.Ctx, a []string) error {
	room := ""
	if len(a) == 1 {
		room = a[0]
	} else if x.IsConsole() {
		return ErrUsage // the console is in no room
	}
	name, users, err := x.Who(room)
	if err != nil {
		return err
	}
	parts := make([]string, 0, len(users))
	for _, u := range users {
		n := u.Nick
		if u.Admin {
			n = "@" + n
		}
		if u.Away != "" {
			n += " (away)"
		}
		parts = append(parts, n)
	}
	x.Reply(fmt.Sprintf("*** %d in #%s: %s", len(users), name, strings.Join(parts, ", ")))
	return nil
}

func whois(x *hub.Ctx, a []string) error {
	u, err := x.Whois(a[0])
	if err != nil {
		return err
	}
	line := fmt.Sprintf("*** %s is in #%s, idle %s, connected since %s", u.Nick, u.Room,
		u.Idle.Round(time.Second), u.ConnectedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	if u.Away != "" {
		line += ", away: " + u.Away
	}
	if u.Admin {
		line += ", admin"
	}
	if x.IsAdmin() {
		line += ", from " + u.Remote
		if u.Muted {
			line += ", muted"
		}
	}
	x.Reply(line)
	return nil
}

func away(x *hub.Ctx, a []string) error {
	text := ""
	if len(a) == 1 {
		text = truncate(a[0], 200)
	}
	if err := x.SetAway(text); err != nil {
		return err
	}
	if text == "" {
		x.Reply("*** You are no longer away")
	} else {
		x.Reply("*** You are away: " + text)
	}
	return nil
}

func ignore(x *hub.Ctx, a []string) error {
	if len(a) == 0 {
		list := x.Ignored()
		if len(list) == 0 {
			x.Reply("*** You are ignoring nobody")
		} else {
			x.Reply("*** You are ignoring: " + strings.Join(list, ", "))
		}
		return nil
	}
	nick, err := x.Ignore(a[0])
	if err != nil {
		return err
	}
	x.Reply("*** You are now ignoring " + nick)
	return nil
}

func unignore(x *hub.Ctx, a []string) error {
	if err := x.Unignore(a[0]); err != nil {
		return err
	}
	x.Reply("*** You are no longer ignoring " + a[0])
	return nil
}

func join(x *hub.Ctx, a []string) error {
	_, err := x.Join(a[0])
	return err
}

func rooms(x *hub.Ctx, _ []string) error {
	list := x.Rooms()
	lines := make([]string, 0, len(list)+1)
	lines = append(lines, "*** "+plural(len(list), "room", "rooms")+":")
	for _, r := range list {
		line := fmt.Sprintf("  #%s (%d)", r.Name, r.Members)
		if r.Topic != "" {
			line += " " + r.Topic
		}
		lines = append(lines, line)
	}
	x.Reply(lines...)
	return nil
}

func topic(x *hub.Ctx, a []string) error {
	if len(a) == 1 {
		return x.SetTopic(truncate(a[0], 300))
	}
	room, t, err := x.Topic()
	if err != nil {
		return err
	}
	if t == "" {
		x.Reply("*** #" + room + " has no topic")
	} else {
		x.Reply("*** Topic for #" + room + ": " + t)
	}
	return nil
}

func motd(x *hub.Ctx, a []string) error {
	if len(a) > 0 {
		if strings.ToLower(a[0]) != "set" {
			return ErrUsage
		}
		if !x.IsAdmin() {
			return fmt.Errorf("%w: only admins can set the message of the day", ErrPermission)
		}
		text := ""
		if len(a) == 2 {
			text = truncate(a[1], 500)
		}
		x.SetMOTD(text)
		x.Audit("motd", true, text)
		if text == "" {
			x.Reply("*** Message of the day cleared")
		} else {
			x.Reply("*** Message of the day set")
		}
		return nil
	}
	if m := x.MOTD(); m != "" {
		x.Reply("*** " + m)
	} else {
		x.Reply("*** There is no message of the day")
	}
	return nil
}

func quit(x *hub.Ctx, a []string) error {
	reason := ""
	if len(a) == 1 {
		reason = truncate(a[0], 200)
	}
	x.Quit(reason)
	return nil
}

func kick(x *hub.Ctx, a []string) error {
	reason := ""
	if len(a) == 2 {
		reason = truncate(a[1], 200)
	}
	nick, err := x.Kick(a[0], reason)
	if err != nil {
		return err
	}
	x.Reply("*** Kicked " + nick)
	return nil
}

func ban(x *hub.Ctx, a []string) error {
	var d time.Duration
	reason := ""
	if len(a) >= 2 {
		rest := strings.Join(a[1:], " ")
		first, more, _ := strings.Cut(rest, " ")
		if pd, err := ParseDuration(first); err == nil {
			d, reason = pd, strings.TrimSpace(more)
		} else {
			reason = rest
		}
	}
	res, err := x.Ban(a[0], d, truncate(reason, 200))
	if err != nil {
		return err
	}
	how := "for good"
	if d > 0 {
		how = "for " + d.String()
	}
	line := fmt.Sprintf("*** Banned %s %s; %d connection(s) kicked", res.Mask, how, res.Kicked)
	if res.MatchesCaller {
		line += " (the ban matches you too: you stay connected but will be refused next time)"
	}
	x.Reply(line)
	return nil
}

func unban(x *hub.Ctx, a []string) error {
	mask, err := x.Unban(a[0])
	if err != nil {
		return err
	}
	x.Reply("*** Unbanned " + mask)
	return nil
}

func bans(x *hub.Ctx, _ []string) error {
	list := x.Bans()
	lines := make([]string, 0, len(list)+1)
	lines = append(lines, "*** "+plural(len(list), "ban", "bans")+":")
	for _, b := range list {
		line := "  " + b.Mask + " by " + b.By + " since " + b.Created.UTC().Format("2006-01-02 15:04")
		if !b.Expires.IsZero() {
			line += ", until " + b.Expires.UTC().Format("2006-01-02 15:04")
		}
		if b.Reason != "" {
			line += ": " + b.Reason
		}
		lines = append(lines, line)
	}
	x.Reply(lines...)
	return nil
}

func mute(x *hub.Ctx, a []string) error {
	var d time.Duration
	if len(a) == 2 {
		pd, err := ParseDuration(a[1])
		if err != nil {
			return ErrUsage
		}
		d = pd
	}
	nick, err := x.Mute(a[0], d)
	if err != nil {
		return err
	}
	if d > 0 {
		x.Reply("*** Muted " + nick + " for " + d.String())
	} else {
		x.Reply("*** Muted " + nick + " until /unmute")
	}
	return nil
}

func unmute(x *hub.Ctx, a []string) error {
	nick, err := x.Unmute(a[0])
	if err != nil {
		return err
	}
	x.Reply("*** Unmuted " + nick)
	return nil
}

func move(x *hub.Ctx, a []string) error {
	nick, room, err := x.Move(a[0], a[1])
	if err != nil {
		return err
	}
	x.Reply("*** Moved " + nick + " to #" + room)
	return nil
}

func clients(x *hub.Ctx, _ []string) error {
	list := x.Clients()
	lines := make([]string, 0, len(list)+1)
	lines = append(lines, "*** "+plural(len(list), "connection", "connections")+":")
	for _, c := range list {
		nick := c.Nick
		switch {
		case c.Console:
			nick = "(console)"
		case nick == "":
			nick = "(no nick yet)"
		}
		room := c.Room
		if room != "" {
			room = "#" + room
		}
		if room == "" {
			room = "-"
		}
		lines = append(lines, fmt.Sprintf("  %s %s %s since %s in=%dB out=%dB queued=%d/%dB id=%s",
			nick, c.Remote, room, c.ConnectedAt.UTC().Format("2006-01-02 15:04:05"),
			c.Stats.BytesIn, c.Stats.BytesOut, c.Stats.QueuedMsgs, c.Stats.QueuedBytes, c.ID))
	}
	x.Reply(lines...)
	return nil
}

func stats(x *hub.Ctx, _ []string) error {
	s := x.Stats()
	x.Reply(fmt.Sprintf("*** uptime %s, connections now %d (named %d), total %d, rooms %d, messages %d (%.1f/s), deliveries %d, dropped slow %d, flood %d, refused %d, bans %d",
		s.Uptime.Round(time.Second), s.ConnectionsNow, s.Named, s.ConnectionsTotal, s.Rooms,
		s.Messages, s.MessagesPerSecond, s.Deliveries, s.SlowDrops, s.FloodDrops, s.Refused, s.Bans))
	return nil
}

func shutdown(x *hub.Ctx, a []string) error {
	var d time.Duration
	reason := ""
	if len(a) >= 1 {
		rest := strings.Join(a, " ")
		first, more, _ := strings.Cut(rest, " ")
		if pd, err := ParseDuration(first); err == nil {
			d, reason = pd, strings.TrimSpace(more)
		} else {
			reason = rest
		}
	}
	if d > time.Hour {
		return fmt.Errorf("%w: at most an hour", ErrUsage)
	}
	x.Shutdown(d, truncate(reason, 200))
	return nil
}

// ParseDuration accepts positive Go durations ("90s", "1h30m"), a number of
// seconds ("30") and days ("7d"). Errors wrap ErrUsage.
func ParseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		if n == 0 {
			return 0, fmt.Errorf("%w: bad duration %q", ErrUsage, s)
		}
		return time.Duration(n) * time.Second, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseUint(d, 10, 16); err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%w: bad duration %q", ErrUsage, s)
	}
	return d, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// plural is "1 room" or "n rooms".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
