package hub

import (
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rs/zerolog"

	"telchat/ipgroup"
	"telchat/store"
	"telchat/usertext"
)

// Config configures a Hub. Zero values mean the documented defaults.
type Config struct {
	// ServerName is shown in the greeting. Default "telchat".
	ServerName string
	// Version is the running build ("v1.2.3"), shown in the greeting and
	// /stats. Optional.
	Version string
	// HistorySize is how many messages each room keeps for new joiners.
	// Default 50; negative disables history.
	HistorySize int
	// AnnounceMax: rooms with more members than this get no join and leave
	// lines (they would swamp a big room). 0 means 200; negative means no
	// limit.
	AnnounceMax int
	// NickTimeout disconnects a client that gives no valid nickname in time.
	// Default 60s.
	NickTimeout time.Duration
	// IdleTimeout disconnects named users idle this long (0: never). They are
	// warned a minute (or a tenth of the timeout, if less) before.
	IdleTimeout time.Duration
	// MaxRooms bounds how many rooms may exist. Default 1000.
	MaxRooms int
	// MaxRoomsPerAddr bounds the rooms that users from one address may
	// create (while they exist), so that a few addresses cannot take all
	// MaxRooms. Default 10; negative: no share.
	MaxRoomsPerAddr int
	// MaxIgnores bounds each user's ignore list. Default 100.
	MaxIgnores int
	// MaxBans bounds the ban list. Default store.MaxBans (10000). A loaded
	// state with more keeps the newest (store.CapBans), and the log says
	// which were dropped.
	MaxBans int
	// PrivateRate and PrivateBurst are the budget, in bytes per second and
	// bytes, that everyone's private messages to one user share; over it a
	// sender is told that the recipient is busy and the message is refused.
	// Defaults 16 KiB/s and 64 KiB; a negative rate means no budget.
	PrivateRate, PrivateBurst int
	// PrivateBacklog refuses private messages to a user whose outbound
	// queue already holds this many bytes (so that others cannot get a
	// user cut as slow). Default 1 MiB; negative: never.
	PrivateBacklog int64
	// Coalesce is how long the wake-ups of a fan-out to CoalesceMin or more
	// recipients are held back, so that lines arriving together (several
	// senders in a busy room) are written with one system call per
	// recipient. Such a fan-out takes milliseconds of system calls anyway;
	// the hold adds a small fraction of that. 0: never hold.
	Coalesce time.Duration
	// CoalesceMin is the smallest fan-out whose wake-ups are held. Default 256.
	CoalesceMin int
	// AddrGroups says which addresses the per-address limits count
	// together (see AddrGroup). The zero value groups IPv4 by /32 and IPv6
	// by /64.
	AddrGroups ipgroup.Prefixes
	// Nick are the nickname rules.
	Nick usertext.NickRules
	// Commands runs command lines. Required.
	Commands Runner
	// State is the durable state loaded at start (bans, MOTD, topics).
	State store.State
	// MOTDFromFile says that State.MOTD was read from a file
	// (-motd-file): in a cluster it is put in the cluster's admin state
	// at start, replacing what an admin set, as a reload of the file does.
	MOTDFromFile bool
	// Saver receives a snapshot whenever the durable state changes, and
	// reports back when it is on disk. Optional: without one, changes are
	// confirmed at once and kept in memory only.
	Saver Saver
	// Archive keeps room history (and accounts and offline messages) on
	// disk. Optional: without one, history is kept in memory only.
	Archive Archive
	// Rehash reloads the server's files and live settings for the rehash
	// command (by names who asked). It runs on its own goroutine and returns
	// lines for the caller (what changed), or an error when the reload
	// failed and nothing was changed. Nil disables rehash.
	Rehash func(by string) ([]string, error)
	// NoDiskHistory keeps room history in memory only, even with an
	// Archive (which then holds accounts and offline messages).
	NoDiskHistory bool
	// Accounts are the registered nicknames loaded at start, by nickname
	// key. Accounts need an Archive (where changes are written). In a
	// cluster it is nil: the relay hands the hub the cluster's accounts
	// (ClusterAccount) before the server listens.
	Accounts map[string]store.Account
	// AccountsPerDay bounds the accounts registered from one address per
	// day (UTC). 0: no limit.
	AccountsPerDay int
	// BcryptCost is the cost of new account password hashes. Default
	// bcrypt.DefaultCost.
	BcryptCost int
	// PasswordCheck verifies an /oper password. It runs on its own goroutine
	// (bcrypt is slow). Nil means /oper is disabled.
	PasswordCheck func(password string) bool
	// OnShutdown is called (on the hub goroutine; it must not block) when an
	// admin asks the server to shut down.
	OnShutdown func(reason string)
	// ServerID names this server in a cluster (shown in /whois). Optional.
	ServerID string
	// Relay, if set, makes this server part of a cluster: what its users
	// do goes to the other servers through it (see Relay).
	Relay Relay
	// Claims, if set, makes each nickname unique across the cluster: a
	// name is accepted only once Claims has claimed it.
	Claims Claimer
	// ClusterOrdered: a line said here in a room is shown to this
	// server's users when it comes back from the cluster (the relay hands
	// it back, in the order every server shows the room's lines), not at
	// once; while the link is down, at once. With it every server shows a
	// room's lines in the same order.
	ClusterOrdered bool
	// ClusterTimeout: a server of the cluster not heard from this long is
	// lost, and its users are shown as left (server lost). Default 15s.
	ClusterTimeout time.Duration
	// Log is the hub's logger.
	Log zerolog.Logger
	// LogPerSecond bounds the log lines strangers can cause: at most this
	// many lines of each kind (refused connections, nicknames taken and
	// sessions ended, admin commands by non-admins) per second; the rest
	// are counted (/stats) and summed up in one line each
	// LogSummaryEvery. 0 means 20 (logsample.DefaultPerSecond); negative
	// means no limit. See Hub.LogSamples.
	LogPerSecond int
	// LogSummaryEvery is how often the lines left out are summed up in
	// the log (only when there are any). Default one minute.
	LogSummaryEvery time.Duration
}

func (c *Config) setDefaults() {
	if c.LogSummaryEvery <= 0 {
		c.LogSummaryEvery = time.Minute
	}
	if c.ServerName == "" {
		c.ServerName = "telchat"
	}
	if c.HistorySize == 0 {
		c.HistorySize = 50
	}
	if c.AnnounceMax == 0 {
		c.AnnounceMax = 200
	}
	if c.NickTimeout == 0 {
		c.NickTimeout = 60 * time.Second
	}
	if c.MaxRooms == 0 {
		c.MaxRooms = 1000
	}
	if c.MaxRoomsPerAddr == 0 {
		c.MaxRoomsPerAddr = 10
	}
	if c.MaxIgnores == 0 {
		c.MaxIgnores = 100
	}
	if c.MaxBans == 0 {
		c.MaxBans = store.MaxBans
	}
	if c.PrivateRate == 0 {
		c.PrivateRate = defaultPrivateRate
	}
	if c.PrivateBurst <= 0 {
		c.PrivateBurst = defaultPrivateBurst
	}
	if c.PrivateBacklog == 0 {
		c.PrivateBacklog = defaultPrivateBacklog
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = bcrypt.DefaultCost
	}
	if c.ClusterTimeout <= 0 {
		c.ClusterTimeout = 15 * time.Second
	}
	if c.CoalesceMin <= 0 {
		c.CoalesceMin = 256
	}
}
