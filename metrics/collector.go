package metrics

import (
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"telchat/client"
	"telchat/cluster"
	"telchat/hub"
	"telchat/logsample"
	"telchat/version"
)

// Sources are what the collector reads at scrape time.
type Sources struct {
	// Hub is the chat hub. Required.
	Hub *hub.Hub
	// Clients is the TCP server. Required.
	Clients *client.Server
	// Build is the running build, exported as telchat_build_info.
	Build version.Info
	// Cluster is the cluster link (nil when the server stands alone).
	Cluster interface {
		Linked() bool
		Stats() cluster.Stats
	}
	// StoreFile is the store's path (history, accounts), whose size is
	// exported (optional).
	StoreFile string
}

// collector turns Sources into metrics at scrape time.
type collector struct {
	src Sources

	build, connections, accepted, refused, disconnects *prometheus.Desc
	messages, deliveries, paced, queued, queuedMax     *prometheus.Desc
	writes, bytesIn, bytesOut, lag, rooms, users, bans *prometheus.Desc
	storeBytes, logLeftOut, handshakes, accounts       *prometheus.Desc
	linked, published, received, dropped, linesPub     *prometheus.Desc
}

func newCollector(src Sources) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("telchat_"+name, help, labels, nil)
	}
	return &collector{
		src:         src,
		build:       d("build_info", "The running build: always 1, with its version, commit and Go version as labels.", "version", "commit", "goversion"),
		connections: d("connections", "Open chat connections (sessions), by listener.", "listener"),
		accepted:    d("connections_accepted_total", "TCP connections accepted, refused ones included, by listener.", "listener"),
		refused:     d("connections_refused_total", "Connections refused, by reason: full (-max-clients), rate (-connect-rate), per_ip (-max-per-ip), banned.", "reason"),
		disconnects: d("disconnects_total", "Connections the hub removed, by reason.", "reason"),
		messages:    d("messages_total", "Messages sent, by kind: room (chat lines, /me) or private (/msg, /reply).", "kind"),
		deliveries:  d("deliveries_total", "Room messages handed to recipients' queues."),
		paced:       d("lines_paced_total", "Input lines held back by the message rate limit (-msg-rate): the client was slowed down."),
		queued:      d("outbound_queue_bytes", "Bytes queued for clients, all open sessions together."),
		queuedMax:   d("outbound_queue_max_bytes", "Bytes queued for the one client with the most queued."),
		writes:      d("write_syscalls_total", "write and writev system calls made to send to clients."),
		bytesIn:     d("received_bytes_total", "Bytes read from clients."),
		bytesOut:    d("sent_bytes_total", "Bytes written to clients."),
		lag:         d("hub_lag_seconds", "Time events (lines, connects, leaves) waited before the hub handled them."),
		rooms:       d("rooms", "Rooms that exist (refreshed every second)."),
		users:       d("users", "Users with a nickname (refreshed every second)."),
		bans:        d("bans", "Bans in force (refreshed every second)."),
		logLeftOut:  d("log_lines_left_out_total", "Log lines strangers caused that were left out over -log-rate, by kind: refused, session, denied.", "kind"),
		linked:      d("cluster_linked", "1 while the cluster link (NATS) is up, 0 while it is down; absent without -nats."),
		published:   d("cluster_events_published_total", "Events (lines, presence, heartbeats) sent to the cluster."),
		received:    d("cluster_events_received_total", "Events taken from the cluster."),
		dropped:     d("cluster_events_dropped_total", "Events not sent to the cluster: its buffer was full, or NATS refused them."),
		linesPub:    d("cluster_lines_published_total", "Lines said on this server (chat, /me, private messages, walls) published to the cluster: one per line, never one per recipient."),
		accounts:    d("accounts", "Registered nicknames (refreshed every second)."),
		storeBytes:  d("store_file_bytes", "Size of the store (telchat.db: history, accounts, offline messages)."),
		handshakes:  d("tls_handshake_failures_total", "TLS handshakes that failed or did not finish in time (10 s)."),
	}
}

// Describe sends every descriptor (prometheus.Collector).
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.build, c.connections, c.accepted, c.refused, c.disconnects, c.messages, c.deliveries,
		c.paced, c.queued, c.queuedMax, c.writes, c.bytesIn, c.bytesOut, c.lag, c.rooms,
		c.users, c.bans, c.logLeftOut, c.handshakes, c.accounts, c.storeBytes,
		c.linked, c.published, c.received, c.dropped, c.linesPub,
	} {
		ch <- d
	}
}

// Collect reads the counters (prometheus.Collector).
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	hc := &c.src.Hub.Counters
	t := c.src.Clients.Totals()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}

	b := c.src.Build
	gauge(c.build, 1, b.Version, b.ShortCommit(), b.Go)
	gauge(c.connections, float64(t.Sessions), "chat")
	gauge(c.connections, float64(t.SessionsTLS), "tls")
	counter(c.accepted, t.Accepted, "chat")
	counter(c.accepted, t.AcceptedTLS, "tls")
	counter(c.handshakes, t.HandshakesFailed)
	for i, reason := range client.RefusalReasons() {
		counter(c.refused, t.Refused[i], reason)
	}
	counter(c.refused, hc.RefusedBanned.Load(), "banned")
	for i, kind := range hub.DisconnectKinds() {
		counter(c.disconnects, hc.Disconnects[i].Load(), kind)
	}
	counter(c.messages, hc.Messages.Load(), "room")
	counter(c.messages, hc.PrivateMessages.Load(), "private")
	counter(c.deliveries, hc.Deliveries.Load())
	counter(c.paced, t.LinesPaced)
	gauge(c.queued, float64(t.QueuedBytes))
	gauge(c.queuedMax, float64(t.MaxQueuedBytes))
	counter(c.writes, t.WriteCalls)
	counter(c.bytesIn, t.BytesIn)
	counter(c.bytesOut, t.BytesOut)

	lag := hc.Lag.Snapshot()
	buckets := make(map[float64]uint64, len(lag.Bounds))
	for i, b := range lag.Bounds {
		buckets[b.Seconds()] = lag.Cumulative[i]
	}
	ch <- prometheus.MustNewConstHistogram(c.lag, lag.Count, lag.Sum.Seconds(), buckets)

	samples := c.src.Hub.LogSamples()
	for _, k := range logsample.Kinds() {
		ch <- prometheus.MustNewConstMetric(c.logLeftOut, prometheus.CounterValue, float64(samples.Suppressed(k)), k.String())
	}
	gauge(c.rooms, float64(hc.Rooms.Load()))
	gauge(c.users, float64(hc.Named.Load()))
	gauge(c.bans, float64(hc.Bans.Load()))
	gauge(c.accounts, float64(hc.Accounts.Load()))
	if l := c.src.Cluster; l != nil {
		up := 0.0
		if l.Linked() {
			up = 1
		}
		gauge(c.linked, up)
		st := l.Stats()
		counter(c.published, st.Published)
		counter(c.received, st.Received)
		counter(c.dropped, st.Dropped)
		counter(c.linesPub, st.Lines)
	}
	if c.src.StoreFile != "" {
		if fi, err := os.Stat(c.src.StoreFile); err == nil {
			gauge(c.storeBytes, float64(fi.Size()))
		}
	}
}
