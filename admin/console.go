// Package admin serves the operator console: the same command language as
// chat users' slash commands (package commands), with admin rights, on the
// server's terminal or on a Unix socket for headless hosts. It is its own
// package because a console is not a chat client: no Telnet, no nickname, no
// room, and its trust comes from the terminal or the socket's file mode.
package admin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"telchat/hub"
	"telchat/message"
	"telchat/render"
	"telchat/usertext"
)

// maxLine bounds one console line.
const maxLine = 4096

// Console is one operator console session (hub.Peer).
type Console struct {
	out      chan []byte
	finished chan struct{}
	once     sync.Once
	reason   hub.Reason // why it finished; set once, before finished is closed
}

func newConsole() *Console {
	return &Console{out: make(chan []byte, 4096), finished: make(chan struct{})}
}

// Deliver queues output, rendered plain, without blocking (hub.Peer).
func (c *Console) Deliver(m *message.Message) bool {
	return c.send(render.Bytes(m, render.Plain))
}

// send queues bytes of output without blocking.
func (c *Console) send(msg []byte) bool {
	select {
	case <-c.finished:
		return true
	default:
	}
	select {
	case c.out <- msg:
		return true
	default:
		return false
	}
}

// Finish ends the console session (hub.Peer).
func (c *Console) Finish(r hub.Reason) {
	c.once.Do(func() {
		c.reason = r
		close(c.finished)
	})
}

// writeLoop copies output to w until Finish, then writes what is left.
func (c *Console) writeLoop(w io.Writer) {
	for {
		select {
		case m := <-c.out:
			if _, err := w.Write(m); err != nil {
				c.Finish(hub.Reason{Kind: hub.KindHangup})
				return
			}
		case <-c.finished:
			for {
				select {
				case m := <-c.out:
					if _, err := w.Write(m); err != nil {
						return
					}
				default:
					return
				}
			}
		}
	}
}

// Serve runs one console over r and w until r ends, the console quits, or
// the hub stops. End of input ends only this console, never the server.
func Serve(h *hub.Hub, r io.Reader, w io.Writer, remote string, log zerolog.Logger) {
	serve(h, r, w, remote, log)
}

// stdinClosed is the console's last line on the server's own terminal after
// quit: nothing typed there is read any more.
const stdinClosed = "*** Standard input is no longer read: Ctrl-C (or SIGTERM) stops the server\r\n"

// ServeStdin runs the console on the server's standard input and output
// (in and out), as Serve does. When quit closes it, it says that standard
// input is no longer read, so that nothing typed afterwards is ignored
// without a word.
func ServeStdin(h *hub.Hub, in io.Reader, out io.Writer, log zerolog.Logger) {
	if r := serve(h, in, out, "console", log); r.Kind == hub.KindQuit {
		_, _ = io.WriteString(out, stdinClosed)
	}
}

// serve is Serve; it returns why the console ended (hub.KindHangup at end
// of input, hub.KindQuit after quit).
func serve(h *hub.Hub, r io.Reader, w io.Writer, remote string, log zerolog.Logger) hub.Reason {
	c := newConsole()
	id := uuid.NewString()
	hc := hub.NewConsole(id, remote, c)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.writeLoop(w)
	}()
	log = log.With().Str("session", id).Str("remote", remote).Logger()
	log.Info().Msg("admin console opened")
	if err := h.Connect(hc); err != nil {
		c.Finish(hub.Reason{Kind: hub.KindShutdown})
		<-done
		return c.reason
	}
	c.send([]byte("telchat admin console: type help for the commands, quit to close this console\r\n"))
	lines := make(chan string)
	go readLines(r, lines, c.finished)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				// End of input ends this console only. The hub finishes
				// it after the commands already handed over, so their
				// output is written before the console closes.
				if err := h.Leave(hc, hub.Reason{Kind: hub.KindHangup}); err != nil {
					c.Finish(hub.Reason{Kind: hub.KindShutdown})
				}
				<-c.finished
				<-done
				log.Info().Msg("admin console input ended")
				return c.reason
			}
			if line = usertext.Sanitize(line); line == "" {
				continue
			}
			if err := h.Input(hc, line, false); err != nil {
				c.Finish(hub.Reason{Kind: hub.KindShutdown})
			}
		case <-c.finished:
			// The hub finished the console (quit, shutdown, too much
			// output) or the writer failed; in the latter case the hub
			// must still forget it (a second removal is a no-op).
			_ = h.Leave(hc, hub.Reason{Kind: hub.KindHangup})
			<-done
			log.Info().Str("reason", c.reason.String()).Msg("admin console closed")
			return c.reason
		}
	}
}

// readLines sends each line of r (CR LF or LF, capped at maxLine) until EOF
// or until stop is closed.
func readLines(r io.Reader, lines chan<- string, stop <-chan struct{}) {
	defer close(lines)
	br := bufio.NewReaderSize(r, maxLine)
	for {
		b, err := br.ReadSlice('\n')
		line := string(b) // copied: the next ReadSlice overwrites b
		if errors.Is(err, bufio.ErrBufferFull) {
			// Overlong line: keep its start, drop the rest.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
		}
		if len(line) > 0 {
			select {
			case lines <- trimEOL(line):
			case <-stop:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func trimEOL(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// SocketServer serves consoles on a Unix socket.
type SocketServer struct {
	hub  *hub.Hub
	log  zerolog.Logger
	ln   *net.UnixListener
	path string

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool // Close was called; guarded by mu
	wg     sync.WaitGroup
}

// ListenSocket creates the Unix socket at path with mode 0600, so only the
// server's user can connect. A stale socket file left by a crashed server is
// replaced; any other existing file is an error.
func ListenSocket(path string, h *hub.Hub, log zerolog.Logger) (*SocketServer, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("admin: %s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			_ = c.Close()
			return nil, fmt.Errorf("admin: %s is in use by a running server", path)
		}
		_ = os.Remove(path)
	}
	old := syscall.Umask(0o177)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("admin: listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("admin: chmod %s: %w", path, err)
	}
	return &SocketServer{hub: h, log: log, ln: ln, path: path, conns: make(map[net.Conn]struct{})}, nil
}

// Serve accepts consoles until Close. A failing accept (too many open
// files) is retried after a pause.
func (s *SocketServer) Serve() error {
	var backoff time.Duration
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn().Err(err).Dur("retry_in", backoff).Msg("admin socket accept failed")
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("admin: accept: %w", err)
		}
		backoff = 0
		s.mu.Lock()
		if s.closed {
			// Accepted just as Close ran: Close would not wait for it.
			s.mu.Unlock()
			_ = conn.Close()
			return nil
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			Serve(s.hub, conn, conn, "unix:"+s.path, s.log)
			if uc, ok := conn.(*net.UnixConn); ok {
				_ = uc.CloseWrite()
			}
			_ = conn.Close()
			s.mu.Lock()
			delete(s.conns, conn)
			s.mu.Unlock()
		}()
	}
}

// Close stops accepting, closes every console connection, waits for them
// and removes the socket file.
func (s *SocketServer) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return err
}
