package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Telnet command bytes that the client has to skip in server output.
const (
	telnetIAC  = 255
	telnetSB   = 250
	telnetSE   = 240
	telnetWILL = 251
	telnetDONT = 254
)

// nickPrompt is the end of the server's nickname prompt, which has no line end.
const nickPrompt = "nickname: "

// welcomePrefix starts the line that confirms a nickname.
const welcomePrefix = "*** Welcome, "

// rejectPrefix starts the line that rejects a nickname or command.
const rejectPrefix = "! "

// maxLineBytes bounds one server line; longer lines are cut, not buffered whole.
const maxLineBytes = 64 << 10

// maxPreambleBytes bounds what is read before the nickname prompt or the welcome line.
const maxPreambleBytes = 64 << 10

// errNickRejected is returned when the server refuses a nickname.
var errNickRejected = errors.New("nickname rejected")

// errNoPrompt is returned when the server never sends the nickname prompt.
var errNoPrompt = errors.New("no nickname prompt")

// lineConn is one client connection with a small read buffer.
type lineConn struct {
	conn    *net.TCPConn
	r       *bufio.Reader
	scratch []byte // assembles lines longer than the read buffer
	pollFD  int    // the socket, once a poller reads it and conn is closed; else -1

	// wmu makes each write whole, so that a PONG written by the reading
	// goroutine never lands inside a line that a sender is writing.
	wmu sync.Mutex
}

// dialOptions says how to open a client connection.
type dialOptions struct {
	addr     string
	deadline time.Time // absolute deadline for every operation on the connection
	readBuf  int       // bufio size of the client
	rcvBuf   int       // SO_RCVBUF set before connecting; 0 keeps the default
}

// dial opens a TCP connection and sets its overall deadline.
func dial(ctx context.Context, o dialOptions) (*lineConn, error) {
	d := net.Dialer{Deadline: o.deadline}
	if o.rcvBuf > 0 {
		size := o.rcvBuf
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, size)
			})
			if err != nil {
				return fmt.Errorf("raw control: %w", err)
			}
			if serr != nil {
				return fmt.Errorf("set SO_RCVBUF: %w", serr)
			}
			return nil
		}
	}
	c, err := d.DialContext(ctx, "tcp", o.addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", o.addr, err)
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("dial %s: not a TCP connection", o.addr)
	}
	if err := tc.SetDeadline(o.deadline); err != nil {
		tc.Close()
		return nil, fmt.Errorf("set deadline: %w", err)
	}
	return &lineConn{conn: tc, r: bufio.NewReaderSize(tc, max(o.readBuf, 64)), pollFD: -1}, nil
}

// readLine returns the next line without its CR LF and with Telnet commands
// removed. The slice is valid until the next read. Lines longer than
// maxLineBytes are returned cut to that length, the rest is skipped.
func (c *lineConn) readLine() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		c.scratch = append(c.scratch[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = c.r.ReadSlice('\n')
			if room := maxLineBytes - len(c.scratch); room > 0 {
				c.scratch = append(c.scratch, line[:min(room, len(line))]...)
			}
		}
		line = c.scratch
	}
	if err != nil {
		return nil, err
	}
	line = bytes.TrimRight(line, "\r\n")
	if bytes.IndexByte(line, telnetIAC) >= 0 {
		line = stripTelnet(line)
	}
	return line, nil
}

// stripTelnet removes Telnet commands from b in place and turns IAC IAC into
// one 0xFF data byte. A command cut off at the end of b is dropped.
func stripTelnet(b []byte) []byte {
	out := b[:0]
	for i := 0; i < len(b); i++ {
		if b[i] != telnetIAC {
			out = append(out, b[i])
			continue
		}
		i++
		if i >= len(b) {
			break
		}
		switch cmd := b[i]; {
		case cmd == telnetIAC:
			out = append(out, telnetIAC)
		case cmd >= telnetWILL && cmd <= telnetDONT:
			i++ // skip the option byte
		case cmd == telnetSB:
			for i++; i < len(b) && !(b[i] == telnetIAC && i+1 < len(b) && b[i+1] == telnetSE); i++ {
			}
			i++ // now at SE (or past the end)
		}
	}
	return out
}

// awaitPrompt reads until the nickname prompt (which has no line end).
func (c *lineConn) awaitPrompt() error {
	var tail [len(nickPrompt)]byte
	filled := 0
	for n := 0; n < maxPreambleBytes; n++ {
		b, err := c.r.ReadByte()
		if err != nil {
			return fmt.Errorf("waiting for prompt: %w", err)
		}
		if b == telnetIAC {
			if err := c.skipCommand(); err != nil {
				return fmt.Errorf("waiting for prompt: %w", err)
			}
			continue
		}
		copy(tail[:], tail[1:])
		tail[len(tail)-1] = b
		filled++
		if filled >= len(tail) && string(tail[:]) == nickPrompt {
			return nil
		}
	}
	return errNoPrompt
}

// skipCommand consumes the rest of a Telnet command after IAC.
func (c *lineConn) skipCommand() error {
	cmd, err := c.r.ReadByte()
	if err != nil {
		return err
	}
	switch {
	case cmd >= telnetWILL && cmd <= telnetDONT:
		_, err = c.r.ReadByte()
		return err
	case cmd == telnetSB:
		var prev byte
		for n := 0; n < maxPreambleBytes; n++ {
			b, err := c.r.ReadByte()
			if err != nil {
				return err
			}
			if prev == telnetIAC && b == telnetSE {
				return nil
			}
			if prev == telnetIAC && b == telnetIAC {
				b = 0 // an escaped 0xFF inside SB does not start IAC SE
			}
			prev = b
		}
		return errors.New("subnegotiation too long")
	}
	return nil
}

// register answers the nickname prompt and waits for the welcome line.
func (c *lineConn) register(nick string) error {
	if err := c.awaitPrompt(); err != nil {
		return err
	}
	return c.sendNick(nick)
}

// sendNick sends nick after a prompt has been seen and waits for the
// welcome line or a rejection.
func (c *lineConn) sendNick(nick string) error {
	if _, err := io.WriteString(c.conn, nick+"\n"); err != nil {
		return fmt.Errorf("send nickname: %w", err)
	}
	for read := 0; read < maxPreambleBytes; {
		line, err := c.readLine()
		if err != nil {
			return fmt.Errorf("waiting for welcome: %w", err)
		}
		read += len(line) + 1
		s := string(plainText(line))
		switch {
		case strings.HasPrefix(s, welcomePrefix):
			return nil
		case strings.HasPrefix(s, rejectPrefix):
			return fmt.Errorf("%s: %q: %w", nick, s, errNickRejected)
		}
	}
	return fmt.Errorf("waiting for welcome: %w", errNoPrompt)
}

// writeLine sends text followed by LF.
func (c *lineConn) writeLine(text string) error {
	if err := c.write([]byte(text + "\n")); err != nil {
		return fmt.Errorf("write line: %w", err)
	}
	return nil
}

// write sends b in one piece with respect to other calls of write.
func (c *lineConn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.conn.Write(b); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// drainUntilClosed reads and discards until EOF, a reset, or the deadline,
// and returns the bytes read and the error that ended it (io.EOF for a
// clean close).
func (c *lineConn) drainUntilClosed(deadline time.Time) (int64, error) {
	if err := c.conn.SetReadDeadline(deadline); err != nil {
		return 0, fmt.Errorf("set read deadline: %w", err)
	}
	n, err := io.Copy(io.Discard, c.r)
	if err == nil {
		err = io.EOF
	}
	return n, err
}

// isTimeout reports whether err is a deadline expiry.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
