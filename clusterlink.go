package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/rs/zerolog"

	"telchat/cluster"
)

// dialCluster joins the cluster that -nats names; nil without -nats.
func dialCluster(ctx context.Context, o *options, log zerolog.Logger) (*cluster.Link, error) {
	if o.natsURLs == "" {
		return nil, nil
	}
	id := o.serverID
	if id == "" {
		id = defaultServerID(o.addr)
	}
	link, err := cluster.Dial(ctx, cluster.Config{
		URLs: o.natsURLs, CredsFile: o.natsCreds, Token: o.natsToken,
		Name: o.clusterName, ServerID: id, Timeout: o.clusterTimeout, Log: log,
		HistorySize: o.history, HistoryAge: time.Duration(o.historyDays) * 24 * time.Hour,
		Replicas: o.natsReplicas,
	})
	if err != nil {
		return nil, fmt.Errorf("-nats: %w", err)
	}
	log.Info().Str("nats", o.natsURLs).Str("cluster", o.clusterName).Str("server_id", id).Msg("joined the cluster")
	return link, nil
}

// defaultServerID is the host name and the port of addr: "chat1:2323".
func defaultServerID(addr string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "telchat"
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return host
	}
	return host + ":" + port
}
