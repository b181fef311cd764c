package lineedit

// history keeps the most recent lines, at most len(ring) of them.
type history struct {
	ring  []string
	start int // index in ring of the oldest line
	n     int // lines held
}

// newHistory returns a history of at most size lines.
func newHistory(size int) history {
	return history{ring: make([]string, size)}
}

// add records s as the most recent line, dropping the oldest when full. A
// line equal to the most recent one is not added again.
func (h *history) add(s string) {
	if len(h.ring) == 0 || h.n > 0 && h.at(0) == s {
		return
	}
	if h.n < len(h.ring) {
		h.ring[(h.start+h.n)%len(h.ring)] = s
		h.n++
		return
	}
	h.ring[h.start] = s
	h.start = (h.start + 1) % len(h.ring)
}

// len returns the number of lines held.
func (h *history) len() int { return h.n }

// at returns a line: 0 is the most recent, len()-1 the oldest.
func (h *history) at(i int) string {
	return h.ring[(h.start+h.n-1-i)%len(h.ring)]
}
