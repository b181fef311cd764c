// Command natsdev runs a throwaway local NATS with JetStream (one node, or
// three with routes on loopback) for scripts/cluster-demo.sh and for
// trying cluster mode on a machine without a NATS install. It is a demo
// tool, not a way to run NATS in production (use nats-server for that).
//
//	go run ./scripts/natsdev -port 4222 -nodes 3 -dir /tmp/natsdev
//
// It prints the client URLs on one line and runs until interrupted. With
// -http PORT each node also serves NATS's monitoring endpoints (/varz:
// in_msgs, out_msgs, ...) on 127.0.0.1:PORT, the next nodes on the next
// ports (scripts/bench.sh --cluster reads them).
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	port := flag.Int("port", 4222, "client port of the first node (the others take the next ports)")
	nodes := flag.Int("nodes", 1, "nodes: 1, or 3 (a NATS cluster with routes on loopback, JetStream replicated)")
	dir := flag.String("dir", "", "JetStream store directory (default: a new temporary directory, removed at exit)")
	http := flag.Int("http", 0, "monitoring port of the first node on 127.0.0.1 (/varz, /connz, ...; the others take the next ports); 0: none")
	flag.Parse()
	if err := run(*port, *nodes, *http, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "natsdev:", err)
		os.Exit(1)
	}
}

func run(port, nodes, http int, dir string) error {
	if nodes != 1 && nodes != 3 {
		return fmt.Errorf("-nodes %d: want 1 or 3", nodes)
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "natsdev")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	var routes []*url.URL
	if nodes > 1 {
		for i := range nodes {
			routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", port+100+i)})
		}
	}
	var servers []*server.Server
	defer func() {
		for _, s := range servers {
			s.Shutdown()
			s.WaitForShutdown()
		}
	}()
	var urls []string
	for i := range nodes {
		opts := &server.Options{
			ServerName: fmt.Sprintf("natsdev-%d", i+1),
			Host:       "127.0.0.1", Port: port + i,
			JetStream: true, StoreDir: filepath.Join(dir, fmt.Sprintf("n%d", i+1)),
			NoSigs: true, NoLog: true,
		}
		if http > 0 {
			opts.HTTPHost, opts.HTTPPort = "127.0.0.1", http+i
		}
		if nodes > 1 {
			opts.Cluster = server.ClusterOpts{Name: "natsdev", Host: "127.0.0.1", Port: port + 100 + i}
			opts.Routes = routes
		}
		s, err := server.NewServer(opts)
		if err != nil {
			return fmt.Errorf("node %d: %w", i+1, err)
		}
		go s.Start()
		servers = append(servers, s)
		urls = append(urls, s.ClientURL())
	}
	for i, s := range servers {
		if !s.ReadyForConnections(30 * time.Second) {
			return fmt.Errorf("node %d not ready", i+1)
		}
	}
	if nodes > 1 {
		// JetStream needs its meta leader before the first bucket.
		deadline := time.Now().Add(30 * time.Second)
		for !servers[0].JetStreamIsCurrent() || servers[0].JetStreamIsClustered() && !hasLeader(servers) {
			if time.Now().After(deadline) {
				return fmt.Errorf("JetStream cluster formed no leader in 30s")
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	fmt.Println(strings.Join(urls, ","))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}

func hasLeader(servers []*server.Server) bool {
	for _, s := range servers {
		if s.JetStreamIsLeader() {
			return true
		}
	}
	return false
}
