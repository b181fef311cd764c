package hub

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"telchat/usertext"
)

// The bounds on what one stranger's command may cost the hub. Every
// listing is a page of bounded size, and the listings share a budget per
// client.
const (
	// RoomsPageSize is how many rooms one /rooms page lists.
	RoomsPageSize = 50
	// WhoMax is how many names /who lists (the first by name); a bigger
	// room is summed up with a count.
	WhoMax = 100
	// ListingRate and ListingBurst are each chat user's budget for
	// listings (/rooms, /who): two a second, ten at once. The session's
	// reader holds a listing back until the budget allows it (IsListing),
	// as it does with lines over the message rate, so a paste of listings
	// is answered whole and in order, a little late.
	ListingRate  = 2
	ListingBurst = 10
	// groupListingRate and groupListingBurst are the budget that all the
	// chat users of one address group (Config.AddrGroups) share, so that
	// many connections from one address cannot multiply the per-user
	// budget.
	groupListingRate  = 5
	groupListingBurst = 10
)

var (
	// ErrSlowDownGroup is returned when the users of one address together
	// ask for listings faster than their shared budget allows.
	ErrSlowDownGroup = errors.New("slow down: too many listings (/rooms, /who) from your address, try again in a second")
	// ErrRoomShare is returned when an address has created its share of
	// the rooms (Config.MaxRoomsPerAddr) and asks for another.
	ErrRoomShare = errors.New("too many rooms opened from your address")
)

// tokenBucket is a budget that refills at a steady rate up to a burst. The
// zero value is a full bucket.
type tokenBucket struct {
	spent float64   // taken from the bucket, at most burst
	at    time.Time // when spent was last brought up to date
}

// take reports whether n more fit in the budget at now, and takes them if
// so.
func (b *tokenBucket) take(n int, now time.Time, rate, burst int) bool {
	if !b.at.IsZero() {
		b.spent = max(0, b.spent-now.Sub(b.at).Seconds()*float64(rate))
	}
	b.at = now
	if b.spent+float64(n) > float64(burst) {
		return false
	}
	b.spent += float64(n)
	return true
}

// IsListing reports whether line asks for a listing, whose budget per
// user (ListingRate, ListingBurst) the session's reader applies. It may be
// called from any goroutine.
func (h *Hub) IsListing(line string) bool {
	lr, ok := h.cfg.Commands.(ListingRunner)
	return ok && lr.IsListing(line)
}

// Listing takes one listing from the budget that the chat users of the
// caller's address group share, or returns ErrSlowDownGroup. (Each user's
// own budget is applied by its session's reader, which holds the line back
// instead of refusing it.) Consoles and admins are not limited.
func (x *Ctx) Listing() error {
	c := x.c
	if c.admin || c.console {
		return nil
	}
	now := time.Now()
	if !c.Addr.IsValid() {
		return nil
	}
	g := x.h.AddrGroup(c.Addr)
	b := x.h.groupListings[g]
	if b == nil {
		if x.h.groupListings == nil {
			x.h.groupListings = make(map[netip.Prefix]*tokenBucket)
		}
		b = &tokenBucket{}
		x.h.groupListings[g] = b
	}
	if !b.take(1, now, groupListingRate, groupListingBurst) {
		return ErrSlowDownGroup
	}
	return nil
}

// pruneListings forgets, every tick, the address groups whose shared
// listing budget is full again: the map holds only groups that asked for
// a listing in the last few seconds.
func (h *Hub) pruneListings(now time.Time) {
	for g, b := range h.groupListings {
		if b.take(0, now, groupListingRate, groupListingBurst) && b.spent == 0 {
			delete(h.groupListings, g)
		}
	}
}

// RoomsPage lists one page (1, 2, ...) of the rooms, most members first,
// RoomsPageSize to a page, and the number of rooms and pages. It sorts the
// rooms (a few hundred microseconds for 1,000 rooms) but formats only the
// page.
func (x *Ctx) RoomsPage(page int) (list []RoomInfo, total, pages int, err error) {
	h := x.h
	if len(h.cluster.users) > 0 {
		return h.clusterRoomsPage(page)
	}
	total = len(h.rooms)
	pages = max(1, (total+RoomsPageSize-1)/RoomsPageSize)
	if page < 1 || page > pages {
		return nil, total, pages, fmt.Errorf("no page %d: there %s", page, plural2(pages, "is 1 page", "are %d pages"))
	}
	order := h.roomOrder[:0]
	for _, r := range h.rooms {
		order = append(order, r)
	}
	slices.SortFunc(order, func(a, b *Room) int {
		if d := len(b.members) - len(a.members); d != 0 {
			return d
		}
		return strings.Compare(a.name, b.name)
	})
	from := (page - 1) * RoomsPageSize
	for _, r := range order[from:min(from+RoomsPageSize, len(order))] {
		list = append(list, RoomInfo{Name: r.name, Topic: r.topic, Members: len(r.members)})
	}
	clear(order)
	h.roomOrder = order[:0]
	return list, total, pages, nil
}

// plural2 is "is 1 page" or "are 7 pages".
func plural2(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return fmt.Sprintf(many, n)
}

// firstByKey returns the k members of members that come first by nickname
// key, in that order, without sorting them all: a max-heap of k.
func firstByKey(members []*Conn, k int) []*Conn {
	less := func(a, b *Conn) bool { return a.key < b.key }
	if len(members) <= k {
		out := slices.Clone(members)
		slices.SortFunc(out, func(a, b *Conn) int { return strings.Compare(a.key, b.key) })
		return out
	}
	heap := make([]*Conn, 0, k) // heap[0] is the greatest kept
	down := func(i int) {
		for {
			l, big := 2*i+1, i
			if l < len(heap) && less(heap[big], heap[l]) {
				big = l
			}
			if r := l + 1; r < len(heap) && less(heap[big], heap[r]) {
				big = r
			}
			if big == i {
				return
			}
			heap[i], heap[big] = heap[big], heap[i]
			i = big
		}
	}
	for _, m := range members {
		switch {
		case len(heap) < k:
			heap = append(heap, m)
			for i := len(heap) - 1; i > 0; {
				p := (i - 1) / 2
				if !less(heap[p], heap[i]) {
					break
				}
				heap[i], heap[p] = heap[p], heap[i]
				i = p
			}
		case less(m, heap[0]):
			heap[0] = m
			down(0)
		}
	}
	slices.SortFunc(heap, func(a, b *Conn) int { return strings.Compare(a.key, b.key) })
	return heap
}

// createRoom creates the room name for c, within the global cap
// (Config.MaxRooms) and the share of it that one address may create
// (Config.MaxRoomsPerAddr), so that a few addresses cannot take every room.
func (h *Hub) createRoom(name string, c *Conn) (*Room, error) {
	display, key, err := usertext.CheckRoom(name)
	if err != nil {
		return nil, err
	}
	if r, ok := h.rooms[key]; ok {
		return r, nil
	}
	limited := c != nil && !c.admin && c.Addr.IsValid() && h.cfg.MaxRoomsPerAddr > 0
	var group netip.Prefix // the address's group: IPv6 by /64 (Config.AddrGroups)
	if limited {
		group = h.AddrGroup(c.Addr)
	}
	if limited && h.roomsBy[group] >= h.cfg.MaxRoomsPerAddr {
		return nil, fmt.Errorf("%w (%d); join one that exists (/rooms)", ErrRoomShare, h.cfg.MaxRoomsPerAddr)
	}
	if len(h.rooms) >= h.cfg.MaxRooms {
		return nil, ErrTooManyRooms
	}
	r := h.newRoom(display)
	h.rooms[key] = r
	if limited {
		if h.roomsBy == nil {
			h.roomsBy = make(map[netip.Prefix]int)
		}
		r.creator = group
		h.roomsBy[group]++
	}
	return r, nil
}

// forgetCreator takes a removed room off its creator's count.
func (h *Hub) forgetCreator(r *Room) {
	if !r.creator.IsValid() {
		return
	}
	if h.roomsBy[r.creator]--; h.roomsBy[r.creator] <= 0 {
		delete(h.roomsBy, r.creator)
	}
}
