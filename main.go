// Command telchat is a multi-user chat server for telnet and nc clients.
//
// main.go holds flags, wiring and signals only; see README.md and
// docs/operator-guide.md.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"

	"telchat/admin"
	"telchat/client"
	"telchat/cluster"
	"telchat/commands"
	"telchat/hub"
	"telchat/ipgroup"
	"telchat/logsample"
	"telchat/metrics"
	"telchat/store"
	"telchat/store/boltstore"
	"telchat/systemd"
	"telchat/usertext"
	"telchat/version"
)

// releaseVersion and releaseCommit are stamped at link time by
// scripts/release.sh (-ldflags "-X main.releaseVersion=v1.2.3 -X
// main.releaseCommit=..."); see package version.
var releaseVersion, releaseCommit string

func main() {
	if len(os.Args) > 1 && os.Args[1] == "hash-password" {
		os.Exit(hashPasswordCommand(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "backup" {
		if err := backup(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "telchat backup:", err)
			if errors.As(err, new(usageError)) {
				os.Exit(2)
			}
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "telchat:", err)
		if errors.As(err, new(usageError)) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type options struct {
	addr, logLevel, logFormat           string
	nickTimeout, idleTimeout            time.Duration
	writeTimeout, linger, shutdownTO    time.Duration
	maxLine, history, announceMax       int
	historyKeep, historyDays            int
	accountsPerDay                      int
	syncInterval                        time.Duration
	coalesce                            time.Duration
	coalesceMin                         int
	maxQueueBytes                       int64
	maxQueueTotal, maxQueuePerIP        int64
	maxBehind                           time.Duration
	maxQueueMsgs                        int
	maxClients, maxPerIP, msgBurst      int
	connectBurst                        int
	pmRate, pmBurst                     int
	ipv4Prefix, ipv6Prefix              int
	roomsPerIP                          int
	logRate                             int
	floodTime                           time.Duration
	msgRate, connectRate                float64
	console                             bool
	adminSocket, passwordFile, dataDir  string
	unicodeNicks                        bool
	negotiate                           bool
	pprofAddr, serverName               string
	metricsAddr                         string
	configFile, motdFile                string
	tlsAddr, tlsCert, tlsKey            string
	metricsRemote                       bool
	showVersion                         bool
	natsURLs, natsCreds, natsToken      string
	clusterName, serverID, clusterOrder string
	clusterTimeout                      time.Duration
	natsReplicas                        int
	labels                              map[string]string // flag name: how it was given, for errors
}

// usageError is a bad command line or environment value: the process
// exits with status 2, as for any command-line usage error.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// kindArg names, for the usage text, what a kind of flag value takes.
func kindArg(kind string) string {
	switch kind {
	case "duration":
		return "DURATION"
	case "int", "float":
		return "N"
	case "string":
		return "STRING"
	}
	return "" // a bool flag takes no value
}

// refusal records the flag value the flag package's Parse refused, so the
// error can name the flag, the value and what is allowed on one line.
type refusal struct {
	name, value string
	err         error
}

// recordingValue wraps a flag value and records its refusal.
type recordingValue struct {
	flag.Value
	name string
	bad  **refusal
}

// Set implements flag.Value.
func (r recordingValue) Set(s string) error {
	err := r.Value.Set(s)
	if err != nil && *r.bad == nil {
		*r.bad = &refusal{name: r.name, value: s, err: err}
	}
	return err
}

// IsBoolFlag passes the wrapped value's answer on to the flag package.
func (r recordingValue) IsBoolFlag() bool {
	b, ok := r.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// usageText is the help text for -h.
func usageText(fs *flag.FlagSet, kinds map[string]string) string {
	var b strings.Builder
	b.WriteString("Usage: telchat [flags]\n       telchat hash-password\n       telchat backup [-data-dir DIR] [-admin-socket PATH] FILE\n\n")
	b.WriteString("Every flag can also be set with an environment variable: -max-per-ip is TELCHAT_MAX_PER_IP.\n")
	b.WriteString("A DURATION is a number of seconds (30) or a number with a unit (500ms, 90s, 30m, 2h, 7d).\n\n")
	fs.VisitAll(func(f *flag.Flag) {
		fmt.Fprintf(&b, "  -%s", f.Name)
		if k := kindArg(kinds[f.Name]); k != "" {
			fmt.Fprintf(&b, " %s", k)
		}
		fmt.Fprintf(&b, "\n    \t%s", f.Usage)
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteString("\n")
	})
	return b.String()
}

// parseFlags reads the command line, then the TELCHAT_* environment for
// the flags not on it, then checks the values together. A bad value is a
// usageError with one line naming the flag or variable, the value and what
// is allowed. -h returns flag.ErrHelp after writing the usage to help.
func parseFlags(args []string, help io.Writer) (*options, error) {
	o := &options{labels: map[string]string{}}
	fs := flag.NewFlagSet("telchat", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var bad *refusal
	kinds := map[string]string{}
	add := func(name, kind string, v flag.Value, usage string) {
		kinds[name] = kind
		fs.Var(recordingValue{Value: v, name: name, bad: &bad}, name, usage)
	}
	str := func(p *string, name, def, usage string) {
		*p = def
		kinds[name] = "string"
		fs.StringVar(p, name, def, usage)
	}
	choice := func(p *string, name, def string, choices []string, usage string) {
		*p = def
		add(name, "string", choiceValue{p, choices}, usage)
	}
	dur := func(p *time.Duration, name string, def time.Duration, usage string) {
		*p = def
		add(name, "duration", durationValue{p}, usage)
	}
	num := func(p *int, name string, def int, usage string) {
		*p = def
		add(name, "int", intValue{p}, usage)
	}
	rate := func(p *float64, name string, def float64, usage string) {
		*p = def
		add(name, "float", floatValue{p}, usage)
	}
	boolean := func(p *bool, name, usage string) {
		add(name, "bool", boolValue{p}, usage)
	}
	str(&o.addr, "addr", ":2323", "TCP address to listen on")
	str(&o.serverName, "name", "telchat", "server name shown in the greeting")
	choice(&o.logLevel, "log-level", "info", []string{"debug", "info", "warn", "error"}, "log level: debug, info, warn, error")
	choice(&o.logFormat, "log-format", "auto", []string{"auto", "console", "json"}, "log format: auto (console on a terminal, else json), console, json")
	num(&o.logRate, "log-rate", logsample.DefaultPerSecond, "most log lines per second of each kind strangers can cause (refused connections, logins and leavings, admin commands by non-admins); the rest are counted in /stats and summed up in one line a minute (-1: no limit)")
	dur(&o.nickTimeout, "nick-timeout", 60*time.Second, "disconnect clients that give no valid nickname within this time")
	dur(&o.idleTimeout, "idle-timeout", 0, "disconnect users idle this long (0: never)")
	dur(&o.writeTimeout, "write-timeout", 10*time.Second, "disconnect a client as slow when its writes make no progress this long")
	dur(&o.linger, "linger", 2*time.Second, "after the goodbye and half-close, read and discard input this long before closing")
	dur(&o.shutdownTO, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown may take before connections are cut")
	num(&o.maxLine, "max-line", 1024, "longest line of text in bytes; longer lines are cut")
	num(&o.history, "history", 50, "messages each room keeps for users who join (0: none)")
	num(&o.historyKeep, "history-keep", boltstore.DefaultHistoryKeep, "messages each room keeps on disk, for /history (0: history in memory only)")
	num(&o.historyDays, "history-days", 30, "days a message is kept on disk")
	num(&o.accountsPerDay, "accounts-per-day", 3, "nicknames one address may register per day, UTC (0: no limit)")
	dur(&o.syncInterval, "sync-interval", boltstore.DefaultSyncInterval, "longest a message waits to be written to disk (one transaction per interval); a crash loses at most this much")
	num(&o.announceMax, "announce-max", 200, "rooms with more members than this get no join/leave lines (0: never announce, -1: always)")
	dur(&o.coalesce, "coalesce", 200*time.Microsecond, "hold the wake-ups of a fan-out to -coalesce-min or more clients this long, so lines arriving together go out in one write (0: off)")
	num(&o.coalesceMin, "coalesce-min", 256, "smallest fan-out whose wake-ups -coalesce holds")
	o.maxQueueBytes = 4 << 20
	add("max-queue-bytes", "int", int64Value{&o.maxQueueBytes}, "per-client outbound queue cap in bytes; over it the client is dropped as slow")
	num(&o.maxQueueMsgs, "max-queue-msgs", 16384, "per-client outbound queue cap in messages")
	o.maxQueueTotal, o.maxQueuePerIP = 256<<20, 32<<20
	add("max-queue-total", "int", int64Value{&o.maxQueueTotal}, "server-wide budget in bytes for all clients' outbound queues; as it runs out the biggest queues are cut first, as slow (0: no budget)")
	add("max-queue-per-ip", "int", int64Value{&o.maxQueuePerIP}, "one IP address's share of -max-queue-total, in bytes (0: no share)")
	dur(&o.maxBehind, "max-behind", 30*time.Second, "disconnect a client as slow when its queue stays over a quarter of -max-queue-bytes this long, even if it reads a little (0: never)")
	num(&o.maxClients, "max-clients", 10000, "maximum concurrent connections (0: no limit)")
	num(&o.maxPerIP, "max-per-ip", 16, "maximum concurrent connections per IP address (0: no limit)")
	rate(&o.connectRate, "connect-rate", 2, "new connections per second allowed per IP address (0: no limit)")
	num(&o.connectBurst, "connect-burst", 10, "burst of new connections allowed per IP address")
	num(&o.ipv4Prefix, "ipv4-prefix", ipgroup.DefaultIPv4Bits, "per-IP limits (-max-per-ip, -connect-rate, -max-queue-per-ip, /oper backoff) count IPv4 addresses by this prefix length (1 to 32)")
	num(&o.ipv6Prefix, "ipv6-prefix", ipgroup.DefaultIPv6Bits, "per-IP limits count IPv6 addresses by this prefix length (1 to 128; 64: one /64, usually one host or customer)")
	rate(&o.msgRate, "msg-rate", 5, "lines per second a client may send, steady (0: no limit)")
	num(&o.msgBurst, "msg-burst", 10, "lines a client may send in a burst")
	num(&o.roomsPerIP, "rooms-per-ip", 10, "rooms that users from one IP address (IPv6: one -ipv6-prefix group) may create (while they exist), so that a few addresses cannot take all 1,000 (0: no limit)")
	num(&o.pmRate, "pm-rate", 16<<10, "bytes per second of private messages one user may receive from everyone together; over it senders are told the user is busy (0: no limit)")
	num(&o.pmBurst, "pm-burst", 64<<10, "burst of private-message bytes one user may receive")
	dur(&o.floodTime, "flood-time", 30*time.Second, "a client over -msg-rate is slowed, its lines kept in order; one held back this long without a pause is disconnected (reason flood; 0: never)")
	boolean(&o.console, "console", "read admin commands from standard input (default: when standard input is a terminal)")
	str(&o.adminSocket, "admin-socket", "", "serve the admin console on this Unix socket (mode 0600)")
	str(&o.passwordFile, "admin-password-file", "", "file holding a bcrypt hash (telchat hash-password) that /oper accepts")
	str(&o.dataDir, "data-dir", "./data", "directory for the store (history) and bans, MOTD and topics")
	boolean(&o.unicodeNicks, "unicode-nicks", "allow Unicode nicknames (PRECIS-normalized, look-alikes refused)")
	boolean(&o.negotiate, "negotiate", "offer character mode (IAC WILL ECHO, WILL SGA, DO NAWS, DO TTYPE) on every connection: for listeners where everybody uses a Telnet client; nc users see those 12 bytes")
	boolean(&o.showVersion, "version", "print the version, commit and Go version, and exit")
	str(&o.tlsAddr, "tls-addr", "", "also serve the chat over TLS (implicit TLS, like port 992) on this address; needs -tls-cert and -tls-key")
	str(&o.tlsCert, "tls-cert", "", "TLS certificate chain, PEM (reloaded by SIGHUP and rehash)")
	str(&o.tlsKey, "tls-key", "", "TLS private key, PEM (reloaded by SIGHUP and rehash)")
	str(&o.configFile, "config", "", "read flag settings from this file, one \"name = value\" a line (the command line wins); SIGHUP and rehash read it again")
	str(&o.motdFile, "motd-file", "", "the message of the day, from this file (up to 20 lines); SIGHUP and rehash read it again")
	str(&o.metricsAddr, "metrics-addr", "", "serve /metrics, /healthz, /readyz and /debug/pprof/ over HTTP on this address, e.g. 127.0.0.1:9100 (loopback unless -metrics-allow-remote)")
	boolean(&o.metricsRemote, "metrics-allow-remote", "let -metrics-addr be a non-loopback address (the profiler still answers only loopback clients)")
	str(&o.pprofAddr, "pprof", "", "deprecated: the old name of -metrics-addr (loopback only)")
	str(&o.natsURLs, "nats", "", "join a cluster over NATS at these URLs (nats://host:4222, tls://..., comma-separated); without it the server stands alone")
	str(&o.natsCreds, "nats-creds", "", "NATS credentials file (JWT and NKey seed) for -nats")
	str(&o.natsToken, "nats-token", "", "NATS token for -nats")
	str(&o.clusterName, "cluster-name", "telchat", "the cluster's name: servers with the same name on the same NATS are one chat (letters, digits, _ or -)")
	str(&o.serverID, "server-id", "", "this server's id in the cluster, shown in /whois (default: host name and -addr port)")
	choice(&o.clusterOrder, "cluster-order", "local", []string{"local", "stream"}, "a room line said here is shown to this server's users at once (local), or when it comes back from the cluster (stream: every server shows a room's lines in the same order, at the price of a round through NATS)")
	num(&o.natsReplicas, "nats-replicas", 1, "copies JetStream keeps of the cluster's buckets and streams when this server creates them (1 to 5; 3 on a 3-node NATS lets a node die)")
	dur(&o.clusterTimeout, "cluster-timeout", 15*time.Second, "a cluster server not heard from this long is lost: its users are shown as left (server lost) and its nickname claims expire")

	if err := fs.Parse(args); err != nil {
		switch {
		case errors.Is(err, flag.ErrHelp):
			_, _ = io.WriteString(help, usageText(fs, kinds))
			return nil, err
		case bad != nil:
			return nil, usageError{fmt.Errorf("-%s %q: %w", bad.name, bad.value, bad.err)}
		default: // an unknown flag, or one without its value
			if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: "); ok {
				return nil, usageError{fmt.Errorf("unknown flag %s (telchat -h lists the flags)", name)}
			}
			return nil, usageError{fmt.Errorf("%w (telchat -h lists the flags)", err)}
		}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Errorf("unexpected argument %q: telchat takes only flags (telchat -h lists them)", fs.Arg(0))}
	}
	fs.VisitAll(func(f *flag.Flag) { o.labels[f.Name] = "-" + f.Name + " " + f.Value.String() })
	if err := applyEnv(fs, o.labels); err != nil {
		return nil, usageError{err}
	}
	if err := o.check(); err != nil {
		return nil, usageError{err}
	}
	return o, nil
}

// label names a flag and its value as the user gave it: "-linger -1s", or
// "TELCHAT_LINGER=-1s" when it came from the environment.
func (o *options) label(name string) string {
	if l, ok := o.labels[name]; ok {
		return l
	}
	return "-" + name
}

// check refuses values that have no meaning (rather than quietly using a
// default), each with a one-line reason naming the flag and its value.
func (o *options) check() error {
	checks := []struct {
		bad  bool
		flag string
		msg  string
	}{
		{o.coalesce > maxCoalesce, "coalesce", fmt.Sprintf("at most %v (it delays every line to a big room)", maxCoalesce)},
		{o.coalesce < 0, "coalesce", "must not be negative (0 turns it off)"},
		{o.maxLine < minMaxLine, "max-line", fmt.Sprintf("at least %d bytes", minMaxLine)},
		{o.nickTimeout <= 0, "nick-timeout", "must be positive"},
		{o.idleTimeout < 0, "idle-timeout", "must not be negative (0: never)"},
		{o.writeTimeout <= 0, "write-timeout", "must be positive"},
		{o.linger <= 0, "linger", "must be positive"},
		{o.shutdownTO <= 0, "shutdown-timeout", "must be positive"},
		{o.history < 0, "history", "must not be negative (0: none)"},
		{o.historyKeep < 0, "history-keep", "must not be negative (0: history in memory only)"},
		{o.accountsPerDay < 0, "accounts-per-day", "must not be negative (0: no limit)"},
		{o.historyDays < 1, "history-days", "must be at least 1"},
		{o.syncInterval < time.Millisecond || o.syncInterval > 10*time.Second, "sync-interval", "from 1ms to 10s"},
		{o.announceMax < -1, "announce-max", "must be -1 (always), 0 (never) or a room size"},
		{o.coalesceMin < 1, "coalesce-min", "must be at least 1"},
		{o.maxQueueBytes <= 0, "max-queue-bytes", "must be positive"},
		{o.maxQueueMsgs <= 0, "max-queue-msgs", "must be positive"},
		{o.maxQueueTotal < 0, "max-queue-total", "must not be negative (0: no budget)"},
		{o.maxQueuePerIP < 0, "max-queue-per-ip", "must not be negative (0: no share)"},
		{o.maxBehind < 0, "max-behind", "must not be negative (0: never)"},
		{o.maxClients < 0, "max-clients", "must not be negative (0: no limit)"},
		{o.maxPerIP < 0, "max-per-ip", "must not be negative (0: no limit)"},
		{o.logRate < 1 && o.logRate != -1, "log-rate", "must be at least 1 line a second, or -1 for no limit"},
		{o.ipv4Prefix < 1 || o.ipv4Prefix > 32, "ipv4-prefix", "must be 1 to 32 (32: each IPv4 address on its own)"},
		{o.ipv6Prefix < 1 || o.ipv6Prefix > 128, "ipv6-prefix", "must be 1 to 128 (64: each IPv6 /64; 128: each address on its own)"},
		{o.connectRate < 0, "connect-rate", "must not be negative (0: no limit)"},
		{o.msgRate < 0, "msg-rate", "must not be negative (0: no limit)"},
		{o.connectRate > 0 && o.connectBurst < 1, "connect-burst", "must be at least 1 (with a -connect-rate)"},
		{o.msgRate > 0 && o.msgBurst < 1, "msg-burst", "must be at least 1 (with a -msg-rate)"},
		{o.floodTime < 0, "flood-time", "must not be negative (0: never)"},
		{o.pmRate < 0, "pm-rate", "must not be negative (0: no limit)"},
		{o.roomsPerIP < 0, "rooms-per-ip", "must not be negative (0: no limit)"},
		{o.pmRate > 0 && o.pmBurst < 2*o.maxLine, "pm-burst", "must hold two of the longest lines (2 x -max-line) with a -pm-rate"},
		{o.pprofAddr != "" && !loopbackAddr(o.pprofAddr), "pprof", "want a loopback address and port, like 127.0.0.1:6060 (the profiler must not be public)"},
		{o.tlsAddr != "" && (o.tlsCert == "" || o.tlsKey == ""), "tls-addr", "needs -tls-cert and -tls-key"},
		{(o.tlsCert == "") != (o.tlsKey == ""), "tls-cert", "and -tls-key go together"},
		{o.pprofAddr != "" && o.metricsAddr != "", "pprof", "is the old name of -metrics-addr, which serves the profiler too; give only -metrics-addr"},
		{o.metricsAddr != "" && !o.metricsRemote && !loopbackAddr(o.metricsAddr), "metrics-addr", "want a loopback address and port, like 127.0.0.1:9100, or add -metrics-allow-remote"},
		{o.natsCreds != "" && o.natsToken != "", "nats-token", "give -nats-creds or -nats-token, not both"},
		{cluster.CheckName(o.clusterName) != nil, "cluster-name", "want 1 to 32 letters, digits, _ or -"},
		{o.clusterTimeout < time.Second || o.clusterTimeout > 10*time.Minute, "cluster-timeout", "from 1s to 10m"},
		{o.natsReplicas < 1 || o.natsReplicas > 5, "nats-replicas", "from 1 to 5"},
	}
	for _, c := range checks {
		if c.bad {
			return fmt.Errorf("%s: %s", o.label(c.flag), c.msg)
		}
	}
	return o.checkCluster()
}

// checkCluster refuses a -nats list or a -server-id that the cluster would
// refuse (or, for a mistyped URL scheme, try to dial) only once the
// server is starting. A URL's user and password are not repeated.
func (o *options) checkCluster() error {
	if o.natsURLs == "" {
		return nil
	}
	if err := cluster.CheckURLs(o.natsURLs); err != nil {
		return fmt.Errorf("%s: %w", o.labelAs("nats", cluster.Redact(o.natsURLs)), err)
	}
	if o.serverID != "" && cluster.CheckServerID(o.serverID) != nil {
		return fmt.Errorf("%s: want 1 to 64 printable characters without spaces", o.labelAs("server-id", strconv.Quote(o.serverID)))
	}
	return nil
}

// labelAs is label with the value shown as shown (redacted, or quoted).
func (o *options) labelAs(name, shown string) string {
	if l := o.label(name); !strings.HasPrefix(l, "-") {
		env, _, _ := strings.Cut(l, "=")
		return env + "=" + shown
	}
	return "-" + name + " " + shown
}

// loopbackAddr reports whether addr is host:port with a loopback host.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// hubHistory turns -history into hub.Config.HistorySize, where 0 means the
// default and a negative number none.
func hubHistory(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// hubAnnounceMax turns -announce-max into hub.Config.AnnounceMax, where 0
// means the default: "never" is a limit of 1 (in a room of one member there
// is nobody to tell).
func hubAnnounceMax(n int) int {
	if n == 0 {
		return 1
	}
	return n
}

// hubPrivateRate turns -pm-rate (or -rooms-per-ip) into hub.Config's
// PrivateRate (MaxRoomsPerAddr), where 0 means the default and a negative
// number no limit.
func hubPrivateRate(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// minMaxLine is the smallest -max-line: a nickname and a command must fit.
const minMaxLine = 64

// maxCoalesce bounds -coalesce: a hold is meant to be a small part of a big
// fan-out's own duration.
const maxCoalesce = 100 * time.Millisecond

// applyEnv sets each flag not given on the command line from its
// environment twin: -max-per-ip from TELCHAT_MAX_PER_IP. It records in
// labels where each value it set came from.
func applyEnv(fs *flag.FlagSet, labels map[string]string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		env := "TELCHAT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			labels[f.Name] = env + "=" + v
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %w", env, v, e)
			}
		}
	})
	return err
}

func newLogger(level, format string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return zerolog.Logger{}, fmt.Errorf("-log-level: %w", err)
	}
	var w io.Writer = os.Stderr
	switch format {
	case "auto":
		if term.IsTerminal(int(os.Stderr.Fd())) {
			w = zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly}
		}
	case "console":
		w = zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly, NoColor: true}
	case "json":
	default:
		return zerolog.Logger{}, fmt.Errorf("-log-format: %q is not auto, console or json", format)
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

func run(cmdline []string) error {
	args, err := expandConfig(cmdline)
	if err != nil {
		return err
	}
	o, err := parseFlags(args, os.Stdout)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	build := version.Read(releaseVersion, releaseCommit)
	if o.showVersion {
		fmt.Println(build)
		return nil
	}
	log, err := newLogger(o.logLevel, o.logFormat)
	if err != nil {
		return err
	}
	log.Info().Str("version", build.Version).Str("commit", build.ShortCommit()).Str("go", build.Go).Msg("starting")
	// Under systemd (Type=notify) the manager waits for READY=1.
	notify, err := systemd.NewNotifier(os.Getenv("NOTIFY_SOCKET"))
	if err != nil {
		return err
	}
	releaseDir, err := store.Lock(o.dataDir)
	if err != nil {
		return fmt.Errorf("-data-dir: %w", err)
	}
	defer releaseDir()
	// Under the lock: no other process can be in the middle of a save.
	removed, err := store.RemoveTemp(o.dataDir)
	if err != nil {
		return fmt.Errorf("-data-dir: %w", err)
	}
	if len(removed) > 0 {
		log.Info().Strs("files", removed).Msg("removed temporary files left by an interrupted save")
	}
	passwordCheck, err := loadPassword(o.passwordFile)
	if err != nil {
		return err
	}
	// The store holds the operator state too; on its first start it
	// imports state.json (left in place as a backup, never read again).
	db, err := boltstore.Open(o.dataDir, boltstore.Options{
		SyncInterval:  o.syncInterval,
		HistoryKeep:   o.historyKeep,
		HistoryAge:    time.Duration(o.historyDays) * 24 * time.Hour,
		OperatorState: true,
		Log:           log,
	})
	if err != nil {
		return fmt.Errorf("opening the store (fix it, or move it away and restore a backup; nothing was changed): %w", err)
	}
	state := db.State()
	// On every way out: queued writes tried for -shutdown-timeout, file
	// closed.
	dbClosed := false
	defer func() {
		if !dbClosed {
			cctx, cancel := context.WithTimeout(context.Background(), o.shutdownTO)
			defer cancel()
			_ = db.Close(cctx)
		}
	}()
	if motd, err := loadMOTD(o.motdFile); err != nil {
		return err
	} else if motd != nil {
		state.MOTD = *motd
	}
	var certs certStore
	if o.tlsCert != "" {
		cert, err := loadCert(o.tlsCert, o.tlsKey)
		if err != nil {
			return err
		}
		certs.cert.Store(cert)
		log.Info().Str("cert", o.tlsCert).Str("expires", expiry(cert)).Msg("TLS certificate loaded")
	}
	reload := &reloader{args: cmdline, log: log, notify: notify, cur: o, certs: &certs}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1) // SIGHUP reloads (it no longer ends the process)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	shutdownReason := make(chan string, 1)

	link, err := dialCluster(ctx, o, log)
	if err != nil {
		return err
	}
	nickRules := usertext.NickRules{Unicode: o.unicodeNicks}
	if link != nil {
		if err := shareAccounts(ctx, link, db, nickRules, o.clusterName, log); err != nil {
			link.Kill()
			_ = link.Close(context.Background())
			return err
		}
	}
	table := commands.New()
	hcfg := hub.Config{
		ServerName:     o.serverName,
		Version:        build.Version,
		HistorySize:    hubHistory(o.history),
		AnnounceMax:    hubAnnounceMax(o.announceMax),
		Coalesce:       o.coalesce,
		CoalesceMin:    o.coalesceMin,
		NickTimeout:    o.nickTimeout,
		IdleTimeout:    o.idleTimeout,
		Nick:           nickRules,
		AddrGroups:     ipgroup.Prefixes{IPv4: o.ipv4Prefix, IPv6: o.ipv6Prefix},
		LogPerSecond:   o.logRate,
		Commands:       table,
		State:          state,
		Saver:          db,
		Archive:        db,
		NoDiskHistory:  o.historyKeep == 0,
		PasswordCheck:  passwordCheck,
		Rehash:         func(by string) ([]string, error) { return reload.reload(by) },
		PrivateRate:    hubPrivateRate(o.pmRate),
		PrivateBurst:   o.pmBurst,
		Accounts:       db.Accounts(),
		AccountsPerDay: o.accountsPerDay,
		// Private messages may fill a quarter of a user's queue, so that
		// others cannot get the user cut as slow.
		PrivateBacklog: o.maxQueueBytes / 4,
		// 0: no limit, as for -pm-rate.
		MaxRoomsPerAddr: hubPrivateRate(o.roomsPerIP),
		OnShutdown: func(reason string) {
			select {
			case shutdownReason <- reason:
			default:
			}
			stop()
		},
		Log: log,
	}
	if link != nil {
		hcfg.Relay, hcfg.Claims = link, link
		hcfg.MOTDFromFile = o.motdFile != ""
		hcfg.Archive = cluster.NewArchive(db, link)
		hcfg.Accounts = nil // the cluster's come from its bucket (link.Start)
		hcfg.ServerID, hcfg.ClusterTimeout = link.ServerID(), o.clusterTimeout
		hcfg.ClusterOrdered = o.clusterOrder == "stream"
		defer func() {
			// After the hub has stopped (its users' departures are sent).
			cctx, cancel := context.WithTimeout(context.Background(), o.shutdownTO)
			defer cancel()
			if err := link.Close(cctx); err != nil {
				log.Warn().Err(err).Msg("cluster link not closed cleanly")
			}
		}()
	}
	h := hub.New(hcfg)
	go h.Run(context.Background())
	if link != nil {
		if err := link.Start(h); err != nil {
			return err
		}
	}

	srv := client.NewServer(client.Config{
		Hub: h, Log: log,
		MaxLine: o.maxLine, WriteTimeout: o.writeTimeout, Linger: o.linger,
		MaxQueueBytes: o.maxQueueBytes, MaxQueueMsgs: o.maxQueueMsgs,
		MaxQueueTotal: orNone(o.maxQueueTotal), MaxQueuePerIP: orNone(o.maxQueuePerIP),
		MaxBehind: orNone(o.maxBehind),
		MsgRate:   o.msgRate, MsgBurst: o.msgBurst, FloodTime: o.floodTime,
		MaxClients: o.maxClients, MaxPerIP: o.maxPerIP,
		ConnectRate: o.connectRate, ConnectBurst: o.connectBurst,
		Negotiate: o.negotiate, CommandNames: table.ChatNames(),
	})
	reload.attach(h, srv)
	// The admin socket first: a start-up that fails on it must not have
	// said "listening" on the chat port.
	var sock *admin.SocketServer
	if o.adminSocket != "" {
		if sock, err = admin.ListenSocket(o.adminSocket, h, log); err != nil {
			return err
		}
		log.Info().Str("path", o.adminSocket).Msg("admin socket listening")
		go func() { _ = sock.Serve() }()
	}
	lns, err := openListeners(o.addr, o.tlsAddr)
	if err == nil {
		err = checkTLSListeners(lns, o)
	}
	if err != nil {
		if sock != nil {
			_ = sock.Close(context.Background()) // removes the socket file
		}
		return err
	}
	var accepting atomic.Bool // for /readyz
	msrc := metrics.Sources{Hub: h, Clients: srv, Build: build, StoreFile: boltstore.Path(o.dataDir)}
	if link != nil {
		msrc.Cluster = link
	}
	msrv, err := startMetrics(o, msrc, func() error {
		if !accepting.Load() {
			return errors.New("not accepting chat connections")
		}
		if link != nil && !link.Linked() {
			return errors.New("not linked to the cluster (NATS connection down, or its feed not working)")
		}
		return nil
	}, log)
	if err != nil {
		lns.close()
		if sock != nil {
			_ = sock.Close(context.Background())
		}
		return err
	}
	serveErr := make(chan error, len(lns.chat)+len(lns.tls))
	for _, ln := range lns.chat {
		log.Info().Str("addr", ln.Addr().String()).Bool("systemd", lns.activated).Msg("listening")
		go func() { serveErr <- srv.Serve(ln) }()
	}
	for _, ln := range lns.tls {
		log.Info().Str("addr", ln.Addr().String()).Bool("systemd", lns.activated).Msg("tls listening")
		go func() { serveErr <- srv.ServeTLS(ln, certs.config()) }()
	}

	if o.console || term.IsTerminal(int(os.Stdin.Fd())) {
		go admin.ServeStdin(h, os.Stdin, os.Stdout, log)
	}
	accepting.Store(true)
	go reloadOnSignal(ctx, hup, reload, h)
	if err := notify.Ready("accepting connections"); err != nil {
		log.Warn().Err(err).Msg("telling systemd we are ready")
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		log.Error().Err(err).Msg("accept loop ended")
	}
	notice := "Server shutting down"
	select {
	case r := <-shutdownReason:
		if r != "" {
			notice += ": " + r
		}
	default:
	}
	log.Info().Msg("shutting down")
	accepting.Store(false)
	_ = notify.Stopping(notice)
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTO)
	defer cancel()
	if err := srv.Shutdown(sctx, notice); err != nil {
		log.Warn().Err(err).Msg("shutdown did not finish in time; remaining connections were cut")
	}
	if sock != nil {
		_ = sock.Close(sctx)
	}
	// The store gets its own deadline: the connections may have used all
	// of theirs.
	savectx, cancelSave := context.WithTimeout(context.Background(), o.shutdownTO)
	defer cancelSave()
	dbClosed = true
	if err := db.Close(savectx); err != nil {
		log.Error().Err(err).Msg("state not saved: changes since the last save (and the newest history lines) are lost")
		return fmt.Errorf("exiting with state not on disk: %w", err)
	}
	if msrv != nil {
		_ = msrv.Shutdown(sctx)
	}
	log.Info().Msg("bye")
	return nil
}

// loadPassword reads the bcrypt hash for /oper; empty path disables /oper.
func loadPassword(path string) (func(string) bool, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-admin-password-file: %w", err)
	}
	hash := bytes.TrimSpace(b)
	if _, err := bcrypt.Cost(hash); err != nil {
		return nil, fmt.Errorf("-admin-password-file %s does not hold a bcrypt hash (make one with: telchat hash-password): %w", path, err)
	}
	return func(pw string) bool {
		return bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil
	}, nil
}

// startMetrics serves the operations endpoint (package metrics) on
// -metrics-addr, or on -pprof, its deprecated old name; nil when neither
// is set.
func startMetrics(o *options, src metrics.Sources, ready func() error, log zerolog.Logger) (*metrics.Server, error) {
	addr, flagName := o.metricsAddr, "-metrics-addr"
	if addr == "" && o.pprofAddr != "" {
		addr, flagName = o.pprofAddr, "-pprof"
		log.Warn().Msg("-pprof is deprecated: use -metrics-addr, which serves the profiler under /debug/pprof/ and also /metrics, /healthz and /readyz")
	}
	if addr == "" {
		return nil, nil
	}
	ln, err := metrics.Listen(addr, o.metricsRemote)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagName, err)
	}
	msrv, err := metrics.NewServer(ln, metrics.Config{Sources: src, Ready: ready, Log: log})
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	log.Info().Str("addr", ln.Addr().String()).Msg("metrics listening")
	go func() {
		if err := msrv.Serve(); err != nil {
			log.Error().Err(err).Msg("metrics server ended")
		}
	}()
	return msrv, nil
}

// orNone maps a flag's 0 ("none") to the negative value that means none
// in client.Config, whose zero values mean the defaults.
func orNone[T int64 | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}

// reloadOnSignal reloads on every SIGHUP until ctx ends, and tells the
// consoles how it went.
func reloadOnSignal(ctx context.Context, hup <-chan os.Signal, r *reloader, h *hub.Hub) {
	for {
		select {
		case <-hup:
			lines, err := r.reload("SIGHUP")
			if err != nil {
				lines = append(lines, "! Reload (SIGHUP) failed, nothing was changed: "+err.Error())
			} else {
				lines = append([]string{"*** Reloaded (SIGHUP)"}, lines...)
			}
			_ = h.TellConsoles(lines...)
		case <-ctx.Done():
			return
		}
	}
}
