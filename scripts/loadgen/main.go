// Command loadgen drives a telchat server with many raw TCP clients and
// checks end-to-end delivery: latency, loss, duplicates and reordering per
// sender, plus server memory and write system calls when given its pid.
// With -proto irc or -proto nats it drives an IRC or NATS server the same
// way, so that telchat can be compared with them (see proto.go).
//
// Every client answers the nickname prompt with a nickname unique to the run
// (lg<run><i>). Once all clients are named, the first -senders clients each
// send -lines lines of -size bytes at -rate lines/s. Every line carries the
// sender, a sequence number and the send time; every reading client checks
// what it receives. With -churn, clients join and leave in every way for a
// bounded time while a fixed set of well-behaved clients checks each other.
//
// The last line of output is machine readable: "RESULT key=value ...".
// The exit status is 0 on a clean run, 1 when a check failed, 2 on bad usage.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// config holds the command-line options.
type config struct {
	addr               string   // -addr as given
	addrs              []string // -addr split: client i uses addrs[i%len(addrs)]
	allowRemote        bool
	clients            int
	senders            int
	lines              int
	size               int
	rate               float64
	idle               int
	stalled            int
	stallWait          time.Duration
	expectStalledCut   bool
	hold               time.Duration
	timeout            time.Duration
	pids               pidList  // server processes sampled for memory and write syscalls (summed)
	natsPID            int      // NATS server process: its CPU time while sending
	natsVarz           string   // NATS monitoring /varz URL read at the start and end of sending
	metricsURLs        []string // telchat /metrics URLs read likewise (summed)
	dialConcurrency    int
	allowConnectErrors bool
	churn              time.Duration
	churners           int
	run                string
	quiet              bool
	recv               string
	proto              string // protocol spoken to the server (-proto)
	ircChannel         string // channel every client joins with -proto irc
	charMode           int    // the last this many checked clients use character mode (-char-mode)
}

// Ways of reading the checked clients (-recv).
const (
	recvPoll      = "poll"      // a few epoll loops (Linux)
	recvGoroutine = "goroutine" // one goroutine per client
)

// totalClients is the number of connections the run opens up front.
func (c config) totalClients() int { return c.clients + c.idle + c.stalled }

// parseConfig parses and validates the command line.
func parseConfig(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:2323", "server `HOST:PORT[,HOST:PORT...]`: with several (a cluster), client i connects to the (i mod N)th (loopback only unless -allow-remote)")
	fs.BoolVar(&c.allowRemote, "allow-remote", false, "allow a target that is not a loopback address")
	fs.IntVar(&c.natsPID, "nats-pid", 0, "NATS server `PID`: its CPU time while sending is reported (as the servers' is with -pid)")
	fs.StringVar(&c.natsVarz, "nats-varz", "", "NATS server monitoring `URL` (http://127.0.0.1:8222/varz): in_msgs/out_msgs read at the start and end of sending, reported per load line sent")
	metrics := fs.String("metrics", "", "telchat /metrics `URL[,URL...]`: the cluster_lines_published_total and cluster_events_published_total counters, summed, read at the start and end of sending, reported per load line sent")
	fs.IntVar(&c.clients, "clients", 100, "reading clients checked for loss/dup/reorder (senders included)")
	fs.IntVar(&c.senders, "senders", 10, "how many of the clients send (the first ones)")
	fs.IntVar(&c.lines, "lines", 1000, "lines per sender (with -churn: at most this many; default there: enough for the whole churn)")
	fs.IntVar(&c.size, "size", 64, "payload bytes per line (padded; minimum is the header, about 30 bytes)")
	fs.Float64Var(&c.rate, "rate", 0, "lines/s per sender, 0 = as fast as possible (with -churn 0 means 10)")
	fs.IntVar(&c.idle, "idle", 0, "extra clients that connect, get named and only drain their input (unchecked)")
	fs.IntVar(&c.stalled, "stalled", 0, "extra clients that get named and then never read")
	fs.DurationVar(&c.stallWait, "stall-wait", 0, "after readers finish, wait this long before checking whether stalled clients were cut")
	fs.BoolVar(&c.expectStalledCut, "expect-stalled-cut", false, "fail unless the server cut every stalled client")
	fs.DurationVar(&c.hold, "hold", 0, "after all clients are named, hold this long before sending (lets server memory settle)")
	fs.DurationVar(&c.timeout, "timeout", 60*time.Second, "deadline for the whole run (default with -churn: churn + 60s)")
	fs.Var(&c.pids, "pid", "server `PID[,PID...]` to sample RSS (/proc/PID/status) and write syscalls (/proc/PID/io); several are summed")
	fs.IntVar(&c.dialConcurrency, "dial-concurrency", 200, "connections being opened and named at once")
	fs.BoolVar(&c.allowConnectErrors, "allow-connect-errors", false, "do not fail the run on connect or naming errors")
	fs.DurationVar(&c.churn, "churn", 0, "soak mode: clients join, chat and leave in every way for this long")
	fs.IntVar(&c.churners, "churners", 20, "with -churn: concurrent churning connections")
	fs.StringVar(&c.run, "run", "", "run id used in nicknames (default: random, 4 lowercase letters/digits)")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress lines on stderr")
	fs.StringVar(&c.proto, "proto", protoTelchat, "server protocol: telchat, irc (one channel, PRIVMSG) or nats (subjects "+natsSubject+".NICK)")
	fs.StringVar(&c.ircChannel, "irc-channel", "#bench", "with -proto irc: the channel every client joins")
	fs.IntVar(&c.charMode, "char-mode", 0, "the last N checked clients (never senders) ask for Telnet character mode with terminal type xterm, so they get colours, timestamps and a redrawn input line; their lines are read through the escapes (-proto telchat)")
	fs.StringVar(&c.recv, "recv", defaultRecv, "how checked clients are read: poll (one epoll loop per CPU, Linux) or goroutine (one per client)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: loadgen [flags]\n\nOpens many clients against a telchat (or IRC, NATS) server and checks delivery.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.churn > 0 {
		if !set["timeout"] {
			c.timeout = c.churn + 60*time.Second
		}
		if c.rate == 0 {
			c.rate = 10
		}
		if !set["lines"] {
			c.lines = min(int(c.rate*c.churn.Seconds())+1, maxSequence)
		}
	}
	if c.run == "" {
		c.run = newRunID()
	}
	addrs, err := splitAddrs(c.addr)
	if err != nil {
		return c, err
	}
	c.addrs = addrs
	c.metricsURLs = splitURLs(*metrics)
	return c, c.validate()
}

// errBadConfig marks invalid option combinations.
var errBadConfig = errors.New("bad options")

// validate checks ranges and the loopback rule.
func (c config) validate() error {
	switch {
	case c.clients < 0 || c.idle < 0 || c.stalled < 0 || c.senders < 0 || c.lines < 0:
		return fmt.Errorf("counts must not be negative: %w", errBadConfig)
	case c.senders > c.clients:
		return fmt.Errorf("-senders %d > -clients %d: %w", c.senders, c.clients, errBadConfig)
	case c.proto != protoTelchat && c.proto != protoIRC && c.proto != protoNATS:
		return fmt.Errorf("-proto must be %s, %s or %s: %w", protoTelchat, protoIRC, protoNATS, errBadConfig)
	case c.churn > 0 && c.proto != protoTelchat:
		return fmt.Errorf("-churn needs -proto %s: %w", protoTelchat, errBadConfig)
	case c.proto == protoIRC && !validIRCChannel(c.ircChannel):
		return fmt.Errorf("-irc-channel %q must start with # or & and have no space, comma or control byte: %w", c.ircChannel, errBadConfig)
	case c.proto == protoIRC && c.size > ircMaxPayload:
		return fmt.Errorf("-size above %d with -proto irc (512-byte IRC lines): %w", ircMaxPayload, errBadConfig)
	case c.charMode < 0 || c.charMode > c.clients-c.senders:
		return fmt.Errorf("-char-mode %d: at most the %d clients that do not send: %w", c.charMode, c.clients-c.senders, errBadConfig)
	case c.charMode > 0 && c.proto != protoTelchat:
		return fmt.Errorf("-char-mode needs -proto %s: %w", protoTelchat, errBadConfig)
	case c.recv != recvPoll && c.recv != recvGoroutine:
		return fmt.Errorf("-recv must be %s or %s: %w", recvPoll, recvGoroutine, errBadConfig)
	case c.rate < 0:
		return fmt.Errorf("-rate must not be negative: %w", errBadConfig)
	case c.timeout <= 0:
		return fmt.Errorf("-timeout must be positive: %w", errBadConfig)
	case c.churn > 0 && c.churn >= c.timeout:
		return fmt.Errorf("-churn %v must be shorter than -timeout %v: %w", c.churn, c.timeout, errBadConfig)
	case c.churn > 0 && c.churners < 0:
		return fmt.Errorf("-churners must not be negative: %w", errBadConfig)
	case c.dialConcurrency < 1:
		return fmt.Errorf("-dial-concurrency must be at least 1: %w", errBadConfig)
	case c.lines > maxSequence:
		return fmt.Errorf("-lines above %d: %w", maxSequence, errBadConfig)
	case c.size > maxLineBytes/2:
		return fmt.Errorf("-size above %d: %w", maxLineBytes/2, errBadConfig)
	case !validRunID(c.run):
		return fmt.Errorf("-run %q must be 1-6 lowercase letters/digits: %w", c.run, errBadConfig)
	}
	for _, a := range c.addrs {
		if err := checkLoopback(a, c.allowRemote); err != nil {
			return err
		}
	}
	for _, u := range append([]string{c.natsVarz}, c.metricsURLs...) {
		if u == "" {
			continue
		}
		if err := checkCounterURL(u, c.allowRemote); err != nil {
			return err
		}
	}
	return nil
}

// validRunID reports whether id can be part of a nickname.
func validRunID(id string) bool {
	if id == "" || len(id) > 6 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// validIRCChannel reports whether name can be used as an IRC channel.
func validIRCChannel(name string) bool {
	if len(name) < 2 || len(name) > 50 || name[0] != '#' && name[0] != '&' {
		return false
	}
	for _, r := range name {
		if r <= ' ' || r == ',' || r == 0x7 || r == ':' {
			return false
		}
	}
	return true
}

// checkLoopback refuses targets that are not loopback addresses unless allowed.
func checkLoopback(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if allowRemote {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q is not a loopback address (use -allow-remote): %w", addr, errBadConfig)
	}
	return nil
}

// newRunID returns a random 4-character run id that starts with a letter.
func newRunID() string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	const alnum = letters + "0123456789"
	n := time.Now().UnixNano() ^ int64(os.Getpid())<<20
	id := []byte{letters[uint64(n)%26]}
	n /= 26
	for range 3 {
		id = append(id, alnum[uint64(n)%36])
		n /= 36
	}
	return string(id)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the exit, for testing.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}
	if err := raiseFileLimit(cfg.totalClients() + cfg.churners + 64); err != nil {
		fmt.Fprintln(stderr, "loadgen: warning:", err)
	}
	res, err := runLoad(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}
	res.print(stdout)
	if !res.pass {
		return 1
	}
	return 0
}
