package hub

import (
	"net/netip"
	"time"

	"telchat/store"
)

// findBan returns the first unexpired ban matching id (may be the zero
// nickID) or addr.
func (h *Hub) findBan(id nickID, addr netip.Addr, now time.Time) (store.Ban, bool) {
	for _, b := range h.bans {
		if h.banMatches(b, id, addr, now) {
			return b, true
		}
	}
	return store.Ban{}, false
}

// banMatches reports whether b applies to a client whose nickname has id
// (the zero nickID before login) and whose address is addr. A nickname ban
// is compared by the keys of its own nickname, so that it holds for the
// names that look like it: a ban on "alice" applies to "aIice" and "a1ice",
// and with Unicode nicknames one on "сор" (Cyrillic) to "cop".
func (h *Hub) banMatches(b store.Ban, id nickID, addr netip.Addr, now time.Time) bool {
	if id.key != "" {
		if nick, ok := b.NickMask(); ok {
			if b.Expired(now) {
				return false
			}
			bid := h.banID(b.Mask, nick)
			return bid.key == id.key || bid.loose != "" && bid.loose == id.loose
		}
	}
	return b.Matches(id.key, addr, now)
}

// banID returns the nickID of a nickname ban mask, cached: a key takes
// skeletons (and with Unicode nicknames normalization). The cache is
// emptied whenever bans are removed (forgetBanKeys), so it never holds more
// entries than there are bans.
func (h *Hub) banID(mask, nick string) nickID {
	if id, ok := h.banKeys[mask]; ok {
		return id
	}
	id := nickID{key: nick} // a mask the rules refuse as a name is compared as written
	if display, key, err := h.cfg.Nick.CheckNick(nick); err == nil {
		id = nickID{key: key, loose: h.cfg.Nick.Lookalike(display)}
	}
	if h.banKeys == nil {
		h.banKeys = make(map[string]nickID)
	}
	h.banKeys[mask] = id
	return id
}

// forgetBanKeys empties banKey's cache after a change to the ban list.
func (h *Hub) forgetBanKeys() { clear(h.banKeys) }
