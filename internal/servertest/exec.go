package servertest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireBinary returns the path of a real program the test drives (nc,
// telnet, expect, ...). When it is missing the test is skipped, or failed
// when the environment variable CI is set: CI installs every such program.
func RequireBinary(tb testing.TB, name string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("%s is required in CI: %v", name, err)
	}
	tb.Skipf("%s not installed: %v", name, err)
	return ""
}

// Port is the server's TCP port as text, for command lines.
func (s *Server) Port() string {
	_, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		s.tb.Fatalf("server address %q: %v", s.Addr, err)
	}
	return port
}

// Transcript collects output written to it (a process's stdout, say) and
// lets a test wait, with a deadline, until some text has appeared. It is
// safe for concurrent use.
type Transcript struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
	ended   bool
}

// NewTranscript returns an empty transcript.
func NewTranscript() *Transcript {
	return &Transcript{changed: make(chan struct{})}
}

// Write appends p and wakes the waiters.
func (t *Transcript) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	close(t.changed)
	t.changed = make(chan struct{})
	return len(p), nil
}

// End marks the end of the output: waiting for text that has not appeared
// fails at once instead of at the deadline.
func (t *Transcript) End() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.ended {
		t.ended = true
		close(t.changed)
	}
}

// String returns everything written so far.
func (t *Transcript) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// WaitFor waits until the output contains want, starting the search at
// byte offset from, and returns the offset just past the match. It fails
// the test when Timeout passes or the output ends first.
func (t *Transcript) WaitFor(tb testing.TB, from int, want string) int {
	tb.Helper()
	end, _ := t.WaitForAny(tb, from, want)
	return end
}

// WaitForAny is WaitFor for the first of several texts to appear; it also
// returns which one matched.
func (t *Transcript) WaitForAny(tb testing.TB, from int, wants ...string) (int, string) {
	tb.Helper()
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	for {
		t.mu.Lock()
		out, changed, ended := t.buf.String(), t.changed, t.ended
		t.mu.Unlock()
		if from <= len(out) {
			for _, want := range wants {
				if i := strings.Index(out[from:], want); i >= 0 {
					return from + i + len(want), want
				}
			}
		}
		want := strings.Join(wants, `" or "`)
		if ended {
			tb.Fatalf("output ended without %q; output:\n%s", want, out)
		}
		select {
		case <-changed:
		case <-timer.C:
			tb.Fatalf("timed out waiting for %q; output:\n%s", want, out)
		}
	}
}

// Process is a real program started by StartProcess.
type Process struct {
	Cmd *exec.Cmd
	// Out receives the program's standard output and error.
	Out *Transcript
	// Stdin writes to the program's standard input (nil when StartProcess
	// was given an input reader).
	Stdin io.WriteCloser

	done chan struct{}
	err  error
}

// StartProcess runs name with args under a deadline of 2*Timeout (the
// program is killed when it passes, or when the test ends). With a
// non-nil input the program reads it as its standard input; otherwise
// Process.Stdin is a pipe to it.
func StartProcess(tb testing.TB, input io.Reader, name string, args ...string) *Process {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*Timeout)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second // bound the wait for output pipes after a kill
	p := &Process{Cmd: cmd, Out: NewTranscript(), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Out, p.Out
	if input != nil {
		cmd.Stdin = input
	} else {
		w, err := cmd.StdinPipe()
		if err != nil {
			cancel()
			tb.Fatalf("%s: stdin pipe: %v", name, err)
		}
		p.Stdin = w
	}
	if err := cmd.Start(); err != nil {
		cancel()
		tb.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		p.Out.End()
		cancel()
		close(p.done)
	}()
	tb.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// Wait waits for the program to exit and returns its error (nil for exit
// status 0). It fails the test if the program outlives Timeout.
func (p *Process) Wait(tb testing.TB) error {
	tb.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(Timeout):
		tb.Fatalf("%s still running after %v; output:\n%s", p.Cmd.Path, Timeout, p.Out.String())
		return errors.New("unreachable")
	}
}

// Done is closed when the program has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the program's exit error once Done is closed (nil for status 0).
func (p *Process) Err() error {
	<-p.done
	return p.err
}
