package hub

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"telchat/logsample"
	"telchat/message"
	"telchat/usertext"
)

// Errors returned by Ctx methods. Their text is written for the user who
// typed the command.
var (
	ErrNoSuchUser = errors.New("no such user")
	ErrNoSuchRoom = errors.New("no such room")
	ErrSelf       = errors.New("you cannot do that to yourself")
	ErrNickTaken  = errors.New("that nickname is taken")
	// ErrNickLookalike is wrapped by the error for a nickname that looks
	// like one in use ("aIice" while alice is online); the message goes on
	// with that name.
	ErrNickLookalike = errors.New("that nickname looks too much like")
	ErrTooManyRooms  = errors.New("too many rooms exist already")
	ErrTooMany       = errors.New("list is full")
	ErrNotConsole    = errors.New("only a chat user can do that")
	ErrNoReply       = errors.New("nobody has sent you a private message yet")
	ErrNotBanned     = errors.New("no such ban")
	ErrDisabled      = errors.New("not enabled on this server")
	ErrRetryLater    = errors.New("try again") // wrapped with when: see Ctx.Oper
	ErrAltered       = errors.New("nicknames cannot contain control characters or escape sequences")
	ErrSameNick      = errors.New("that is your nickname already")
	// ErrMutedNick: a muted user may not change nickname (each change would
	// be announced, and the mute holds for the name).
	ErrMutedNick    = errors.New("you are muted; you cannot change your nickname")
	ErrAdminAlready = errors.New("you are an admin already")
)

// Ctx is the handle through which a command reads and changes chat state.
// It is valid only during Runner.Run, on the hub goroutine.
type Ctx struct {
	h *Hub
	c *Conn
	// altered says that sanitizing changed the command line (it held
	// control characters or escape sequences).
	altered bool
}

// Reply sends lines to the caller, as one message: a long listing counts
// once against the caller's outbound queue limits.
func (x *Ctx) Reply(lines ...string) {
	if len(lines) == 0 {
		return
	}
	if len(lines) == 1 {
		x.h.deliver(x.c, x.h.textLine(lines[0]))
		return
	}
	x.h.deliver(x.c, x.h.oneOff(message.Message{Kind: message.Reply, Text: strings.Join(lines, "\n"), Time: time.Now()}))
}

// IsAdmin reports whether the caller may run admin commands.
func (x *Ctx) IsAdmin() bool { return x.c.admin }

// IsConsole reports whether the caller is an operator console.
func (x *Ctx) IsConsole() bool { return x.c.console }

// Name is the caller's nickname, or "console".
func (x *Ctx) Name() string {
	if x.c.console {
		return "console"
	}
	return x.c.nick
}

// maxDeniedArgs bounds the arguments logged for an admin command a
// non-admin tried: enough to see what was tried, not a line of padding.
const maxDeniedArgs = 100

// Audit logs an admin action after it ran (or was refused): who, the
// action and its arguments as given, and the outcome, "ok" when err is nil
// and else the error's text. A failure is logged as a warning. What
// admins and consoles do is always logged; what others try (an admin
// command, a wrong /oper password) is sampled (Config.LogPerSecond).
func (x *Ctx) Audit(action, args string, err error) {
	log := &x.h.log
	if !x.c.admin {
		log = x.h.samples.Logger(logsample.Denied)
		if len(args) > maxDeniedArgs {
			args = usertext.Truncate(args, maxDeniedArgs) + "..."
		}
	}
	level, outcome := zerolog.InfoLevel, "ok"
	if err != nil {
		level, outcome = zerolog.WarnLevel, err.Error()
	}
	ev := log.WithLevel(level) // one event: a sampler sees each line once
	ev.Str("session", x.c.ID).Str("remote", x.c.Remote).Str("by", x.Name()).
		Str("action", action).Str("args", args).Str("outcome", outcome).Msg("admin command")
}

func (x *Ctx) user() (*Conn, error) {
	if x.c.console || x.c.nick == "" {
		return nil, ErrNotConsole
	}
	return x.c, nil
}

func (x *Ctx) lookup(nick string) (*Conn, error) {
	_, key, err := x.h.cfg.Nick.CheckNick(nick)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchUser, shortName(nick))
	}
	c, ok := x.h.nicks[key]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchUser, shortName(nick))
	}
	return c, nil
}

// shortName cuts a name that is echoed back in an answer to a few dozen
// bytes (at a rune boundary), so that a huge argument is not sent back.
func shortName(s string) string {
	const maxLen = 40
	if len(s) <= maxLen {
		return s
	}
	n := maxLen
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}

// Quit ends the caller's session: a goodbye, then a clean close.
func (x *Ctx) Quit(reason string) {
	if x.c.console {
		x.Reply("*** Console closed; the server keeps running; use shutdown to stop it")
		x.h.drop(x.c, Reason{Kind: KindQuit, Text: reason}, false)
		return
	}
	x.Reply("*** Goodbye, " + x.c.nick + "!")
	x.h.remove(x.c, Reason{Kind: KindQuit, Text: reason})
}
