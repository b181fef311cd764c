package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"
)

// victimResult is what the private-message attack's target saw.
type victimResult struct {
	named, cut atomic.Bool
	read       atomic.Int64
	err        atomic.Value // error that cut it
}

// victim logs in as c.victim from 127.0.0.1 and reads at c.victimRate
// bytes a second (a tenth of it every 100 ms) until ctx ends: a user
// reading at a normal pace, whom the attackers' private messages must not
// get cut. It records whether the server cut it.
func victim(ctx context.Context, c config, res *victimResult) {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		res.err.Store(err)
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	r := bufio.NewReaderSize(conn, 64<<10)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := until(r, "Choose a nickname: "); err != nil {
		res.err.Store(err)
		return
	}
	if _, err := conn.Write([]byte(c.victim + "\n")); err != nil {
		res.err.Store(err)
		return
	}
	if err := until(r, "You are now in #"); err != nil {
		res.err.Store(fmt.Errorf("naming %s: %w", c.victim, err))
		return
	}
	_ = conn.SetDeadline(time.Time{})
	res.named.Store(true)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	buf := make([]byte, max(1, c.victimRate/10))
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// Up to a tenth of the rate, without waiting for more than is there.
		_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		for got := 0; got < len(buf); {
			k, err := r.Read(buf[got:])
			got += k
			res.read.Add(int64(k))
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break
			}
			if err != nil {
				if ctx.Err() == nil {
					res.cut.Store(true)
					res.err.Store(err)
				}
				return
			}
		}
	}
}
