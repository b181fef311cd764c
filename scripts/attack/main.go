// Command attack is the memory attack of issue 14, bounded and on loopback
// only: many connections, each from its own 127.x address group, log in to
// a telchat server, chat into #lobby so that the room is busy, and read
// just enough never to count as stalled (by default 2 KiB every 2 s), so
// that each one's queue on the server fills towards its cap. A connection
// the server cuts reconnects after a second. It runs for -for and prints
// one summary line: "ATTACK key=value ...".
//
// With -pm NICK the attackers send private messages to NICK instead (the
// private-message attack), and -victim NICK logs that user in from
// 127.0.0.1 reading at -victim-rate (200 KB/s): the run exits 1 if the
// server cuts the victim.
//
// scripts/soak.sh --attack runs it beside honest chatters (scripts/loadgen)
// and reports the server's peak RSS and the honest users' delay.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	addr       string
	addrs      int           // source addresses
	perAddr    int           // connections per source address
	first      netip.Addr    // first source address
	read       int           // bytes read per tick
	every      time.Duration // tick
	sayEvery   time.Duration // one line said this often (0: silent)
	size       int           // bytes per chat line said
	command    string        // said instead of a chat line ("" for chat)
	pm         string        // nickname sent private messages instead ("" for chat)
	victim     string        // nickname of a user who reads at victimRate ("" for none)
	victimRate int           // bytes a second the victim reads
	dur        time.Duration
}

// counters is what the run reports.
type counters struct {
	named, cut, failed, said, read atomic.Int64
	firstFailure                   sync.Once
}

func main() {
	var c config
	var first string
	flag.StringVar(&c.addr, "addr", "127.0.0.1:2323", "server `HOST:PORT` (loopback only)")
	flag.IntVar(&c.addrs, "addrs", 50, "source addresses, one 127.x address each")
	flag.IntVar(&c.perAddr, "per-addr", 2, "connections per source address")
	flag.StringVar(&first, "from", "127.2.0.1", "first source address (loopback)")
	flag.IntVar(&c.read, "read", 2048, "bytes each connection reads per tick")
	flag.DurationVar(&c.every, "every", 2*time.Second, "how often each connection reads")
	flag.DurationVar(&c.sayEvery, "say-every", time.Second, "how often each connection says a line (0: never)")
	flag.IntVar(&c.size, "size", 900, "bytes per chat line said")
	flag.StringVar(&c.command, "command", "", "say this command (e.g. /help, whose long answer is each attacker's own) instead of chat lines")
	flag.StringVar(&c.pm, "pm", "", "send private messages of -size bytes to this `NICK` instead of chatting (the private-message attack)")
	flag.StringVar(&c.victim, "victim", "", "log in as `NICK` from 127.0.0.1 and read at -victim-rate; exit 1 if the server cuts it")
	flag.IntVar(&c.victimRate, "victim-rate", 200<<10, "bytes a second the -victim reads")
	flag.DurationVar(&c.dur, "for", time.Minute, "how long the attack runs")
	flag.Parse()
	if err := c.check(first); err != nil {
		fmt.Fprintln(os.Stderr, "attack:", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.dur)
	defer cancel()
	var n counters
	var wg sync.WaitGroup
	var vres victimResult
	if c.victim != "" {
		wg.Go(func() { victim(ctx, c, &vres) })
	}
	next := c.first
	for a := range c.addrs {
		src := next
		for k := range c.perAddr {
			wg.Add(1)
			go func() {
				defer wg.Done()
				attacker(ctx, c, src, fmt.Sprintf("atk%sz%s", letters(a), letters(k)), &n)
			}()
		}
		next = next.Next()
	}
	wg.Wait()
	victimLine := ""
	if c.victim != "" {
		victimLine = fmt.Sprintf(" victim_named=%v victim_cut=%v victim_read_bytes=%d", vres.named.Load(), vres.cut.Load(), vres.read.Load())
	}
	fmt.Printf("ATTACK conns=%d named=%d cut=%d failed=%d said=%d read_bytes=%d seconds=%.0f%s\n",
		c.addrs*c.perAddr, n.named.Load(), n.cut.Load(), n.failed.Load(), n.said.Load(), n.read.Load(), c.dur.Seconds(), victimLine)
	if c.victim != "" && (!vres.named.Load() || vres.cut.Load()) {
		fmt.Fprintf(os.Stderr, "attack: the victim %s was not named or was cut: %v\n", c.victim, vres.err.Load())
		os.Exit(1)
	}
}

// check validates the options and parses the first source address.
func (c *config) check(first string) error {
	host, _, err := net.SplitHostPort(c.addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", c.addr, err)
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q: want a loopback address", c.addr)
	}
	if c.first, err = netip.ParseAddr(first); err != nil || !c.first.Is4() || !c.first.IsLoopback() {
		return fmt.Errorf("-from %q: want an IPv4 loopback address", first)
	}
	if c.addrs < 1 || c.addrs > 10000 || c.perAddr < 1 || c.perAddr > 100 {
		return errors.New("-addrs must be 1 to 10000 and -per-addr 1 to 100")
	}
	if c.victim != "" && c.victimRate < 1 {
		return errors.New("-victim-rate must be positive")
	}
	if c.read < 1 || c.every <= 0 || c.size < 1 || c.size > 4000 || c.dur <= 0 || c.dur > 24*time.Hour {
		return errors.New("-read, -every, -size (at most 4000) and -for (at most 24h) must be positive")
	}
	return nil
}

// letters spells n in letters only (a, b, ..., z, ba, ...), so that nicknames
// hold no digits that look like letters.
func letters(n int) string {
	s := ""
	for {
		s = string(rune('a'+n%26)) + s
		if n /= 26; n == 0 {
			return s
		}
	}
}

// attacker keeps one connection from src logged in until ctx ends,
// reconnecting a second after each cut.
func attacker(ctx context.Context, c config, src netip.Addr, nick string, n *counters) {
	for ctx.Err() == nil {
		err := session(ctx, c, src, nick, n)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errNotNamed):
			n.failed.Add(1)
			n.firstFailure.Do(func() { fmt.Fprintf(os.Stderr, "attack: %s: first login failure: %v\n", nick, err) })
		default:
			n.cut.Add(1)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

var errNotNamed = errors.New("not named")

// session runs one connection: log in, then read a little every tick and
// say a line every sayEvery.
func session(ctx context.Context, c config, src netip.Addr, nick string, n *counters) error {
	d := net.Dialer{
		Timeout:   5 * time.Second,
		LocalAddr: &net.TCPAddr{IP: src.AsSlice()},
		Control: func(_, _ string, rc syscall.RawConn) error { // a small window, set before the handshake
			var serr error
			if err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			}); err != nil {
				return err
			}
			return serr
		},
	}
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return fmt.Errorf("%w: %w", errNotNamed, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	r := bufio.NewReaderSize(conn, 4096)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := until(r, "Choose a nickname: "); err != nil {
		return fmt.Errorf("%w: %w", errNotNamed, err)
	}
	for try := 0; ; try++ {
		// A refused name (taken, or too like another) gets the prompt
		// again: try a longer one.
		if _, err := conn.Write([]byte(nick + strings.Repeat("q", try) + "\n")); err != nil {
			return fmt.Errorf("%w: %w", errNotNamed, err)
		}
		in, err := untilOne(r, "You are now in #", "Choose a nickname: ")
		if err != nil || in == 1 && try == 4 {
			return fmt.Errorf("%w: %w (tried %d names)", errNotNamed, err, try+1)
		}
		if in == 0 {
			break
		}
	}
	n.named.Add(1)
	line := []byte(strings.Repeat("m", c.size) + "\n")
	switch {
	case c.command != "":
		line = []byte(c.command + "\n")
	case c.pm != "":
		line = []byte("/msg " + c.pm + " " + strings.Repeat("m", c.size) + "\n")
	}
	buf := make([]byte, c.read)
	readTick := time.NewTicker(c.every)
	defer readTick.Stop()
	var say <-chan time.Time
	if c.sayEvery > 0 {
		t := time.NewTicker(c.sayEvery)
		defer t.Stop()
		say = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-readTick.C:
			_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			got, err := r.Read(buf)
			n.read.Add(int64(got))
			var ne net.Error
			if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
				return err
			}
		case <-say:
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := conn.Write(line); err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					return err
				}
			}
			n.said.Add(1)
		}
	}
}

// until reads until the input ends with marker.
func until(r *bufio.Reader, marker string) error {
	_, err := untilOne(r, marker)
	return err
}

// untilOne reads until the input ends with one of markers and returns its
// index.
func untilOne(r *bufio.Reader, markers ...string) (int, error) {
	var seen []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			return -1, err
		}
		if seen = append(seen, b); len(seen) > 64<<10 {
			seen = append(seen[:0], seen[len(seen)-256:]...)
		}
		for i, m := range markers {
			if bytes.HasSuffix(seen, []byte(m)) {
				return i, nil
			}
		}
	}
}
