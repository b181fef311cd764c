package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/rs/zerolog"

	"telchat/cluster"
	"telchat/store/boltstore"
	"telchat/usertext"
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
		Replicas: o.natsReplicas, StreamOrder: o.clusterOrder == "stream",
	})
	if err != nil {
		return nil, fmt.Errorf("-nats: %w", err)
	}
	log.Info().Str("nats", cluster.Redact(o.natsURLs)).Str("cluster", o.clusterName).Str("server_id", id).Msg("joined the cluster")
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

// shareAccounts copies the accounts of this server's store into the
// cluster's account bucket the first time the store joins the cluster
// named name (a note in the store remembers it): those whose name, or a
// look-alike, is not registered in the cluster yet. Later starts copy
// nothing, so an account removed from the cluster does not come back
// from a server's old copy. The store's accounts stay on its disk,
// unused while the server is in a cluster.
func shareAccounts(ctx context.Context, link *cluster.Link, db *boltstore.DB, rules usertext.NickRules, name string, log zerolog.Logger) error {
	note := "accounts-copied-to-cluster:" + name
	at, err := db.Noted(note)
	if err != nil {
		return err
	}
	if !at.IsZero() {
		return nil
	}
	local := db.Accounts()
	copied, kept, err := link.ImportAccounts(ctx, local, rules.Lookalike)
	if err != nil {
		return fmt.Errorf("-nats: %w", err)
	}
	saved := make(chan error, 1)
	db.Note(note, func(err error) { saved <- err })
	select {
	case err = <-saved:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("remembering that the accounts were copied to the cluster: %w", err)
	}
	ev := log.Info().Str("cluster", name).Int("copied", copied).Int("local", len(local))
	if len(kept) > 0 {
		ev = ev.Strs("kept_the_clusters", kept)
	}
	ev.Msg("copied this store's accounts to the cluster (once; names already registered there keep the cluster's account)")
	return nil
}
