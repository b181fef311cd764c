package lineedit

// history keeps the most recent lines: at most len(ring) of them and, past
// the newest line, at most maxBytes bytes of text in all.
type history struct {
	ring     []string
	start    int // index in ring of the oldest line
	n        int // lines held
	bytes    int // bytes held
	maxBytes int
}

// newHistory returns a history of at most size lines and maxBytes bytes.
func newHistory(size, maxBytes int) history {
	return history{ring: make([]string, size), maxBytes: maxBytes}
}

// add records s as the most recent line, dropping the oldest lines to stay
// within the bounds. A line equal to the most recent one is not added again.
func (h *history) add(s string) {
	if len(h.ring) == 0 || h.n > 0 && h.at(0) == s {
		return
	}
	if h.n == len(h.ring) {
		h.dropOldest()
	}
	h.ring[(h.start+h.n)%len(h.ring)] = s
	h.n++
	h.bytes += len(s)
	for h.n > 1 && h.bytes > h.maxBytes {
		h.dropOldest()
	}
}

// dropOldest forgets the oldest line.
func (h *history) dropOldest() {
	h.bytes -= len(h.ring[h.start])
	h.ring[h.start] = ""
	h.start = (h.start + 1) % len(h.ring)
	h.n--
}

// len returns the number of lines held.
func (h *history) len() int { return h.n }

// at returns a line: 0 is the most recent, len()-1 the oldest.
func (h *history) at(i int) string {
	return h.ring[(h.start+h.n-1-i)%len(h.ring)]
}
