// Package cluster joins telchat servers into one chat over NATS: a
// JetStream stream, the feed, carries what happens on each server (lines,
// presence, heartbeats) to the others, and JetStream key-value buckets
// make nicknames unique across them and share the bans. The hub stays the owner of its server's state: it hands
// its events to a Link (hub.Relay) without blocking, and the Link feeds
// the other servers' events into the hub's inbox (hub.Publish,
// hub.Cluster), like local input.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"telchat/hub"
	"telchat/message"
)

// Config configures a Link. Zero values mean the documented defaults.
type Config struct {
	// URLs are the NATS servers, comma-separated ("nats://a:4222,
	// tls://b:4222"). Required.
	URLs string
	// CredsFile is a NATS credentials file (JWT and NKey seed); Token a
	// NATS token. At most one of them.
	CredsFile, Token string
	// Name is the cluster's name: servers with the same name on the same
	// NATS are one chat. Letters, digits, _ and -. Default "telchat".
	Name string
	// ServerID names this server in the cluster. Required.
	ServerID string
	// Timeout: a server not heard from this long is lost; heartbeats go
	// out every Timeout/3, and a nickname claim not renewed for Timeout
	// expires. Default 15s.
	Timeout time.Duration
	// Buffer bounds the events waiting to be published, in number, and
	// BufferBytes in an estimate of the memory they hold: an event over
	// either bound is dropped (counted, logged). The memory is taken only
	// while events wait. Defaults 131,072 events and 64 MiB
	// (some 90,000 chat lines).
	Buffer      int
	BufferBytes int
	// ReconnectWait is the pause between reconnect attempts. Default 1s.
	ReconnectWait time.Duration
	// OpTimeout bounds each request to JetStream. Default 5s.
	OpTimeout time.Duration
	// Replicas is how many copies JetStream keeps of the buckets and the
	// stream this server creates (1 to 5; on a NATS cluster, 3 lets one
	// node die). Default 1. Buckets and streams that exist are used as
	// they are.
	Replicas int
	// HistorySize is how many lines of each room the history stream
	// keeps (the -history flag); 0: no shared history. HistoryAge is how
	// long it keeps a line (0: for ever).
	HistorySize int
	HistoryAge  time.Duration
	// StreamOrder: this server shows its own users' room lines in the
	// feed's order too, when they come back from NATS (while the link is
	// down, at once), so that every server shows a room's lines in the
	// same order. Without it they are shown at once, and only the other
	// servers agree on the order.
	StreamOrder bool
	// Log is the link's logger.
	Log zerolog.Logger
}

// Sink is where a Link hands the other servers' events: *hub.Hub.
type Sink interface {
	Publish(m message.Message) error
	Cluster(e hub.ClusterEvent) error
}

// Link is this server's connection to the cluster. Create it with Dial,
// give it to the hub (hub.Config.Relay and Claims), then Start it with the
// hub; Close it after the hub has stopped.
type Link struct {
	cfg     Config
	log     zerolog.Logger
	subject string
	nc      *nats.Conn
	js      jetstream.JetStream
	run     int64                    // when this link was dialed: the run of its event numbers
	feed    jetstream.Stream         // the cluster's traffic
	feedMu  sync.Mutex               // the consumer's state: cc, lastSeq, seq, ready
	cc      jetstream.ConsumeContext // the feed's consumer
	lastSeq uint64                   // the feed's last event read
	seq     *sequencer
	ready   []item
	kv      jetstream.KeyValue // nicknames
	bans    jetstream.KeyValue
	history jetstream.Stream   // nil without shared history
	acc     *accounts          // the account bucket (accounts.go)
	admin   jetstream.KeyValue // mutes, MOTD, kept topics

	out     *queue        // to the publisher (queue.go)
	ops     chan claimOp  // to the claims worker
	stop    chan struct{} // closed by Close
	halt    chan struct{} // closed by Kill, or by Close when out of time: the publisher ends at once
	halted  sync.Once
	wg      sync.WaitGroup
	sink    atomic.Pointer[sinkBox]
	started atomic.Bool // Start succeeded
	// The link's health (health.go): each flag says a part is failing;
	// health decides what the hub is told, and settleTimer observes
	// again once a recovery may have settled (both under healthMu).
	connDown, pubStuck, consStuck atomic.Bool
	// pubUnproven and consUnproven are set when the connection comes back
	// and cleared by the first event stored (an acknowledgement) and the
	// first event read after that: the link is told up only on that proof
	// (health.go), not on the connection alone.
	pubUnproven, consUnproven atomic.Bool
	healthMu                  sync.Mutex
	health                    settler
	settleTimer               *time.Timer
	closed                    atomic.Bool  // Close began: nothing more is queued
	killed                    atomic.Bool  // Kill ran: nothing more is sent
	sendMu                    sync.RWMutex // Send against Close closing out

	parts map[string]*partial // heartbeats being collected, by origin (receive's)

	drops       atomic.Int64
	published   atomic.Int64
	lines       atomic.Int64
	received    atomic.Int64
	retried     atomic.Int64
	lastDropLog atomic.Int64 // Unix nanoseconds
}

type sinkBox struct{ s Sink }

// Stats are a Link's counters.
type Stats struct {
	// Published and Received count messages sent to and taken from NATS
	// (Published once per message, however often it was retried).
	Published, Received int64
	// Retried counts publishes made again after a failed or missing
	// acknowledgement (the stream stores each message once).
	Retried int64
	// Lines counts the lines published (chat, emotes, private messages,
	// walls): one per line said here, never one per recipient.
	Lines int64
	// Dropped counts events not sent: the buffer was full, or NATS
	// refused them (its reconnect buffer full).
	Dropped int64
}

// Linked reports whether the link's NATS connection is up (for /readyz);
// safe from any goroutine.
func (l *Link) Linked() bool {
	return l.nc.IsConnected() && !l.pubStuck.Load() && !l.consStuck.Load()
}

// Stats reads the link's counters; safe from any goroutine.
func (l *Link) Stats() Stats {
	return Stats{Published: l.published.Load(), Received: l.received.Load(), Retried: l.retried.Load(),
		Lines: l.lines.Load(), Dropped: l.drops.Load()}
}

// setupTimeout bounds each creation of a bucket or stream at Dial: a
// replicated one on a NATS cluster that has just started waits for its
// leader's election, which takes longer than a request (OpTimeout) on a
// busy machine; a NATS without JetStream still answers at once.
func (c *Config) setupTimeout() time.Duration { return max(4*c.OpTimeout, 20*time.Second) }

// ErrConfig is wrapped by Dial's errors about the configuration.
var ErrConfig = errors.New("cluster")

func (c *Config) setDefaults() error {
	if c.Name == "" {
		c.Name = "telchat"
	}
	if c.Timeout <= 0 {
		c.Timeout = 15 * time.Second
	}
	if c.Buffer <= 0 {
		c.Buffer = 1 << 17
	}
	if c.BufferBytes <= 0 {
		c.BufferBytes = 64 << 20
	}
	if c.ReconnectWait <= 0 {
		c.ReconnectWait = time.Second
	}
	if c.OpTimeout <= 0 {
		c.OpTimeout = 5 * time.Second
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.Replicas > 5 {
		return fmt.Errorf("%w: %d replicas: at most 5", ErrConfig, c.Replicas)
	}
	if strings.TrimSpace(c.URLs) == "" {
		return fmt.Errorf("%w: no NATS URL", ErrConfig)
	}
	if err := CheckURLs(c.URLs); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if c.CredsFile != "" && c.Token != "" {
		return fmt.Errorf("%w: give a credentials file or a token, not both", ErrConfig)
	}
	if err := CheckName(c.Name); err != nil {
		return err
	}
	return CheckServerID(c.ServerID)
}

// CheckName checks a cluster name: 1 to 32 letters, digits, _ or -, so
// that it can be part of subject, bucket and stream names.
func CheckName(name string) error {
	ok := name != "" && len(name) <= 32
	for i := 0; ok && i < len(name); i++ {
		b := name[i]
		ok = 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_' || b == '-'
	}
	if !ok {
		return fmt.Errorf("%w: cluster name %q: want 1 to 32 letters, digits, _ or -", ErrConfig, name)
	}
	return nil
}

// Subject is the NATS subject a cluster's events (all but room lines)
// are published on.
func Subject(name string) string { return "telchat." + name + ".events" }

// NickBucket is the name of the key-value bucket of a cluster's nicknames.
func NickBucket(name string) string { return "telchat_" + name + "_nicks" }

// Dial connects to NATS and opens (creating it if needed) the nickname
// bucket. The link sends nothing until Start.
func Dial(ctx context.Context, cfg Config) (*Link, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	l := &Link{
		cfg: cfg, log: cfg.Log.With().Str("component", "cluster").Str("server", cfg.ServerID).Logger(),
		subject: Subject(cfg.Name),
		out:     newQueue(cfg.Buffer, cfg.BufferBytes),
		ops:     make(chan claimOp, claimQueue),
		stop:    make(chan struct{}),
		halt:    make(chan struct{}),
		run:     time.Now().UnixNano(),
	}
	l.health = settler{settle: cfg.settleTime(), told: true}
	l.seq = newSequencer(l.run, cfg.Timeout/2)
	opts := []nats.Option{
		nats.Name("telchat " + cfg.ServerID),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(cfg.ReconnectWait),
		nats.Timeout(cfg.OpTimeout),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if l.closed.Load() || l.killed.Load() {
				return
			}
			l.log.Warn().Err(err).Msg("NATS connection lost; reconnecting")
			l.setHealth(&l.connDown, true)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			// A round trip first: the server has our subscriptions again
			// before anyone is told the link is back.
			if err := nc.FlushTimeout(l.cfg.OpTimeout); err != nil {
				l.log.Warn().Err(err).Msg("NATS connection restored but not answering")
			}
			l.log.Info().Str("url", nc.ConnectedUrlRedacted()).Msg("NATS connection restored")
			// The feed is given its chance again: told down again if it
			// still stores or reads nothing.
			l.pubStuck.Store(false)
			l.consStuck.Store(false)
			l.pubUnproven.Store(true)
			l.consUnproven.Store(true)
			l.setHealth(&l.connDown, false)
			l.enqueueOp(claimOp{kind: opRenew})
			// An event to prove the feed with (stored, then read back),
			// which also asks the others for their presence.
			l.Send(hub.ClusterEvent{Kind: hub.ClusterSync, Origin: l.cfg.ServerID})
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			l.log.Warn().Err(err).Msg("NATS error")
		}),
	}
	if cfg.CredsFile != "" {
		if _, err := os.Stat(cfg.CredsFile); err != nil {
			return nil, fmt.Errorf("%w: credentials file: %w", ErrConfig, err)
		}
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}
	if cfg.Token != "" {
		opts = append(opts, nats.Token(cfg.Token))
	}
	nc, err := nats.Connect(cfg.URLs, opts...)
	if err != nil {
		return nil, fmt.Errorf("cluster: connecting to NATS at %s: %w", Redact(cfg.URLs), err)
	}
	l.nc = nc
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(2*pubWindow),
		jetstream.WithPublishAsyncTimeout(cfg.OpTimeout))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("cluster: JetStream: %w", err)
	}
	kv, err := openBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket:      NickBucket(cfg.Name),
		Description: "telchat nicknames: key = look-alike key, value = server id and nickname",
		History:     1,
		TTL:         cfg.Timeout,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	}, cfg.setupTimeout())
	if err != nil {
		nc.Close()
		return nil, err
	}
	l.kv, l.js = kv, js
	if err := l.openBans(ctx, js); err != nil {
		nc.Close()
		return nil, err
	}
	if err := l.openAdmin(ctx, js); err != nil {
		nc.Close()
		return nil, err
	}
	if err := l.releaseRoomSubjects(ctx, js); err != nil {
		nc.Close()
		return nil, err
	}
	if err := l.openAccounts(ctx, js); err != nil {
		nc.Close()
		return nil, err
	}
	if err := l.openFeed(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	if err := l.openHistory(ctx, js); err != nil {
		nc.Close()
		return nil, err
	}
	return l, nil
}

// openBucket creates the bucket, or opens it if it exists (perhaps made by
// an operator with other settings, such as more replicas).
func openBucket(ctx context.Context, js jetstream.JetStream, kc jetstream.KeyValueConfig, d time.Duration) (jetstream.KeyValue, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	kv, err := js.CreateKeyValue(ctx, kc)
	if err == nil {
		return kv, nil
	}
	if existing, gerr := js.KeyValue(ctx, kc.Bucket); gerr == nil {
		return existing, nil
	}
	return nil, fmt.Errorf("cluster: key-value bucket %s (is JetStream enabled for this account?): %w", kc.Bucket, err)
}

// Start starts reading the feed (from the next event stored) and the
// link's goroutines: the publisher, the heartbeat ticker and the claims
// worker.
func (l *Link) Start(s Sink) error {
	l.sink.Store(&sinkBox{s})
	// One consumer for the events and the room lines: one goroutine
	// takes them, in the stream's order.
	if err := l.consume(); err != nil {
		return err
	}
	err := l.startWatch(l.bans, BanBucket(l.cfg.Name), l.banEvent)
	if err == nil {
		err = l.startWatch(l.admin, AdminBucket(l.cfg.Name), l.adminEvent)
	}
	if err != nil {
		l.stopConsuming()
		return err
	}
	l.started.Store(true)
	l.wg.Add(4)
	go l.feedWatch()
	go l.publisher()
	go l.ticker()
	go l.claimsWorker()
	l.Send(hub.ClusterEvent{Kind: hub.ClusterSync, Origin: l.cfg.ServerID})
	return l.acc.start()
}

func (l *Link) toSink(e hub.ClusterEvent) {
	if b := l.sink.Load(); b != nil {
		_ = b.s.Cluster(e)
	}
}

// assemble collects the parts of a big heartbeat (they arrive in order:
// one publisher per server); it returns the whole heartbeat with the last
// part. A part out of turn discards what was collected. It runs on the
// subscription's goroutine only.
func (l *Link) assemble(e hub.ClusterEvent, p, n int) (hub.ClusterEvent, bool) {
	if l.parts == nil {
		l.parts = make(map[string]*partial)
	}
	pt := l.parts[e.Origin]
	if p == 0 {
		pt = &partial{n: n}
		l.parts[e.Origin] = pt
	}
	if pt == nil || pt.n != n || pt.next != p {
		delete(l.parts, e.Origin)
		return e, false
	}
	pt.users = append(pt.users, e.Users...)
	pt.next++
	if pt.next < n {
		return e, false
	}
	delete(l.parts, e.Origin)
	e.Users = pt.users
	return e, true
}

// partial is a heartbeat whose parts are being collected.
type partial struct {
	n, next int
	users   []hub.Presence
}

// Send hands e to the publisher without blocking (hub.Relay). When the
// buffer is full (Config.Buffer, Config.BufferBytes) the event is
// dropped, counted and logged. A change to
// the admin state goes to the key-value worker instead (see adminstate.go).
func (l *Link) Send(e hub.ClusterEvent) {
	if adminKind(e.Kind) {
		if !l.enqueueOp(claimOp{kind: opAdmin, ev: e}) {
			l.dropped("key-value queue full (admin state)")
			if e.Done != nil {
				go e.Done(0, errAdminBusy)
			}
		}
		return
	}
	l.sendMu.RLock()
	defer l.sendMu.RUnlock()
	if l.closed.Load() || l.killed.Load() {
		return
	}
	if !l.out.push(e) {
		l.dropped("buffer full")
	}
}

// dropped counts a dropped event and logs it, at most once a second.
func (l *Link) dropped(why string) {
	n := l.drops.Add(1)
	now := time.Now().UnixNano()
	last := l.lastDropLog.Load()
	if now-last >= int64(time.Second) && l.lastDropLog.CompareAndSwap(last, now) {
		l.log.Warn().Str("why", why).Int64("dropped_total", n).Msg("cluster events dropped")
	}
}

// ticker tells the hub hub.ClusterTicks times per Timeout to look for
// lost servers (and, every Timeout/3, to send its heartbeat).
func (l *Link) ticker() {
	defer l.wg.Done()
	t := time.NewTicker(l.cfg.Timeout / hub.ClusterTicks)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			l.toSink(hub.ClusterEvent{Kind: hub.ClusterTick})
		case <-l.stop:
			return
		}
	}
}

// Close stops the link: events already sent are published and the
// nickname releases already asked for are made (both within ctx), then
// the NATS connection is drained and closed. Call it after the hub has
// stopped.
func (l *Link) Close(ctx context.Context) error {
	l.sendMu.Lock()
	if l.closed.Swap(true) {
		l.sendMu.Unlock()
		return nil
	}
	l.out.close()
	close(l.stop)
	l.sendMu.Unlock()
	l.stopSettling()
	if !l.started.Load() {
		close(l.ops)
		l.nc.Close()
		return nil
	}
	close(l.ops)
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("cluster: closing: %w", ctx.Err())
	}
	l.halted.Do(func() { close(l.halt) })
	l.stopConsuming()
	l.nc.Close() // ends a worker still waiting on NATS
	<-done
	return err
}

// Kill drops the NATS connection at once, without publishing anything
// more: what a crash looks like to the other servers (for tests and
// drills). Close must still be called.
func (l *Link) Kill() {
	l.killed.Store(true)
	l.stopSettling()
	l.halted.Do(func() { close(l.halt) })
	l.nc.Close()
}

// ServerID is this server's id in the cluster.
func (l *Link) ServerID() string { return l.cfg.ServerID }
