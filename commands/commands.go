// Package commands is telchat's command language: one table of commands
// drives parsing, dispatch, /help and permissions, for chat users and the
// operator console alike.
//
// A chat line that starts with "/" is a command ("//text" is chat text that
// starts with a slash). On the operator console every line is a command and
// the leading "/" is optional. The Table runs on the hub goroutine and
// changes chat state only through *hub.Ctx.
package commands

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"telchat/hub"
	"telchat/usertext"
)

// Perm is who may run a command.
type Perm uint8

const (
	// Anyone may run the command.
	Anyone Perm = iota
	// AdminOnly commands need an admin: the console, or a user after /oper.
	AdminOnly
)

// Command is one entry of the table.
type Command struct {
	// Name is the command without the slash.
	Name string
	// Aliases are other names for it.
	Aliases []string
	// Args is the argument part of the usage line, e.g. "NICK TEXT".
	Args string
	// Summary is the one-line help text.
	Summary string
	// Perm says who may run it.
	Perm Perm
	// ChatOnly commands need a chat user (a nickname and a room): the
	// operator console neither lists nor runs them.
	ChatOnly bool
	// ConsoleArgs and ConsoleSummary, when set, replace Args and Summary on
	// the operator console, where a command that works on "your room" has
	// to name one instead.
	ConsoleArgs, ConsoleSummary string
	// MinArgs and MaxArgs bound the number of arguments. With Rest, the
	// last argument takes the rest of the line, spaces included.
	MinArgs, MaxArgs int
	Rest             bool
	// Listing commands (/rooms, /who) have a budget: each chat user's is
	// applied by its session's reader, which holds a listing back until
	// the budget allows it (Table.IsListing); the budget of each address
	// group refuses (hub.Ctx.Listing).
	Listing bool
	// LogsOutcome commands (the store-backed admin commands: /drop,
	// /purge, ...) log their outcome themselves, with hub.Ctx.Audit, once
	// the store has answered; the table logs them only when they fail at
	// once, so each is logged exactly once.
	LogsOutcome bool
	// Run executes the command. A returned error is shown to the caller as
	// one line; errors wrapping ErrUsage show the usage line.
	Run func(x *hub.Ctx, args []string) error
}

// Usage is the command's usage line for chat users, e.g. "/msg NICK TEXT".
func (c *Command) Usage() string {
	return usage(c.Name, c.Args)
}

// UsageFor is the command's usage line as who sees it: the console's form
// when the command has one.
func (c *Command) UsageFor(who Caller) string {
	if who.Console && c.ConsoleArgs != "" {
		return usage(c.Name, c.ConsoleArgs)
	}
	return c.Usage()
}

// SummaryFor is the command's help text as who sees it.
func (c *Command) SummaryFor(who Caller) string {
	if who.Console && c.ConsoleSummary != "" {
		return c.ConsoleSummary
	}
	return c.Summary
}

func usage(name, args string) string {
	if args == "" {
		return "/" + name
	}
	return "/" + name + " " + args
}

// Caller is who runs a command or asks about one: what /help lists, what
// Suggest offers and what Run allows all follow from it.
type Caller struct {
	// Admin may run AdminOnly commands (the console, or a user after
	// /oper).
	Admin bool
	// Console is an operator console: no nickname and no room.
	Console bool
}

// callerOf describes the caller behind x.
func callerOf(x *hub.Ctx) Caller {
	return Caller{Admin: x.IsAdmin(), Console: x.IsConsole()}
}

// Allowed reports whether who may run the command.
func (c *Command) Allowed(who Caller) bool {
	return c.refusal(who) == refusedNot
}

// refusedWhy is why a caller may not run a command.
type refusedWhy uint8

const (
	refusedNot     refusedWhy = iota // allowed
	refusedAdmin                     // an admin command, the caller is no admin
	refusedConsole                   // a chat user's command, the caller is a console
)

func (c *Command) refusal(who Caller) refusedWhy {
	switch {
	case c.Perm == AdminOnly && !who.Admin:
		return refusedAdmin
	case c.ChatOnly && who.Console:
		return refusedConsole
	}
	return refusedNot
}

// ErrUsage marks a wrong call; the caller is shown the usage line.
var ErrUsage = errors.New("wrong arguments")

// ErrPermission is the error for a non-admin calling an admin command.
var ErrPermission = errors.New("permission denied")

// Table is the set of commands. It is immutable after New and implements
// hub.Runner.
type Table struct {
	list  []*Command
	index map[string]*Command
}

// maxName bounds the command names the table will look at.
const maxName = 32

// New builds the table of all telchat commands.
func New() *Table {
	t := &Table{}
	if err := t.init(builtin(t)); err != nil {
		panic(err) // a programming error in the table
	}
	return t
}

func (t *Table) init(cmds []*Command) error {
	t.list, t.index = cmds, make(map[string]*Command)
	for _, c := range cmds {
		for _, n := range c.names() {
			if n == "" || len(n) > maxName || n != strings.ToLower(n) || strings.ContainsAny(n, " /") {
				return fmt.Errorf("commands: bad name %q", n)
			}
			if _, dup := t.index[n]; dup {
				return fmt.Errorf("commands: duplicate name %q", n)
			}
			t.index[n] = c
		}
		if c.Run == nil || c.Summary == "" || c.MaxArgs < c.MinArgs || c.MaxArgs > 0 && c.Args == "" ||
			c.Rest && c.MaxArgs == 0 || c.ChatOnly && (c.ConsoleArgs != "" || c.ConsoleSummary != "") {
			return fmt.Errorf("commands: incomplete entry %q", c.Name)
		}
	}
	sort.Slice(t.list, func(i, j int) bool { return t.list[i].Name < t.list[j].Name })
	return nil
}

// Commands lists the commands in name order.
func (t *Table) Commands() []*Command { return t.list }

// ChatNames lists the names (and aliases) of the commands a chat user may
// run without being an admin, for Tab completion.
func (t *Table) ChatNames() []string {
	var out []string
	for _, c := range t.list {
		if c.Perm == Anyone {
			out = append(out, c.names()...)
		}
	}
	return out
}

// Lookup finds a command by name or alias (case-insensitive, with or
// without the slash).
func (t *Table) Lookup(name string) (*Command, bool) {
	c, ok := t.index[strings.ToLower(strings.TrimPrefix(name, "/"))]
	return c, ok
}

// Split separates a command line into the command name (lower-case, no
// slash) and the rest, trimmed.
func Split(line string) (name, rest string) {
	line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "/"))
	name, rest, _ = strings.Cut(line, " ")
	return strings.ToLower(name), strings.TrimSpace(rest)
}

// SplitArgs splits rest into at most max arguments; with restLast the last
// one keeps the remaining text with its spaces.
func SplitArgs(rest string, max int, restLast bool) []string {
	var args []string
	for rest != "" {
		if restLast && len(args) == max-1 {
			args = append(args, rest)
			break
		}
		var a string
		a, rest, _ = strings.Cut(rest, " ")
		rest = strings.TrimLeft(rest, " ")
		if a != "" {
			args = append(args, a)
		}
	}
	return args
}

// IsListing reports whether line runs a listing command (/who, /rooms, or
// an alias), whose per-user budget the session's reader applies
// (hub.ListingRunner). It only reads the table, so any goroutine may call
// it.
func (t *Table) IsListing(line string) bool {
	if !strings.HasPrefix(line, "/") {
		return false
	}
	name, _ := Split(line)
	c, ok := t.Lookup(name)
	return ok && c.Listing
}

// Run parses and executes one command line for the caller (hub.Runner).
func (t *Table) Run(x *hub.Ctx, line string) {
	name, rest := Split(line)
	if name == "" {
		if x.IsConsole() {
			return
		}
		x.Reply("! Empty command; type /help for the list")
		return
	}
	who := callerOf(x)
	cmd, ok := t.Lookup(name)
	if !ok {
		shown := name
		if len(shown) > maxName {
			shown = truncate(shown, maxName) + "..."
		}
		msg := "! Unknown command /" + shown + ": type /help for the list"
		if s := t.Suggest(name, who); s != "" {
			msg += " (did you mean /" + s + "?)"
		}
		x.Reply(msg)
		return
	}
	switch cmd.refusal(who) {
	case refusedAdmin:
		x.Audit(cmd.Name, rest, errNotAdmin)
		x.Reply("! Permission denied: /" + cmd.Name + " is for admins")
		return
	case refusedConsole:
		x.Reply("! " + usertext.Sentence(hub.ErrNotConsole.Error()) + ": /" + cmd.Name + " needs a nickname and a room")
		return
	}
	args := SplitArgs(rest, cmd.MaxArgs, cmd.Rest)
	var err error
	if len(args) < cmd.MinArgs || len(args) > cmd.MaxArgs {
		err = ErrUsage
	} else if cmd.Listing {
		if err = x.Listing(); err == nil {
			err = cmd.Run(x, args)
		}
	} else {
		err = cmd.Run(x, args)
	}
	// An admin command is logged after it ran, with its outcome: "ok", or
	// the error its caller was told; one whose outcome comes later logs
	// itself then.
	if (cmd.Perm == AdminOnly || errors.Is(err, ErrPermission)) && (err != nil || !cmd.LogsOutcome) {
		outcome := err
		if errors.Is(err, ErrUsage) {
			outcome = fmt.Errorf("%w; usage: %s", err, cmd.UsageFor(who))
		}
		x.Audit(cmd.Name, rest, outcome)
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrUsage):
		x.Reply("! Usage: " + cmd.UsageFor(who))
	default:
		x.Reply("! " + usertext.Sentence(err.Error()))
	}
}

// errNotAdmin is the outcome in the admin log of an admin command run by
// someone who is not one.
var errNotAdmin = fmt.Errorf("%w: not an admin", ErrPermission)

// maxSuggestDistance is the largest edit distance at which Suggest still
// offers a command: 1 for a name of up to shortName bytes, 2 for a longer
// one. Two edits in a three-letter word leave one letter in common ("xyz"
// and "bye"), which is no basis for a guess.
func maxSuggestDistance(name string) int {
	if len(name) <= shortName {
		return 1
	}
	return 2
}

// shortName is the longest typed name that gets only one edit of slack.
const shortName = 4

// Suggest returns the command name or alias closest to name (a mistyped
// command, with or without the slash), or "" when none is close enough.
// Only commands who may run are offered. A name the user has started to
// type ("wh" for "who") counts as close; one-character aliases are never
// offered.
func (t *Table) Suggest(name string, who Caller) string {
	name = strings.ToLower(strings.TrimPrefix(name, "/"))
	if name == "" || len(name) > maxName {
		return ""
	}
	if c, exact := t.index[name]; exact && c.Allowed(who) {
		return name
	}
	limit := maxSuggestDistance(name)
	best, bestScore := "", 2*limit+1
	for _, c := range t.list { // name order: ties go to the first
		if !c.Allowed(who) {
			continue
		}
		for _, n := range c.names() {
			if len(n) < 2 {
				continue
			}
			d := distance(name, n)
			if d > limit || d >= len(name) {
				d = limit + 1
			}
			score := 2 * d
			if len(name) >= 2 && strings.HasPrefix(n, name) {
				score = 1
			}
			if score < bestScore {
				best, bestScore = n, score
			}
		}
	}
	return best
}

// names is the command's name followed by its aliases.
func (c *Command) names() []string {
	return append([]string{c.Name}, c.Aliases...)
}

// distance is the optimal string alignment distance of two short strings:
// insertions, deletions, substitutions and transpositions of neighbouring
// bytes each cost one.
func distance(a, b string) int {
	// rows[k] is the row for a[:i-2+k]; each holds len(b)+1 costs.
	rows := [3][]int{make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)}
	for j := range rows[1] {
		rows[1][j] = j
	}
	for i := 1; i <= len(a); i++ {
		prev2, prev, cur := rows[0], rows[1], rows[2]
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		rows[0], rows[1], rows[2] = prev, cur, prev2
	}
	return rows[1][len(b)]
}

// HelpLines is the /help listing for who: one line per command they may
// run, in the form they use, the summaries in a column after the usages.
// On a terminal width columns wide (0: not known) the usage column is at
// most two fifths of the width; a longer usage has a line of its own and
// its summary goes on the next line, in the column.
func (t *Table) HelpLines(who Caller, width int) []string {
	col := 0
	for _, c := range t.list {
		if u := c.UsageFor(who); c.Allowed(who) && (width <= 0 || len(u) <= width*2/5) {
			col = max(col, len(u))
		}
	}
	var out []string
	for _, c := range t.list {
		if !c.Allowed(who) {
			continue
		}
		u := c.UsageFor(who)
		pad := col - len(u)
		if pad < 0 {
			out = append(out, "  "+u)
			u, pad = "", col
		}
		line := "  " + u + strings.Repeat(" ", pad) + "  " + c.SummaryFor(who)
		if len(c.Aliases) > 0 {
			line += " (also /" + strings.Join(c.Aliases, ", /") + ")"
		}
		if c.Perm == AdminOnly {
			line += " [admin]"
		}
		out = append(out, line)
	}
	return out
}
