package main

import (
	"fmt"
	"strconv"
	"strings"
)

// This file spreads a run over several servers (a telchat cluster): -addr
// takes a comma-separated list, client i connects to server i mod N
// (round-robin, so the senders, the first clients, are spread too), and
// the checks are also kept per server and split by whether a line crossed
// between servers.

// splitAddrs parses -addr: one or more HOST:PORT separated by commas.
func splitAddrs(s string) ([]string, error) {
	var addrs []string
	seen := map[string]bool{}
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			return nil, fmt.Errorf("-addr %q: empty address in the list: %w", s, errBadConfig)
		}
		if seen[a] {
			return nil, fmt.Errorf("-addr %q: %s given twice: %w", s, a, errBadConfig)
		}
		seen[a] = true
		addrs = append(addrs, a)
	}
	return addrs, nil
}

// pidList is the -pid flag: the server processes to sample, comma-separated
// (one per server of -addr, or fewer); "0" or "" means none.
type pidList []int

// String implements flag.Value.
func (p *pidList) String() string {
	if p == nil || len(*p) == 0 {
		return "0"
	}
	s := make([]string, len(*p))
	for i, pid := range *p {
		s[i] = strconv.Itoa(pid)
	}
	return strings.Join(s, ",")
}

// Set implements flag.Value.
func (p *pidList) Set(v string) error {
	*p = nil
	if v == "" || v == "0" {
		return nil
	}
	for _, f := range strings.Split(v, ",") {
		pid, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || pid <= 0 {
			return fmt.Errorf("pid %q: want a positive number", f)
		}
		*p = append(*p, pid)
	}
	return nil
}

// serverOf is the index in -addr of the server that client i (an
// up-front client, a sender or a churning connection) uses.
func (c config) serverOf(i int) int { return i % len(c.addrs) }

// addrOf is the address of the server that client i uses.
func (c config) addrOf(i int) string { return c.addrs[c.serverOf(i)] }

// serverStats are the checks of the clients connected to one server.
type serverStats struct {
	clients                         int   // checked clients connected to it
	expected, deliveries            int64 // load lines they should get, and got
	lost, dups, reordered, sentHere int64 // sentHere: lines its senders sent
}

// spreadStats adds receiver rc's figures to the server it is connected to.
func (r *result) spreadStats(rc *receiver, expected, lost int64) {
	if r.perServer == nil {
		r.perServer = make([]serverStats, len(r.cfg.addrs))
	}
	s := &r.perServer[r.cfg.serverOf(rc.index)]
	s.clients++
	s.expected += expected
	s.deliveries += rc.unique.Load()
	s.lost += lost
	s.dups += rc.dups
	s.reordered += rc.reordered
}

// perServerSent fills each server's sentHere from the senders' counts.
func (r *result) perServerSent() {
	if r.perServer == nil {
		r.perServer = make([]serverStats, len(r.cfg.addrs))
	}
	for s, n := range r.sentBy {
		r.perServer[r.cfg.serverOf(s)].sentHere += n
	}
}

// sent is the number of load lines sent by all senders.
func (r *result) sent() int64 {
	var n int64
	for _, s := range r.sentBy {
		n += s
	}
	return n
}
