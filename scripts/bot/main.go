// Command bot is a small chat bot for telchat. It connects with the
// github.com/reiver/go-telnet client, picks a nickname, says lines from a
// built-in list at random intervals and answers lines that mention it.
// Every run is bounded by -duration (and optionally -count).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	telnet "github.com/reiver/go-telnet"
)

// sayings are the lines the bot says on its own.
var sayings = [...]string{
	"Hello everyone!",
	"Has anyone tried the /who command?",
	"Telnet is older than most of us here.",
	"I am a bot, but I try my best.",
	"What is everyone working on today?",
	"Fun fact: byte 255 is IAC in Telnet.",
	"Lines end with CR LF on the wire.",
	"Coffee or tea?",
	"The lobby is cozy today.",
	"Remember to /quit politely.",
}

// replies are the answers to lines that mention the bot.
var replies = [...]string{
	"you called?",
	"I am only a bot, but hello!",
	"interesting, tell me more.",
	"I agree completely.",
	"beep boop.",
}

// nickPrompt ends the server's nickname prompt, which has no line end.
const nickPrompt = "nickname: "

// maxNickAttempts bounds the nicknames tried when the first is taken.
const maxNickAttempts = 5

// replyCooldown is the least time between two replies, so bots that mention
// each other cannot flood the room.
const replyCooldown = 3 * time.Second

// quitWait bounds the wait for the server to close after /quit.
const quitWait = 2 * time.Second

// errNickRefused is returned when no nickname was accepted.
var errNickRefused = errors.New("no nickname accepted")

// config holds the command-line options.
type config struct {
	addr     string
	nick     string
	interval time.Duration
	count    int
	duration time.Duration
	room     string
	verbose  bool
}

// parseConfig parses the command line.
func parseConfig(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("bot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:2323", "server `HOST:PORT`")
	fs.StringVar(&c.nick, "nick", "robot", "nickname (a digit is appended if it is taken)")
	fs.DurationVar(&c.interval, "interval", 10*time.Second, "mean time between lines (each wait is random in [interval/2, 3*interval/2])")
	fs.IntVar(&c.count, "count", 0, "stop after saying this many lines (0 = until -duration)")
	fs.DurationVar(&c.duration, "duration", 5*time.Minute, "stop after this long (must be positive)")
	fs.StringVar(&c.room, "room", "", "room to /join after connecting (default: stay in the lobby)")
	fs.BoolVar(&c.verbose, "v", false, "print every line received")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.duration <= 0:
		return c, errors.New("-duration must be positive")
	case c.interval <= 0:
		return c, errors.New("-interval must be positive")
	case c.nick == "":
		return c, errors.New("-nick must not be empty")
	}
	return c, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the exit.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bot:", err)
		return 2
	}
	conn, err := telnet.DialTo(cfg.addr)
	if err != nil {
		fmt.Fprintln(stderr, "bot:", fmt.Errorf("connect %s: %w", cfg.addr, err))
		return 1
	}
	// Closing the connection unblocks every read and write, which bounds the run.
	stop := time.AfterFunc(cfg.duration, func() { conn.Close() })
	defer stop.Stop()
	b := &bot{cfg: cfg, log: stdout, deadline: time.Now().Add(cfg.duration)}
	client := &telnet.Client{Caller: b}
	client.Call(conn) // returns when CallTELNET does, then closes conn
	if b.err != nil {
		fmt.Fprintln(stderr, "bot:", b.err)
		return 1
	}
	return 0
}

// bot is a telnet.Caller that chats until its deadline or count.
type bot struct {
	cfg      config
	log      io.Writer
	deadline time.Time
	nick     string // the nickname the server accepted
	err      error  // why the session failed, nil on a normal end
}

// byteReader reads one byte per call: go-telnet's reader only returns once
// the caller's buffer is full, so a bufio.Reader on top must ask for one byte.
type byteReader struct{ r io.Reader }

// Read reads at most one byte into p.
func (br byteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return br.r.Read(p[:1])
}

// CallTELNET runs the bot's session; it implements telnet.Caller.
func (b *bot) CallTELNET(_ telnet.Context, w telnet.Writer, r telnet.Reader) {
	in := bufio.NewReader(byteReader{r})
	if err := b.register(in, w); err != nil {
		b.err = err
		return
	}
	fmt.Fprintf(b.log, "%s: connected as %s\n", b.cfg.nick, b.nick)
	if b.cfg.room != "" {
		if err := writeLine(w, "/join "+b.cfg.room); err != nil {
			b.err = err
			return
		}
	}
	lines := make(chan string, 64)
	done := make(chan struct{})
	defer close(done) // lets readLines exit once the connection is closed
	go readLines(in, lines, done)
	b.err = b.chat(w, lines)
	if b.err == nil {
		writeLine(w, "/quit "+b.nick+" is done chatting") // best effort
		waitClosed(lines, quitWait)
	}
}

// register answers nickname prompts until the server welcomes the bot.
func (b *bot) register(in *bufio.Reader, w telnet.Writer) error {
	nick := b.cfg.nick
	for attempt := range maxNickAttempts {
		if err := awaitPrompt(in); err != nil {
			return err
		}
		if attempt > 0 {
			nick = fmt.Sprintf("%s%d", b.cfg.nick, attempt)
		}
		if err := writeLine(w, nick); err != nil {
			return err
		}
		accepted, err := awaitVerdict(in)
		if err != nil {
			return err
		}
		if accepted {
			b.nick = nick
			return nil
		}
	}
	return fmt.Errorf("%s after %d attempts: %w", b.cfg.nick, maxNickAttempts, errNickRefused)
}

// chat says lines and answers mentions until the deadline, the count, or
// the end of the connection.
func (b *bot) chat(w telnet.Writer, lines <-chan string) error {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(len(b.nick))))
	nextSay := time.NewTimer(b.randomInterval(rng))
	defer nextSay.Stop()
	end := time.NewTimer(time.Until(b.deadline) - min(quitWait, b.cfg.duration/4)) // leave time for /quit
	defer end.Stop()
	said := 0
	var lastReply time.Time
	for {
		select {
		case <-end.C:
			return nil
		case line, ok := <-lines:
			if !ok {
				return errors.New("server closed the connection")
			}
			if b.cfg.verbose {
				fmt.Fprintf(b.log, "%s< %s\n", b.nick, line)
			}
			from, ok := mentionedBy(line, b.nick)
			if !ok || time.Since(lastReply) < replyCooldown {
				continue
			}
			lastReply = time.Now()
			reply := from + ": " + replies[rng.IntN(len(replies))]
			if err := writeLine(w, reply); err != nil {
				return err
			}
			fmt.Fprintf(b.log, "%s> %s\n", b.nick, reply)
		case <-nextSay.C:
			text := sayings[rng.IntN(len(sayings))]
			if err := writeLine(w, text); err != nil {
				return err
			}
			fmt.Fprintf(b.log, "%s> %s\n", b.nick, text)
			said++
			if b.cfg.count > 0 && said >= b.cfg.count {
				return nil
			}
			nextSay.Reset(b.randomInterval(rng))
		}
	}
}

// randomInterval returns a wait uniformly distributed in [interval/2, 3*interval/2].
func (b *bot) randomInterval(rng *rand.Rand) time.Duration {
	half := b.cfg.interval / 2
	return half + time.Duration(rng.Int64N(int64(b.cfg.interval)+1))
}

// mentionedBy reports whether line is "<x> text" from another user x whose
// text mentions nick (case-insensitive), and returns x.
func mentionedBy(line, nick string) (string, bool) {
	if !strings.HasPrefix(line, "<") {
		return "", false
	}
	from, text, ok := strings.Cut(line[1:], "> ")
	if !ok || from == "" || strings.EqualFold(from, nick) {
		return "", false
	}
	if !strings.Contains(strings.ToLower(text), strings.ToLower(nick)) {
		return "", false
	}
	return from, true
}

// awaitPrompt reads until the nickname prompt.
func awaitPrompt(in *bufio.Reader) error {
	var seen []byte
	for range 64 << 10 {
		c, err := in.ReadByte()
		if err != nil {
			return fmt.Errorf("waiting for the nickname prompt: %w", err)
		}
		seen = append(seen, c)
		if c == '\n' {
			seen = seen[:0]
		}
		if strings.HasSuffix(string(seen), nickPrompt) {
			return nil
		}
	}
	return errors.New("no nickname prompt")
}

// awaitVerdict reads lines until the welcome line (true) or a "! " refusal (false).
func awaitVerdict(in *bufio.Reader) (bool, error) {
	for range 100 {
		line, err := in.ReadString('\n')
		if err != nil {
			return false, fmt.Errorf("waiting for the welcome: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "*** Welcome, "):
			return true, nil
		case strings.HasPrefix(line, "! "):
			return false, nil
		}
	}
	return false, errors.New("no welcome line")
}

// readLines sends each received line (without CR LF) to lines and closes it
// when the connection ends; it stops early once done is closed.
func readLines(in *bufio.Reader, lines chan<- string, done <-chan struct{}) {
	defer close(lines)
	for {
		line, err := in.ReadString('\n')
		if err != nil {
			return
		}
		select {
		case lines <- strings.TrimRight(line, "\r\n"):
		case <-done:
			return
		}
	}
}

// waitClosed drains lines until the reader ends or the wait is over.
func waitClosed(lines <-chan string, wait time.Duration) {
	timeout := time.NewTimer(wait)
	defer timeout.Stop()
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return
			}
		case <-timeout.C:
			return
		}
	}
}

// writeLine sends text with a Telnet line end (CR LF).
func writeLine(w telnet.Writer, text string) error {
	if _, err := w.Write([]byte(text + "\r\n")); err != nil {
		return fmt.Errorf("send %q: %w", text, err)
	}
	return nil
}
