// Package servertest starts a real telchat server (hub, commands, client
// sessions) on a loopback port for end-to-end tests of several packages,
// and drives it with plain TCP clients. It lives under internal/ because only
// tests use it.
package servertest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"telchat/client"
	"telchat/commands"
	"telchat/hub"
)

// Timeout bounds every wait in a test.
const Timeout = 10 * time.Second

// Server is a running test server.
type Server struct {
	Addr   string
	Hub    *hub.Hub
	Server *client.Server

	ln     net.Listener
	served chan error
	once   sync.Once
	tb     testing.TB
}

// Config adjusts the server under test.
type Config struct {
	Hub    hub.Config
	Client client.Config
	// Log, if set, receives the server's log as JSON lines (it must be
	// safe for concurrent writes). Without it the log is dropped, or
	// written to standard error when TELCHAT_TEST_LOG is set.
	Log io.Writer
}

// Start runs a server on 127.0.0.1:0 with limits off unless cfg sets them,
// and shuts it down when the test ends.
func Start(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	log := zerolog.Nop()
	switch {
	case cfg.Log != nil:
		log = zerolog.New(cfg.Log).With().Timestamp().Logger()
	case os.Getenv("TELCHAT_TEST_LOG") != "":
		log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).With().Timestamp().Logger()
	}
	if cfg.Hub.Commands == nil {
		cfg.Hub.Commands = commands.New()
	}
	cfg.Hub.Log = log
	h := hub.New(cfg.Hub)
	go h.Run(context.Background())
	cfg.Client.Hub = h
	cfg.Client.Log = log
	srv := client.NewServer(cfg.Client)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	s := &Server{Addr: ln.Addr().String(), Hub: h, Server: srv, ln: ln, served: make(chan error, 1), tb: tb}
	go func() { s.served <- srv.Serve(ln) }()
	tb.Cleanup(func() { s.Shutdown() })
	return s
}

// Shutdown shuts the server down gracefully (once) and waits for it.
func (s *Server) Shutdown() {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := s.Server.Shutdown(ctx, "test over"); err != nil {
			s.tb.Errorf("shutdown: %v", err)
		}
		if err := <-s.served; !errors.Is(err, client.ErrServerClosed) {
			s.tb.Errorf("serve: %v", err)
		}
		<-s.Hub.Done()
	})
}

// Client is a raw TCP client, like nc.
type Client struct {
	Conn *net.TCPConn
	R    *bufio.Reader
	Nick string
	tb   testing.TB
}

// Dial connects a raw client; it is closed when the test ends.
func (s *Server) Dial(tb testing.TB) *Client {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", s.Addr, Timeout)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	c := &Client{Conn: conn.(*net.TCPConn), R: bufio.NewReader(conn), tb: tb}
	tb.Cleanup(func() { _ = c.Conn.Close() })
	return c
}

// DialFrom connects a raw client from the local address local (such as
// "127.3.2.1": on Linux every 127.x.y.z is a loopback address), so that a
// test can play many client addresses; it is closed when the test ends.
func (s *Server) DialFrom(tb testing.TB, local string) *Client {
	tb.Helper()
	d := net.Dialer{Timeout: Timeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	conn, err := d.Dial("tcp", s.Addr)
	if err != nil {
		tb.Fatalf("dial from %s: %v", local, err)
	}
	c := &Client{Conn: conn.(*net.TCPConn), R: bufio.NewReader(conn), tb: tb}
	tb.Cleanup(func() { _ = c.Conn.Close() })
	return c
}

// LoginFrom is Login from the local address local (see DialFrom).
func (s *Server) LoginFrom(tb testing.TB, nick, local string) *Client {
	tb.Helper()
	c := s.DialFrom(tb, local)
	c.ExpectPrompt()
	c.Send(nick)
	c.Expect("*** Welcome, " + nick + "!")
	c.Expect("You are now in #")
	c.Nick = nick
	return c
}

// Login dials, answers the nickname prompt and waits for the welcome.
func (s *Server) Login(tb testing.TB, nick string) *Client {
	tb.Helper()
	c := s.Dial(tb)
	c.ExpectPrompt()
	c.Send(nick)
	c.Expect("*** Welcome, " + nick + "!")
	c.Expect("You are now in #")
	c.Nick = nick
	return c
}

// Send writes one line ending in LF.
func (c *Client) Send(line string) {
	c.tb.Helper()
	c.Write([]byte(line + "\n"))
}

// Write writes raw bytes.
func (c *Client) Write(b []byte) {
	c.tb.Helper()
	_ = c.Conn.SetWriteDeadline(time.Now().Add(Timeout))
	if _, err := c.Conn.Write(b); err != nil {
		c.tb.Fatalf("%s: write: %v", c.Nick, err)
	}
}

// ExpectPrompt reads until the nickname prompt (which has no line end).
func (c *Client) ExpectPrompt() {
	c.tb.Helper()
	c.readUntil("Choose a nickname: ")
}

// ExpectText reads raw bytes until marker (text without a line end, such
// as a password prompt) and returns them, marker included; it fails the
// test on timeout or EOF.
func (c *Client) ExpectText(marker string) string {
	c.tb.Helper()
	return c.readUntil(marker)
}

func (c *Client) readUntil(marker string) string {
	c.tb.Helper()
	_ = c.Conn.SetReadDeadline(time.Now().Add(Timeout))
	var sb strings.Builder
	for !strings.HasSuffix(sb.String(), marker) {
		b, err := c.R.ReadByte()
		if err != nil {
			c.tb.Fatalf("%s: waiting for %q: %v (got %q)", c.Nick, marker, err, sb.String())
		}
		sb.WriteByte(b)
	}
	return sb.String()
}

// Line reads one line (without CR LF). It fails the test on timeout or EOF.
func (c *Client) Line() string {
	c.tb.Helper()
	l, err := c.TryLine()
	if err != nil {
		c.tb.Fatalf("%s: read: %v", c.Nick, err)
	}
	return l
}

// TryLine reads one line (without CR LF) or returns the error.
func (c *Client) TryLine() (string, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(Timeout))
	l, err := c.R.ReadString('\n')
	if err != nil {
		if l != "" && errors.Is(err, io.EOF) {
			return l, nil
		}
		return l, err
	}
	return strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r"), nil
}

// Expect reads lines until one contains want and returns it; it fails the
// test on timeout or EOF.
func (c *Client) Expect(want string) string {
	c.tb.Helper()
	var seen []string
	for {
		l, err := c.TryLine()
		if err != nil {
			c.tb.Fatalf("%s: waiting for %q: %v; lines seen: %q", c.Nick, want, err, seen)
		}
		if strings.Contains(l, want) {
			return l
		}
		seen = append(seen, l)
	}
}

// Sync sends a /who and reads up to its answer, returning the lines read
// before it: after Sync returns, everything the server sent this client
// before handling the /who has been read.
func (c *Client) Sync() []string {
	c.tb.Helper()
	c.Send("/whois " + c.Nick)
	var before []string
	for {
		l := c.Line()
		if strings.HasPrefix(l, "*** "+c.Nick+" is in #") {
			return before
		}
		before = append(before, l)
	}
}

// ExpectEOF reads until the server closes the connection, returning what
// came before; it fails on timeout or a reset.
func (c *Client) ExpectEOF() string {
	c.tb.Helper()
	_ = c.Conn.SetReadDeadline(time.Now().Add(Timeout))
	b, err := io.ReadAll(c.R)
	if err != nil {
		c.tb.Fatalf("%s: waiting for EOF: %v (got %q)", c.Nick, err, b)
	}
	return string(b)
}

// WaitFor polls cond until it holds or the timeout passes.
func WaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
