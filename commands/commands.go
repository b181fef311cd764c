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
	// MinArgs and MaxArgs bound the number of arguments. With Rest, the
	// last argument takes the rest of the line, spaces included.
	MinArgs, MaxArgs int
	Rest             bool
	// Run executes the command. A returned error is shown to the caller as
	// one line; errors wrapping ErrUsage show the usage line.
	Run func(x *hub.Ctx, args []string) error
}

// Usage is the command's usage line, e.g. "/msg NICK TEXT".
func (c *Command) Usage() string {
	if c.Args == "" {
		return "/" + c.Name
	}
	return "/" + c.Name + " " + c.Args
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
			c.Rest && c.MaxArgs == 0 {
			return fmt.Errorf("commands: incomplete entry %q", c.Name)
		}
	}
	sort.Slice(t.list, func(i, j int) bool { return t.list[i].Name < t.list[j].Name })
	return nil
}

// Commands lists the commands in name order.
func (t *Table) Commands() []*Command { return t.list }

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
	cmd, ok := t.Lookup(name)
	if !ok {
		shown := name
		if len(shown) > maxName {
			shown = truncate(shown, maxName) + "..."
		}
		msg := "! Unknown command /" + shown + ": type /help for the list"
		if s := t.Suggest(name, x.IsAdmin()); s != "" {
			msg += " (did you mean /" + s + "?)"
		}
		x.Reply(msg)
		return
	}
	if cmd.Perm == AdminOnly && !x.IsAdmin() {
		x.Audit(cmd.Name, false, "not an admin")
		x.Reply("! Permission denied: /" + cmd.Name + " is for admins")
		return
	}
	args := SplitArgs(rest, cmd.MaxArgs, cmd.Rest)
	if len(args) < cmd.MinArgs || len(args) > cmd.MaxArgs {
		x.Reply("! Usage: " + cmd.Usage())
		return
	}
	if cmd.Perm == AdminOnly {
		x.Audit(cmd.Name, true, strings.Join(args, " "))
	}
	if err := cmd.Run(x, args); err != nil {
		if errors.Is(err, ErrUsage) {
			x.Reply("! Usage: " + cmd.Usage())
			return
		}
		if errors.Is(err, ErrPermission) {
			x.Audit(cmd.Name, false, "not an admin")
		}
		x.Reply("! " + capitalize(err.Error()))
	}
}

// maxSuggestDistance is the largest edit distance at which Suggest still
// offers a command.
const maxSuggestDistance = 2

// Suggest returns the command name or alias closest to name (a mistyped
// command, with or without the slash), or "" when none is close enough.
// Admin commands are offered only to admins. A name the user has started
// to type ("wh" for "who") counts as close; one-character aliases are never
// offered.
func (t *Table) Suggest(name string, admin bool) string {
	name = strings.ToLower(strings.TrimPrefix(name, "/"))
	if name == "" || len(name) > maxName {
		return ""
	}
	if c, exact := t.index[name]; exact && (c.Perm == Anyone || admin) {
		return name
	}
	best, bestScore := "", 2*maxSuggestDistance+1
	for _, c := range t.list { // name order: ties go to the first
		if c.Perm == AdminOnly && !admin {
			continue
		}
		for _, n := range c.names() {
			if len(n) < 2 {
				continue
			}
			d := distance(name, n)
			if d > maxSuggestDistance || d >= len(name) {
				d = maxSuggestDistance + 1
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

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// HelpLines is the /help listing for a caller: one line per command.
func (t *Table) HelpLines(admin bool) []string {
	width := 0
	for _, c := range t.list {
		if c.Perm == Anyone || admin {
			width = max(width, len(c.Usage()))
		}
	}
	var out []string
	for _, c := range t.list {
		if c.Perm == AdminOnly && !admin {
			continue
		}
		line := "  " + c.Usage() + strings.Repeat(" ", width-len(c.Usage())) + "  " + c.Summary
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
