package commands

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"telchat/hub"
	"telchat/lineedit"
)

// builtin is the table of every command; /help reads t, the table being
// built.
func builtin(t *Table) []*Command {
	return []*Command{
		{Name: "help", Aliases: []string{"h", "?"}, Args: "[COMMAND]", Summary: "list the commands, or explain one",
			MaxArgs: 1, Run: func(x *hub.Ctx, a []string) error { return t.help(x, a) }},
		{Name: "who", Aliases: []string{"names"}, Args: "[ROOM]", Summary: "list the users in your room, or in ROOM",
			ConsoleSummary: "list the users in ROOM, or in every room",
			MaxArgs:        1, Listing: true, Run: who},
		{Name: "whois", Args: "NICK", Summary: "show a user's room, idle time, connect time and away message",
			MinArgs: 1, MaxArgs: 1, Run: whois},
		{Name: "msg", Aliases: []string{"w", "tell", "query"}, Args: "NICK TEXT", Summary: "send a private message", ChatOnly: true,
			MinArgs: 2, MaxArgs: 2, Rest: true, Run: func(x *hub.Ctx, a []string) error { return x.Private(a[0], a[1]) }},
		{Name: "reply", Aliases: []string{"r"}, Args: "TEXT", Summary: "answer the last private message you got", ChatOnly: true,
			MinArgs: 1, MaxArgs: 1, Rest: true, Run: func(x *hub.Ctx, a []string) error { return x.ReplyLast(a[0]) }},
		{Name: "me", Aliases: []string{"action"}, Args: "ACTION", Summary: "say what you are doing: * you ACTION", ChatOnly: true,
			MinArgs: 1, MaxArgs: 1, Rest: true, Run: func(x *hub.Ctx, a []string) error { return x.Emote(a[0]) }},
		{Name: "nick", Args: "NEW", Summary: "change your nickname", ChatOnly: true,
			MinArgs: 1, MaxArgs: 1, Run: func(x *hub.Ctx, a []string) error { return x.Rename(a[0]) }},
		{Name: "away", Args: "[TEXT]", Summary: "set an away message; without text, clear it", ChatOnly: true,
			MaxArgs: 1, Rest: true, Run: away},
		{Name: "ignore", Args: "[NICK]", Summary: "stop a user's messages reaching you; without NICK, list", ChatOnly: true,
			MaxArgs: 1, Run: ignore},
		{Name: "unignore", Args: "NICK", Summary: "see a user's messages again", ChatOnly: true,
			MinArgs: 1, MaxArgs: 1, Run: unignore},
		{Name: "join", Aliases: []string{"j"}, Args: "ROOM", Summary: "go to a room, creating it if needed", ChatOnly: true,
			MinArgs: 1, MaxArgs: 1, Run: join},
		{Name: "part", Aliases: []string{"leave"}, Summary: "leave your room for the lobby", ChatOnly: true,
			Run: func(x *hub.Ctx, a []string) error { return x.Part() }},
		{Name: "history", Args: "[N] | before [YYYY-MM-DD] HH:MM [N]", Summary: "show the last N messages of your room (default 50, at most 500), or those before a time (UTC)", ChatOnly: true,
			MaxArgs: 1, Rest: true, Run: history},
		{Name: "rooms", Aliases: []string{"list"}, Args: "[PAGE]", Summary: fmt.Sprintf("list rooms with their member counts and topics, %d to a page", hub.RoomsPageSize),
			MaxArgs: 1, Listing: true, Run: rooms},
		{Name: "topic", Args: "[TEXT]", Summary: "show or set your room's topic",
			ConsoleArgs: "ROOM [TEXT]", ConsoleSummary: "show or set a room's topic (kept across restarts)",
			MaxArgs: 1, Rest: true, Run: topic},
		{Name: "motd", Args: "[set TEXT]", Summary: "show the message of the day (admins: set it)",
			MaxArgs: 2, Rest: true, Run: motd},
		{Name: "quit", Aliases: []string{"exit", "bye"}, Args: "[REASON]", Summary: "leave the chat",
			MaxArgs: 1, Rest: true, Run: quit},
		{Name: "register", Summary: "make your nickname yours: it will ask for a password (twice)", ChatOnly: true,
			Run: func(x *hub.Ctx, _ []string) error { return x.Register() }},
		{Name: "passwd", Summary: "change the password of your registered nickname", ChatOnly: true,
			Run: func(x *hub.Ctx, _ []string) error { return x.ChangePassword() }},
		{Name: "unregister", Summary: "give up your registered nickname (asks for the password)", ChatOnly: true,
			Run: func(x *hub.Ctx, _ []string) error { return x.Unregister() }},
		{Name: "oper", Args: "[PASSWORD]", Summary: "become an admin with the server's admin password (alone, in character mode: asked without echo)", ChatOnly: true,
			MaxArgs: 1, Rest: true, Run: oper},
		{Name: "mode", Args: "[char|line]", Summary: "character mode (the server echoes and edits your line, which incoming chat never breaks) or line mode; alone, show yours", ChatOnly: true,
			MaxArgs: 1, Run: mode},
		{Name: "set", Args: "[colours|highlight|bell|timestamps|dim on|off]", Summary: "show or change how chat looks on your terminal", ChatOnly: true,
			MaxArgs: 2, Run: set},

		{Name: "kick", Args: "NICK [REASON]", Summary: "disconnect a user", Perm: AdminOnly,
			MinArgs: 1, MaxArgs: 2, Rest: true, Run: kick},
		{Name: "ban", Args: "NICK|IP|CIDR [DURATION] [REASON]", Summary: "ban and kick; refused at connect (e.g. /ban 10.0.0.0/8 1h spam)", Perm: AdminOnly,
			MinArgs: 1, MaxArgs: 3, Rest: true, Run: ban},
		{Name: "unban", Args: "NICK|IP|CIDR", Summary: "lift a ban", Perm: AdminOnly,
			MinArgs: 1, MaxArgs: 1, Run: unban},
		{Name: "bans", Summary: "list the bans", Perm: AdminOnly, Run: bans},
		{Name: "mute", Args: "NICK [DURATION]", Summary: "stop a user from talking (e.g. /mute bob 10m)", Perm: AdminOnly,
			MinArgs: 1, MaxArgs: 2, Run: mute},
		{Name: "unmute", Args: "NICK", Summary: "let a muted user talk again", Perm: AdminOnly,
			MinArgs: 1, MaxArgs: 1, Run: unmute},
		{Name: "wall", Aliases: []string{"broadcast"}, Args: "TEXT", Summary: "send a notice to every room", Perm: AdminOnly,
			MinArgs: 1, MaxArgs: 1, Rest: true, Run: func(x *hub.Ctx, a []string) error { x.Wall(a[0]); return nil }},
		{Name: "move", Args: "NICK ROOM", Summary: "move a user to a room", Perm: AdminOnly,
			MinArgs: 2, MaxArgs: 2, Run: move},
		{Name: "clients", Summary: "list every connection with its traffic and queue", Perm: AdminOnly, Run: clients},
		{Name: "stats", Args: "[cluster]", Summary: "show uptime, connections, message rate and drops; with cluster, each server of the cluster", Perm: AdminOnly,
			MaxArgs: 1, Run: stats},
		{Name: "accounts", Summary: "list the registered nicknames with their last login", Perm: AdminOnly, Run: accounts},
		{Name: "drop", Args: "NICK", Summary: "remove an account and its offline messages (not its history)", Perm: AdminOnly, LogsOutcome: true,
			MinArgs: 1, MaxArgs: 1, Run: func(x *hub.Ctx, a []string) error { return x.Drop(a[0]) }},
		{Name: "resetpass", Args: "NICK", Summary: "give an account a new random password, shown here (console and admin socket only)", Perm: AdminOnly, LogsOutcome: true,
			MinArgs: 1, MaxArgs: 1, Run: func(x *hub.Ctx, a []string) error { return x.ResetPassword(a[0]) }},
		{Name: "opers", Args: "add|del NICK", Summary: "make an account an operator (admin after each login), or not", Perm: AdminOnly, LogsOutcome: true,
			MinArgs: 2, MaxArgs: 2, Run: opers},
		{Name: "purge", Args: "NICK [DURATION]", Summary: "remove what NICK said (in the last DURATION) from every room's history", Perm: AdminOnly, LogsOutcome: true,
			MinArgs: 1, MaxArgs: 2, Run: purge},
		{Name: "backup", Args: "FILE", Summary: "write a consistent copy of the store to FILE, an absolute path on the server (console and admin socket only)", Perm: AdminOnly, LogsOutcome: true,
			MinArgs: 1, MaxArgs: 1, Rest: true, Run: func(x *hub.Ctx, a []string) error { return x.Backup(a[0]) }},
		{Name: "rehash", Aliases: []string{"reload"}, Summary: "reload the password file, MOTD file, -config limits and TLS certificate (as SIGHUP)", Perm: AdminOnly,
			Run: func(x *hub.Ctx, _ []string) error { return x.Rehash() }},
		{Name: "shutdown", Args: "[SECONDS] [REASON]", Summary: "warn everyone, then shut the server down gracefully", Perm: AdminOnly,
			MaxArgs: 2, Rest: true, Run: shutdown},
	}
}

func (t *Table) help(x *hub.Ctx, a []string) error {
	who := callerOf(x)
	if len(a) == 1 {
		c, ok := t.Lookup(a[0])
		if !ok {
			msg := fmt.Sprintf("no command /%s; type /help for the list", truncate(strings.TrimPrefix(a[0], "/"), maxName))
			if s := t.Suggest(a[0], who); s != "" {
				msg += " (did you mean /" + s + "?)"
			}
			return errors.New(msg)
		}
		switch c.refusal(who) {
		case refusedAdmin:
			// The same news as running it: "Permission denied: ... is for admins".
			return fmt.Errorf("/%s is an operator command, for admins only", c.Name)
		case refusedConsole:
			return fmt.Errorf("/%s is for chat users only: the console has no nickname or room", c.Name)
		}
		line := "*** " + c.UsageFor(who) + ": " + c.SummaryFor(who)
		if len(c.Aliases) > 0 {
			line += " (also /" + strings.Join(c.Aliases, ", /") + ")"
		}
		x.Reply(line)
		return nil
	}
	head := "*** Commands (anything else you type is said to your room):"
	if who.Console {
		head = "*** Commands (the leading / is optional here):"
	}
	x.Reply(append([]string{head}, t.HelpLines(who, termWidth(x))...)...)
	return nil
}

func who(x *hub.Ctx, a []string) error {
	room := ""
	if len(a) == 1 {
		room = a[0]
	} else if x.IsConsole() {
		// The console is in no room: every room, most members first.
		list := x.Rooms()
		lines := make([]string, 0, len(list))
		for _, r := range list {
			name, total, users, err := x.Who(r.Name)
			if err != nil {
				return err
			}
			lines = append(lines, whoLines(name, total, users, 0)...)
		}
		x.Reply(lines...)
		return nil
	}
	name, total, users, err := x.Who(room)
	if err != nil {
		return err
	}
	x.Reply(whoLines(name, total, users, termWidth(x))...)
	return nil
}

// termWidth is the width the caller's terminal wraps lines at, 0 when not
// known (line mode, the console).
func termWidth(x *hub.Ctx) int {
	if t, ok := x.Terminal(); ok {
		return t.Width()
	}
	return 0
}

// whoLines is the /who answer for one room: "*** 2 in #lobby: @ada, bob
// (away)", ending in ", and 900 more" when only the first names are
// listed. On a terminal width columns wide (0: not known) the names are
// laid out in rows that fit it, each after the first indented four
// columns, and a name is never split from its comma or its "(away)".
func whoLines(name string, total int, users []hub.UserInfo, width int) []string {
	if len(users) == 0 {
		return []string{"*** 0 in #" + name}
	}
	parts := make([]string, 0, len(users)+1)
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
	if more := total - len(users); more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	head := fmt.Sprintf("*** %d in #%s:", total, name)
	if width <= 0 {
		return []string{head + " " + strings.Join(parts, ", ")}
	}
	return packRow(head, parts, width)
}

// packRow lays parts out after head, separated by ", ", in rows of at most
// width columns (display width), each row after the first indented four
// columns. A part too long for a row has a row of its own.
func packRow(head string, parts []string, width int) []string {
	const indent = "   " // and the space before the first part: four columns
	var rows []string
	row, used := head, lineedit.Width(head)
	for i, p := range parts {
		if i < len(parts)-1 {
			p += ","
		}
		w := lineedit.Width(p)
		if used+1+w > width {
			rows = append(rows, row)
			row, used = indent, len(indent)
		}
		row += " " + p
		used += 1 + w
	}
	return append(rows, row)
}

func whois(x *hub.Ctx, a []string) error {
	u, err := x.Whois(a[0])
	if err != nil {
		return err
	}
	line := fmt.Sprintf("*** %s is in #%s, idle %s, connected since %s", u.Nick, u.Room,
		u.Idle.Round(time.Second), u.ConnectedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	if u.Remote == "" && u.Server != "" {
		// A user of another server in the cluster: its idle time is not known here.
		line = fmt.Sprintf("*** %s is in #%s, connected since %s", u.Nick, u.Room,
			u.ConnectedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	if u.Server != "" {
		line += ", on server " + u.Server
	}
	if u.Away != "" {
		line += ", away: " + u.Away
	}
	if u.Admin {
		line += ", admin"
	}
	if x.IsAdmin() {
		if u.Remote != "" { // not known for a user of another server
			line += ", from " + u.Remote
		}
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
	was, err := x.SetAway(text)
	if err != nil {
		return err
	}
	switch {
	case text == "" && was == "":
		x.Reply("*** You are not away (/away TEXT sets an away message)")
	case text == "":
		x.Reply("*** You are no longer away")
	default:
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

func rooms(x *hub.Ctx, a []string) error {
	page := 1
	if len(a) == 1 {
		n, err := strconv.Atoi(strings.TrimPrefix(a[0], "#"))
		if err != nil || n < 1 {
			return ErrUsage
		}
		page = n
	}
	list, total, pages, err := x.RoomsPage(page)
	if err != nil {
		return err
	}
	lines := make([]string, 0, len(list)+2)
	head := "*** " + plural(total, "room", "rooms") + ":"
	if pages > 1 {
		head = fmt.Sprintf("*** %s, page %d of %d (most members first):", plural(total, "room", "rooms"), page, pages)
	}
	lines = append(lines, head)
	for _, r := range list {
		line := fmt.Sprintf("  #%s (%d)", r.Name, r.Members)
		if r.Topic != "" {
			line += " " + r.Topic
		}
		lines = append(lines, line)
	}
	if page < pages {
		lines = append(lines, fmt.Sprintf("*** /rooms %d for the next page", page+1))
	}
	x.Reply(lines...)
	return nil
}

// topic is "/topic [TEXT]" for a chat user (their room) and "topic ROOM
// [TEXT]" on the console, which is in no room.
func topic(x *hub.Ctx, a []string) error {
	room, text := "", ""
	if len(a) == 1 {
		text = a[0]
	}
	if x.IsConsole() {
		if text == "" {
			return ErrUsage
		}
		room, text, _ = strings.Cut(text, " ")
		text = strings.TrimSpace(text)
	}
	if text != "" {
		if err := x.SetTopic(room, truncate(text, 300)); err != nil {
			return err
		}
		if x.IsAdmin() {
			// The room's members are told (the console is not one of
			// them); an admin's topic is kept across restarts, and the
			// admin hears when it is on disk.
			name, t, err := x.Topic(room)
			if err != nil {
				return err
			}
			line := "*** You set the topic of #" + name + " to: " + t
			if !x.IsConsole() {
				line = "*** The topic of #" + name + " is saved" // the room's notice showed it
			}
			x.ReplyWhenSaved("The topic of #"+name, line)
		}
		return nil
	}
	room, t, err := x.Topic(room)
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
		x.Audit("motd", "set "+text, nil)
		if text == "" {
			x.ReplyWhenSaved("Clearing the message of the day", "*** Message of the day cleared")
		} else {
			x.ReplyWhenSaved("The new message of the day", "*** Message of the day set")
		}
		return nil
	}
	if m := x.MOTD(); m != "" {
		lines := strings.Split(m, "\n")
		for i, l := range lines {
			lines[i] = "*** " + l
		}
		x.Reply(lines...)
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
	d, reason, err := optionalDuration(strings.Join(a[1:], " "))
	if err != nil {
		return err
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
	x.ReplyWhenSaved("The ban on "+res.Mask, line)
	return nil
}

func unban(x *hub.Ctx, a []string) error {
	mask, err := x.Unban(a[0])
	if err != nil {
		return err
	}
	x.ReplyWhenSaved("Lifting the ban on "+mask, "*** Unbanned "+mask)
	return nil
}

func bans(x *hub.Ctx, _ []string) error {
	list := x.Bans()
	if len(list) == 0 {
		x.Reply("*** No bans")
		return nil
	}
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
	d, err := lastDuration(a, 2)
	if err != nil {
		return err
	}
	nick, err := x.Mute(a[0], d)
	if err != nil {
		return err
	}
	// In a cluster the answer waits until the mute is stored there.
	if d > 0 {
		x.ReplyWhenSaved("The mute on "+nick, "*** Muted "+nick+" for "+d.String())
	} else {
		x.ReplyWhenSaved("The mute on "+nick, "*** Muted "+nick+" until /unmute")
	}
	return nil
}

func unmute(x *hub.Ctx, a []string) error {
	nick, err := x.Unmute(a[0])
	if err != nil {
		return err
	}
	x.ReplyWhenSaved("Lifting the mute on "+nick, "*** Unmuted "+nick)
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
	head := "*** " + plural(len(list), "connection", "connections")
	if id := x.ServerID(); id != "" {
		head += " on server " + id // in a cluster: this server's only
	}
	lines = append(lines, head+":")
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

func stats(x *hub.Ctx, a []string) error {
	if len(a) == 1 {
		if a[0] != "cluster" {
			return ErrUsage
		}
		return clusterStats(x)
	}
	s := x.Stats()
	version := ""
	if s.Version != "" {
		version = "telchat " + s.Version + ", "
	}
	x.Reply(fmt.Sprintf("*** %suptime %s, connections now %d (named %d), total %d, rooms %d, messages %d (%.1f/s), deliveries %d, dropped slow %d, flood %d, refused %d, bans %d, log lines left out %d",
		version, s.Uptime.Round(time.Second), s.ConnectionsNow, s.Named, s.ConnectionsTotal, s.Rooms,
		s.Messages, s.MessagesPerSecond, s.Deliveries, s.SlowDrops, s.FloodDrops, s.Refused, s.Bans, s.LogLeftOut))
	return nil
}

func shutdown(x *hub.Ctx, a []string) error {
	// "/shutdown 0 REASON" is a shutdown now, with a reason.
	rest := strings.Join(a, " ")
	if first, more, _ := strings.Cut(rest, " "); first == "0" {
		x.Shutdown(0, truncate(strings.TrimSpace(more), 200))
		return nil
	}
	d, reason, err := optionalDuration(rest)
	if err != nil {
		return err
	}
	if d > time.Hour {
		return fmt.Errorf("%w: at most an hour", ErrUsage)
	}
	x.Shutdown(d, truncate(reason, 200))
	return nil
}

// ErrBadDuration is the error for a duration argument that does not parse.
// Its message, shown to the caller, names the accepted forms.
var ErrBadDuration = errors.New("bad duration")

// badDuration wraps ErrBadDuration for s.
func badDuration(s string) error {
	return fmt.Errorf("%w %q: use a number of seconds or a number with s, m, h or d, like 90s, 30m, 2h, 7d",
		ErrBadDuration, truncate(s, maxName))
}

// ParseDuration accepts positive Go durations ("90s", "1h30m"), a number of
// seconds ("30") and days ("7d"). Errors wrap ErrBadDuration.
func ParseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		if n == 0 {
			return 0, badDuration(s)
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
		return 0, badDuration(s)
	}
	return d, nil
}

// looksLikeDuration reports whether an optional argument is meant as a
// duration: it starts with a digit, or with '-' or '+' and a digit. Such an
// argument must parse (ParseDuration); anything else ("spam", "forever") is
// not a duration at all.
func looksLikeDuration(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	return s != "" && s[0] >= '0' && s[0] <= '9'
}

// lastDuration is the optional DURATION that ends a command of n
// arguments ("NICK [DURATION]"): 0 when a has fewer, ErrUsage when the
// argument is not meant as a duration, ParseDuration's error when it does
// not parse.
func lastDuration(a []string, n int) (time.Duration, error) {
	if len(a) < n {
		return 0, nil
	}
	if !looksLikeDuration(a[n-1]) {
		return 0, ErrUsage
	}
	return ParseDuration(a[n-1])
}

// optionalDuration splits "[DURATION] [REASON]": a first word that looks
// like a duration must be a valid one, and the rest is the reason. Without
// one, d is 0 and all of rest is the reason.
func optionalDuration(rest string) (d time.Duration, reason string, err error) {
	rest = strings.TrimSpace(rest)
	first, more, _ := strings.Cut(rest, " ")
	if !looksLikeDuration(first) {
		return 0, rest, nil
	}
	if d, err = ParseDuration(first); err != nil {
		return 0, "", err
	}
	return d, strings.TrimSpace(more), nil
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

// oper runs /oper; without a password, on a terminal in character mode,
// it asks for one without echo.
func oper(x *hub.Ctx, a []string) error {
	if len(a) == 1 {
		return x.Oper(a[0])
	}
	if t, ok := x.Terminal(); ok && t.AskSecret("Password: ", "/oper ") {
		return nil
	}
	return fmt.Errorf("%w (type /mode char first to be asked without echo)", ErrUsage)
}

// mode runs /mode [char|line]: alone it shows the mode and how to switch.
func mode(x *hub.Ctx, a []string) error {
	t, ok := x.Terminal()
	if !ok {
		return errors.New("only a chat user on a terminal can do that")
	}
	if len(a) == 0 {
		x.Reply(t.Mode()...)
		return nil
	}
	switch strings.ToLower(a[0]) {
	case "char", "character", "c":
		x.Reply(t.SetMode(true))
	case "line", "l":
		x.Reply(t.SetMode(false))
	default:
		return ErrUsage
	}
	return nil
}

// set runs /set: without arguments it shows the settings, else it changes
// one.
func set(x *hub.Ctx, a []string) error {
	t, ok := x.Terminal()
	if !ok {
		return errors.New("only a chat user on a terminal can do that")
	}
	switch len(a) {
	case 0:
		x.Reply(t.Settings()...)
		return nil
	case 1:
		return ErrUsage
	}
	answer, err := t.Set(strings.ToLower(a[0]), strings.ToLower(a[1]))
	if err != nil {
		return err
	}
	x.Reply(answer)
	return nil
}

// clusterStats is /stats cluster: one line per server.
func clusterStats(x *hub.Ctx) error {
	list, err := x.ClusterServers()
	if err != nil {
		return err
	}
	lines := []string{"*** " + plural(len(list), "server", "servers") + " in the cluster:"}
	for _, s := range list {
		line := fmt.Sprintf("  %s: %s, %.1f messages/s", s.ID, plural(s.Users, "user", "users"), s.MessagesPerSecond)
		switch {
		case s.Self:
			line += " (this server)"
		case !s.LastHeartbeat.IsZero():
			line += ", last heartbeat " + time.Since(s.LastHeartbeat).Round(time.Second).String() + " ago"
		}
		lines = append(lines, line)
	}
	x.Reply(lines...)
	return nil
}
