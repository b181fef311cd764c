// Command floor measures what this machine charges for a chat fan-out with
// no chat server in between: the floor under any server's latency.
//
// It opens -conns TCP connections to itself on 127.0.0.1 and, every
// -interval, writes a burst of -lines lines of -size bytes to every
// connection straight from raw file descriptors (one write(2) per
// connection, or one per line with -split), spread over -writers
// goroutines. One epoll loop per CPU reads the other ends, the way
// loadgen -recv poll does. For each connection and burst it records the time
// from the start of the burst until the whole burst has arrived, and prints
// the latency percentiles, the CPU time the process spent per burst, and a
// RESULT line.
//
// The standard workloads' patterns (see scripts/bench.sh):
//
//	go run ./scripts/floor -conns 1000 -lines 5 -interval 50ms   # d: 5 senders at 20/s to 1,000
//	go run ./scripts/floor -conns 100 -lines 1 -interval 20ms    # f: 1 sender at 50/s to 100
//
// A chat server adds at least the sender's hop, its own scheduling and the
// receiving client's parsing on top; on the same machine, no server can do
// better than this.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"time"
)

// config holds the command-line options.
type config struct {
	conns    int
	lines    int
	size     int
	bursts   int
	interval time.Duration
	writers  int
	split    bool
	timeout  time.Duration
}

// errBadConfig marks invalid options.
var errBadConfig = errors.New("bad options")

// parseConfig parses and checks the command line.
func parseConfig(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.conns, "conns", 1000, "connections (receivers)")
	fs.IntVar(&c.lines, "lines", 5, "lines per burst (one per sender of the workload)")
	fs.IntVar(&c.size, "size", 66, "bytes per line as delivered")
	fs.IntVar(&c.bursts, "bursts", 100, "bursts to send")
	fs.DurationVar(&c.interval, "interval", 50*time.Millisecond, "time from one burst to the next")
	fs.IntVar(&c.writers, "writers", runtime.GOMAXPROCS(0), "goroutines that write a burst, each to its share of the connections")
	fs.BoolVar(&c.split, "split", false, "one write(2) per line instead of one per connection and burst")
	fs.DurationVar(&c.timeout, "timeout", 60*time.Second, "deadline for the whole run")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q: %w", fs.Args(), errBadConfig)
	case c.conns < 1 || c.lines < 1 || c.size < 1 || c.bursts < 1 || c.writers < 1:
		return c, fmt.Errorf("-conns, -lines, -size, -bursts and -writers must be at least 1: %w", errBadConfig)
	case c.lines*c.size > 64<<10:
		return c, fmt.Errorf("a burst of %d bytes per connection would not fit a socket buffer: %w", c.lines*c.size, errBadConfig)
	case c.interval <= 0 || c.timeout <= 0:
		return c, fmt.Errorf("-interval and -timeout must be positive: %w", errBadConfig)
	}
	return c, nil
}

// result is what one run measured.
type result struct {
	latencies []time.Duration // one per connection and burst, sorted
	bursts    int             // bursts that completed
	cpu       time.Duration   // user + system time of the process during the bursts
}

// quantile returns the q-quantile of the sorted latencies.
func (r *result) quantile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := min(int(q*float64(len(r.latencies))), len(r.latencies)-1)
	return r.latencies[i]
}

// print writes the summary and the RESULT line.
func (r *result) print(w io.Writer, c config) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	perBurst := time.Duration(0)
	if r.bursts > 0 {
		perBurst = r.cpu / time.Duration(r.bursts)
	}
	fmt.Fprintf(w, "floor: %d connections, bursts of %d x %d B every %v, %d writers, split=%v\n",
		c.conns, c.lines, c.size, c.interval, c.writers, c.split)
	fmt.Fprintf(w, "latency: p50=%.3fms p90=%.3fms p99=%.3fms max=%.3fms over %d bursts\n",
		ms(r.quantile(0.50)), ms(r.quantile(0.90)), ms(r.quantile(0.99)), ms(r.quantile(1)), r.bursts)
	fmt.Fprintf(w, "cpu: %.3fms per burst (%.2fus per connection)\n",
		ms(perBurst), float64(perBurst)/float64(time.Microsecond)/float64(c.conns))
	fmt.Fprintf(w, "RESULT conns=%d lines=%d size=%d interval_ms=%g writers=%d split=%v bursts=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f cpu_per_burst_ms=%.3f\n",
		c.conns, c.lines, c.size, ms(c.interval), c.writers, c.split, r.bursts,
		ms(r.quantile(0.50)), ms(r.quantile(0.90)), ms(r.quantile(0.99)), ms(r.quantile(1)), ms(perBurst))
}

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(2)
	}
	res, err := run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	slices.Sort(res.latencies)
	res.print(os.Stdout, cfg)
}
