package hub

import (
	"errors"
	"sort"
	"time"
)

// UserInfo describes a user for /who and /whois.
type UserInfo struct {
	Nick, Room, Away, Remote string
	// Server is the id of the server the user is connected to, in a
	// cluster ("" otherwise).
	Server       string
	Admin, Muted bool
	ConnectedAt  time.Time
	Idle         time.Duration
}

// RoomInfo describes a room for /rooms.
type RoomInfo struct {
	Name, Topic string
	Members     int
}

// ClientInfo describes a connection for /clients.
type ClientInfo struct {
	ID, Nick, Remote, Room string
	Console                bool
	ConnectedAt            time.Time
	Stats                  PeerStats
}

// StatsInfo is the server summary for /stats.
type StatsInfo struct {
	Version                                 string
	Uptime                                  time.Duration
	ConnectionsNow, ConnectionsTotal, Named int64
	Rooms                                   int
	Messages, Deliveries                    int64
	MessagesPerSecond                       float64
	SlowDrops, FloodDrops, Refused          int64
	Bans                                    int
	// LogLeftOut counts the log lines strangers caused that were left out
	// (Config.LogPerSecond).
	LogLeftOut uint64
}

// Rooms lists rooms, most members first.
func (x *Ctx) Rooms() []RoomInfo {
	out := make([]RoomInfo, 0, len(x.h.rooms))
	for _, r := range x.h.rooms {
		out = append(out, RoomInfo{Name: r.name, Topic: r.topic, Members: len(r.members)})
	}
	out = x.h.remoteRooms(out)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Members != out[j].Members {
			return out[i].Members > out[j].Members
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Who lists the members of room (the caller's room when empty): the first
// WhoMax by nickname, in that order, and how many members it has.
func (x *Ctx) Who(room string) (name string, total int, users []UserInfo, err error) {
	var r *Room
	if room == "" {
		c, err := x.user()
		if err != nil {
			return "", 0, nil, errors.New("usage: who ROOM")
		}
		r = c.room
	} else {
		if r, err = x.h.roomFor(room, false); err != nil {
			return x.h.remoteOnlyWho(room, err)
		}
	}
	first := firstByKey(r.members, WhoMax)
	users = make([]UserInfo, 0, len(first))
	for _, m := range first {
		users = append(users, x.h.userInfo(m))
	}
	users, total = x.h.withRemoteMembers(r.key, users, len(r.members))
	return r.name, total, users, nil
}

// Whois describes one user.
func (x *Ctx) Whois(nick string) (UserInfo, error) {
	c, err := x.lookup(nick)
	if err != nil {
		if u := x.h.remoteLookup(nick); u != nil {
			return x.h.remoteInfo(u), nil
		}
		return UserInfo{}, err
	}
	return x.h.userInfo(c), nil
}

func (h *Hub) userInfo(c *Conn) UserInfo {
	now := time.Now()
	muted := !c.mutedUntil.IsZero() && (c.mutedUntil.Equal(forever) || now.Before(c.mutedUntil))
	ui := UserInfo{Nick: c.nick, Away: c.away, Remote: c.Remote, Admin: c.admin,
		Muted: muted, ConnectedAt: c.connectedAt, Idle: now.Sub(c.lastActive), Server: h.cfg.ServerID}
	if c.room != nil {
		ui.Room = c.room.name
	}
	return ui
}

// ServerID is this server's id in the cluster ("" without one), for
// /clients.
func (x *Ctx) ServerID() string { return x.h.cfg.ServerID }

// Clients lists every connection of this server.
func (x *Ctx) Clients() []ClientInfo {
	out := make([]ClientInfo, 0, len(x.h.conns))
	for c := range x.h.conns {
		ci := ClientInfo{ID: c.ID, Nick: c.nick, Remote: c.Remote, Console: c.console, ConnectedAt: c.connectedAt}
		if c.room != nil {
			ci.Room = c.room.name
		}
		if sr, ok := c.peer.(StatsReporter); ok {
			ci.Stats = sr.Stats()
		}
		out = append(out, ci)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ConnectedAt.Before(out[j].ConnectedAt) })
	return out
}

// Stats summarizes the server.
func (x *Ctx) Stats() StatsInfo {
	h := x.h
	return StatsInfo{
		Version:           h.cfg.Version,
		Uptime:            time.Since(h.started),
		ConnectionsNow:    h.Counters.ConnectionsNow.Load(),
		ConnectionsTotal:  h.Counters.ConnectionsTotal.Load(),
		Named:             int64(len(h.nicks)),
		Rooms:             len(h.rooms),
		Messages:          h.Counters.Messages.Load() + h.Counters.PrivateMessages.Load(),
		Deliveries:        h.Counters.Deliveries.Load(),
		MessagesPerSecond: h.rate.perSecond(time.Now()),
		SlowDrops:         h.Counters.SlowDrops.Load(),
		FloodDrops:        h.Counters.FloodDrops.Load(),
		Refused:           h.Counters.Refused.Load(),
		Bans:              len(h.bans),
		LogLeftOut:        h.samples.SuppressedTotal(),
	}
}
