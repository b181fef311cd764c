package hub

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"telchat/message"
	"telchat/store"
)

// Archive is where the hub keeps what outlives a restart besides the
// operator state: room history, registered accounts and offline messages.
// None of its methods may block: writes are queued (and their done
// function, if any, called once they are on disk), reads run elsewhere and
// report through done. done functions are called on the archive's
// goroutines; the hub posts their results back to itself.
// *boltstore.DB implements it (one server); in a cluster,
// *cluster.Archive wraps it and keeps accounts and offline messages in
// the cluster's JetStream.
type Archive interface {
	// AppendHistory records a line said in the room with key room.
	AppendHistory(room string, m store.Message)
	// History reads the last n lines of room said before before (the
	// zero time: the newest), oldest first.
	History(room string, before time.Time, n int, done func([]store.Message, error))
	// Purge removes the lines said by nickname key from at or after since
	// (the zero time: all) from every room.
	Purge(from string, since time.Time, done func(n int, err error))
	// Accounts are named by the nickname key and its look-alike key
	// (loose): a store shared by several servers keeps one account per
	// look-alike key. CreateAccount registers a nickname: done gets
	// store.ErrAccountExists when it, or a look-alike, is registered
	// already (perhaps just now on another server). UpdateAccount changes
	// an account: change sets fields of the stored account (it may run
	// more than once, on the store's goroutine); done gets
	// store.ErrNoAccount when there is none. Account reads an account as
	// stored now. DeleteAccount removes it and its offline messages. A
	// store that cannot be reached for now answers with an error wrapping
	// store.ErrUnavailable.
	CreateAccount(key, loose string, a store.Account, done func(error))
	UpdateAccount(key, loose string, change func(*store.Account), done func(error))
	Account(key, loose string, done func(a store.Account, found bool, err error))
	DeleteAccount(key, loose string, done func(error))
	// PutOffline keeps a private message for the registered user with
	// nickname key to; TakeOffline hands out and removes theirs, oldest
	// first.
	PutOffline(to string, o store.Offline, done func(error))
	TakeOffline(to string, done func([]store.Offline, error))
	// Backup writes a consistent copy of the whole store to path.
	Backup(path string, done func(size int64, err error))
}

// post runs fn on the hub goroutine; from an archive callback. A stopped
// hub drops it.
func (h *Hub) post(fn func()) { _ = h.Do(fn) }

// Backup writes a consistent copy of the store to path, a file on the
// server's machine that must not exist; the caller hears when it is done.
// Only the operator console and admin socket may do it: an admin in chat
// cannot write files on the server.
func (x *Ctx) Backup(path string) error {
	if !x.c.console {
		return errors.New("backup works only on the server's console or admin socket")
	}
	if x.h.cfg.Archive == nil {
		return fmt.Errorf("backup is %w (no store)", ErrDisabled)
	}
	if !filepath.IsAbs(path) {
		return errors.New("give the backup file as an absolute path")
	}
	h, c := x.h, x.c
	h.cfg.Archive.Backup(path, func(size int64, err error) {
		h.post(func() {
			x := h.ctx(c)
			x.Audit("backup", path, err)
			if _, present := h.conns[c]; !present {
				return
			}
			if err != nil {
				x.Reply("! Backup failed: " + err.Error())
				return
			}
			x.Reply(fmt.Sprintf("*** Backup written to %s (%d bytes)", path, size))
		})
	})
	return nil
}

// archive records a room message in the archive, if there is one.
func (h *Hub) archive(r *Room, fromKey string, m *message.Message) {
	if !h.diskHistory() {
		return
	}
	h.cfg.Archive.AppendHistory(r.key, store.Message{Time: m.Time, Kind: uint8(m.Kind), FromKey: fromKey, From: m.From, Text: m.Text})
}

// fromStored turns an archived line of room r into a history entry.
func fromStored(r *Room, m store.Message) historyEntry {
	return historyEntry{from: m.FromKey, msg: message.Message{Kind: message.Kind(m.Kind), Room: r.name, From: m.From, Text: m.Text, Time: m.Time}}
}

// loadHistory fills a room created with an archive with its last lines on
// disk. The read runs off the hub; members who joined meanwhile get the
// loaded lines when they arrive.
func (h *Hub) loadHistory(r *Room) {
	if !h.diskHistory() || h.cfg.HistorySize <= 0 {
		return
	}
	h.cfg.Archive.History(r.key, time.Time{}, h.cfg.HistorySize, func(ms []store.Message, err error) {
		h.post(func() { h.historyLoaded(r, ms, err) })
	})
}

// historyLoaded puts the lines read for r ahead of those said since it was
// created, and shows them to its members.
func (h *Hub) historyLoaded(r *Room, ms []store.Message, err error) {
	if err != nil {
		h.log.Error().Err(err).Str("room", r.name).Msg("reading the room's history failed")
		return
	}
	if h.rooms[r.key] != r {
		return // removed meanwhile
	}
	var loaded []historyEntry
	for _, m := range ms {
		// Later ones are in the ring already; so may be a line said on
		// another server just before r was created here, come in since.
		if m.Time.Before(r.created) && !r.hasRecent(m) {
			loaded = append(loaded, fromStored(r, m))
		}
	}
	if len(loaded) == 0 {
		return
	}
	// The new ring: the loaded lines, then those said since, the newest
	// HistorySize of them. Entries move; the old ring is dropped.
	all := len(loaded) + len(r.history)
	skip := max(0, all-h.cfg.HistorySize)
	ring := make([]historyEntry, 0, all-skip)
	for i := skip; i < all; i++ {
		if i < len(loaded) {
			ring = append(ring, loaded[i])
		} else {
			ring = append(ring, r.history[(r.histStart+i-len(loaded))%len(r.history)])
		}
	}
	r.history, r.histStart = ring, 0
	shown := max(0, len(loaded)-skip) // loaded lines still in the ring
	if shown == 0 {
		return
	}
	// A copy: a member dropped as slow leaves r.members meanwhile.
	for _, c := range append([]*Conn(nil), r.members...) {
		var backlog []*message.Message
		for i := range shown {
			if e := &r.history[i]; !e.ignoredBy(c.ignores) {
				backlog = append(backlog, &e.msg)
			}
		}
		if len(backlog) > 0 {
			h.deliver(c, &message.Message{Kind: message.History, Room: r.name, Backlog: backlog, Time: time.Now()})
		}
	}
}

// diskHistory reports whether room history goes to the archive.
func (h *Hub) diskHistory() bool { return h.cfg.Archive != nil && !h.cfg.NoDiskHistory }

// hasRecent reports whether r's ring holds m, a stored line, already: the
// same sender and text, said within a few seconds of it (a line of another
// server's that arrived after r was created, recorded at its arrival).
func (r *Room) hasRecent(m store.Message) bool {
	for i := range r.history {
		e := &r.history[i].msg
		if e.From == m.From && e.Text == m.Text && e.Time.Sub(m.Time).Abs() < 5*time.Second {
			return true
		}
	}
	return false
}
