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
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"

	"telchat/admin"
	"telchat/client"
	"telchat/commands"
	"telchat/hub"
	"telchat/store"
	"telchat/usertext"
	"telchat/version"
)

// releaseVersion and releaseCommit are stamped at link time by
// scripts/release.sh (-ldflags "-X main.releaseVersion=v1.2.3 -X
// main.releaseCommit=..."); see package version.
var releaseVersion, releaseCommit string

func main() {
	if len(os.Args) > 1 && os.Args[1] == "hash-password" {
		if err := hashPassword(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "telchat hash-password:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "telchat:", err)
		os.Exit(1)
	}
}

type options struct {
	addr, logLevel, logFormat          string
	nickTimeout, idleTimeout           time.Duration
	writeTimeout, linger, shutdownTO   time.Duration
	maxLine, history, announceMax      int
	coalesce                           time.Duration
	coalesceMin                        int
	maxQueueBytes                      int64
	maxQueueMsgs                       int
	maxClients, maxPerIP, msgBurst     int
	connectBurst, floodDrops           int
	msgRate, connectRate               float64
	console                            bool
	adminSocket, passwordFile, dataDir string
	unicodeNicks                       bool
	pprofAddr, serverName              string
	showVersion                        bool
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("telchat", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", ":2323", "TCP address to listen on")
	fs.StringVar(&o.serverName, "name", "telchat", "server name shown in the greeting")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&o.logFormat, "log-format", "auto", "log format: auto (console on a terminal, else json), console, json")
	fs.DurationVar(&o.nickTimeout, "nick-timeout", 60*time.Second, "disconnect clients that give no valid nickname within this time")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", 0, "disconnect users idle this long (0: never)")
	fs.DurationVar(&o.writeTimeout, "write-timeout", 10*time.Second, "disconnect a client as slow when its writes make no progress this long")
	fs.DurationVar(&o.linger, "linger", 2*time.Second, "after the goodbye and half-close, read and discard input this long before closing")
	fs.DurationVar(&o.shutdownTO, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown may take before connections are cut")
	fs.IntVar(&o.maxLine, "max-line", 1024, "longest line of text in bytes; longer lines are cut")
	fs.IntVar(&o.history, "history", 50, "messages each room keeps for users who join (0: none)")
	fs.IntVar(&o.announceMax, "announce-max", 200, "rooms with more members than this get no join/leave lines (0: never announce, -1: always)")
	fs.DurationVar(&o.coalesce, "coalesce", 200*time.Microsecond, "hold the wake-ups of a fan-out to -coalesce-min or more clients this long, so lines arriving together go out in one write (0: off)")
	fs.IntVar(&o.coalesceMin, "coalesce-min", 256, "smallest fan-out whose wake-ups -coalesce holds")
	fs.Int64Var(&o.maxQueueBytes, "max-queue-bytes", 4<<20, "per-client outbound queue cap in bytes; over it the client is dropped as slow")
	fs.IntVar(&o.maxQueueMsgs, "max-queue-msgs", 16384, "per-client outbound queue cap in messages")
	fs.IntVar(&o.maxClients, "max-clients", 10000, "maximum concurrent connections (0: no limit)")
	fs.IntVar(&o.maxPerIP, "max-per-ip", 16, "maximum concurrent connections per IP address (0: no limit)")
	fs.Float64Var(&o.connectRate, "connect-rate", 2, "new connections per second allowed per IP address (0: no limit)")
	fs.IntVar(&o.connectBurst, "connect-burst", 10, "burst of new connections allowed per IP address")
	fs.Float64Var(&o.msgRate, "msg-rate", 5, "lines per second a client may send, steady (0: no limit)")
	fs.IntVar(&o.msgBurst, "msg-burst", 10, "lines a client may send in a burst")
	fs.IntVar(&o.floodDrops, "flood-drops", 30, "disconnect a client (reason flood) after this many dropped lines in 10 s (0: never)")
	fs.BoolVar(&o.console, "console", false, "read admin commands from standard input (default: when standard input is a terminal)")
	fs.StringVar(&o.adminSocket, "admin-socket", "", "serve the admin console on this Unix socket (mode 0600)")
	fs.StringVar(&o.passwordFile, "admin-password-file", "", "file holding a bcrypt hash (telchat hash-password) that /oper accepts")
	fs.StringVar(&o.dataDir, "data-dir", "./data", "directory for bans, MOTD and topics")
	fs.BoolVar(&o.unicodeNicks, "unicode-nicks", false, "allow Unicode nicknames (PRECIS-normalized, look-alikes refused)")
	fs.BoolVar(&o.showVersion, "version", false, "print the version, commit and Go version, and exit")
	fs.StringVar(&o.pprofAddr, "pprof", "", "serve net/http/pprof on this loopback address, e.g. 127.0.0.1:6060")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: telchat [flags]\n       telchat hash-password < password\n\nEvery flag can also be set with an environment variable: -max-per-ip is TELCHAT_MAX_PER_IP.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := applyEnv(fs); err != nil {
		return nil, err
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	return o, nil
}

// check refuses values that have no meaning (rather than quietly using a
// default), each with a one-line reason.
func (o *options) check() error {
	checks := []struct {
		bad bool
		msg string
	}{
		{o.coalesce > maxCoalesce, fmt.Sprintf("-coalesce %v: at most %v (it delays every line to a big room)", o.coalesce, maxCoalesce)},
		{o.coalesce < 0, "-coalesce must not be negative (0 turns it off)"},
		{o.maxLine < minMaxLine, fmt.Sprintf("-max-line %d: at least %d bytes", o.maxLine, minMaxLine)},
		{o.nickTimeout <= 0, "-nick-timeout must be positive"},
		{o.idleTimeout < 0, "-idle-timeout must not be negative (0: never)"},
		{o.writeTimeout <= 0, "-write-timeout must be positive"},
		{o.linger <= 0, "-linger must be positive"},
		{o.shutdownTO <= 0, "-shutdown-timeout must be positive"},
		{o.history < 0, "-history must not be negative (0: none)"},
		{o.announceMax < -1, "-announce-max must be -1 (always), 0 (never) or a room size"},
		{o.coalesceMin < 1, "-coalesce-min must be at least 1"},
		{o.maxQueueBytes <= 0 || o.maxQueueMsgs <= 0, "-max-queue-bytes and -max-queue-msgs must be positive"},
		{o.maxClients < 0 || o.maxPerIP < 0, "-max-clients and -max-per-ip must not be negative (0: no limit)"},
		{o.connectRate < 0 || o.msgRate < 0, "-connect-rate and -msg-rate must not be negative (0: no limit)"},
		{o.connectRate > 0 && o.connectBurst < 1, "-connect-burst must be at least 1"},
		{o.msgRate > 0 && o.msgBurst < 1, "-msg-burst must be at least 1"},
		{o.floodDrops < 0, "-flood-drops must not be negative (0: never)"},
	}
	for _, c := range checks {
		if c.bad {
			return errors.New(c.msg)
		}
	}
	return nil
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

// minMaxLine is the smallest -max-line: a nickname and a command must fit.
const minMaxLine = 64

// maxCoalesce bounds -coalesce: a hold is meant to be a small part of a big
// fan-out's own duration.
const maxCoalesce = 100 * time.Millisecond

// applyEnv sets each flag not given on the command line from its
// environment twin: -max-per-ip from TELCHAT_MAX_PER_IP.
func applyEnv(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		env := "TELCHAT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if e := fs.Set(f.Name, v); e != nil {
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

func run(args []string) error {
	o, err := parseFlags(args)
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
	releaseDir, err := store.Lock(o.dataDir)
	if err != nil {
		return fmt.Errorf("-data-dir: %w", err)
	}
	defer releaseDir()
	state, err := store.Load(o.dataDir)
	if err != nil {
		return fmt.Errorf("loading state (fix or move the file; nothing was changed): %w", err)
	}
	passwordCheck, err := loadPassword(o.passwordFile)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	shutdownReason := make(chan string, 1)

	saver := store.NewSaver(o.dataDir, log)
	h := hub.New(hub.Config{
		ServerName:    o.serverName,
		Version:       build.Version,
		HistorySize:   hubHistory(o.history),
		AnnounceMax:   hubAnnounceMax(o.announceMax),
		Coalesce:      o.coalesce,
		CoalesceMin:   o.coalesceMin,
		NickTimeout:   o.nickTimeout,
		IdleTimeout:   o.idleTimeout,
		Nick:          usertext.NickRules{Unicode: o.unicodeNicks},
		Commands:      commands.New(),
		State:         state,
		Saver:         saver,
		PasswordCheck: passwordCheck,
		OnShutdown: func(reason string) {
			select {
			case shutdownReason <- reason:
			default:
			}
			stop()
		},
		Log: log,
	})
	go h.Run(context.Background())

	srv := client.NewServer(client.Config{
		Hub: h, Log: log,
		MaxLine: o.maxLine, WriteTimeout: o.writeTimeout, Linger: o.linger,
		MaxQueueBytes: o.maxQueueBytes, MaxQueueMsgs: o.maxQueueMsgs,
		MsgRate: o.msgRate, MsgBurst: o.msgBurst, FloodDrops: o.floodDrops,
		MaxClients: o.maxClients, MaxPerIP: o.maxPerIP,
		ConnectRate: o.connectRate, ConnectBurst: o.connectBurst,
	})
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
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		if sock != nil {
			_ = sock.Close(context.Background()) // removes the socket file
		}
		return fmt.Errorf("listen: %w", err)
	}
	log.Info().Str("addr", ln.Addr().String()).Msg("listening")
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	if o.console || term.IsTerminal(int(os.Stdin.Fd())) {
		go admin.Serve(h, os.Stdin, os.Stdout, "console", log)
	}
	if o.pprofAddr != "" {
		if err := servePprof(o.pprofAddr, log); err != nil {
			return err
		}
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
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTO)
	defer cancel()
	if err := srv.Shutdown(sctx, notice); err != nil {
		log.Warn().Err(err).Msg("shutdown did not finish in time; remaining connections were cut")
	}
	if sock != nil {
		_ = sock.Close(sctx)
	}
	if err := saver.Close(); err != nil {
		log.Error().Err(err).Msg("saving state")
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

// hashPassword reads a password (without echo on a terminal) and prints its
// bcrypt hash.
func hashPassword(in *os.File, out io.Writer) error {
	var pw []byte
	var err error
	if term.IsTerminal(int(in.Fd())) {
		fmt.Fprint(os.Stderr, "Password: ")
		pw, err = term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(os.Stderr)
	} else {
		pw, err = io.ReadAll(io.LimitReader(in, 1024))
		pw = bytes.TrimRight(pw, "\r\n")
	}
	if err != nil {
		return err
	}
	if len(pw) == 0 || len(pw) > 72 {
		return errors.New("the password must be 1 to 72 bytes")
	}
	hash, err := bcrypt.GenerateFromPassword(pw, bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(hash))
	return err
}

// servePprof serves the profiler on a loopback address only.
func servePprof(addr string, log zerolog.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-pprof: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-pprof %s: only loopback addresses are allowed", addr)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("-pprof: %w", err)
	}
	log.Info().Str("addr", ln.Addr().String()).Msg("pprof listening")
	go func() { _ = (&http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}).Serve(ln) }()
	return nil
}
