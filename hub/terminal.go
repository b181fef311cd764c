package hub

// Terminal is implemented by peers whose terminal a user can set up: the
// client package's sessions (not operator consoles). Everything about how
// a terminal looks and edits belongs to the peer; the hub only passes the
// user's commands on. Its methods are called on the hub goroutine and
// must not block.
type Terminal interface {
	// SetMode asks for character mode (true: the server echoes and edits
	// the line) or line mode, and returns what to tell the user now; when
	// the client must agree first, the outcome follows later.
	SetMode(char bool) string
	// Mode describes the mode the terminal is in (character or line) and
	// how to switch, a line each.
	Mode() []string
	// Set changes one display setting (name and "on" or "off") and
	// returns the answer for the user.
	Set(name, value string) (string, error)
	// Settings describes the terminal and its settings, a line each.
	Settings() []string
	// AskSecret asks for the next line without showing what is typed
	// (character mode only) and without keeping it in the line history;
	// that line then comes back as prefix followed by the line. It reports
	// false when the terminal cannot hide input (line mode).
	AskSecret(prompt, prefix string) bool
	// Width is the number of columns the terminal's lines are wrapped at
	// (character mode, where the window's width is known), 0 when they
	// are not wrapped: listings lay themselves out for it.
	Width() int
}

// Terminal returns the caller's terminal, when the caller is a chat user
// on one (see Terminal).
func (x *Ctx) Terminal() (Terminal, bool) {
	if x.c.console {
		return nil, false
	}
	t, ok := x.c.peer.(Terminal)
	return t, ok
}

// maxCompletions bounds each list Completions gives.
const maxCompletions = 500

// Completions calls fn, on the hub goroutine, with the nicknames of c's
// room and the names of the rooms (at most a few hundred of each), for a
// line editor's Tab completion. fn must not block.
func (h *Hub) Completions(c *Conn, fn func(nicks, rooms []string)) error {
	return h.Do(func() {
		var nicks, rooms []string
		if _, ok := h.conns[c]; !ok {
			return
		}
		if c.room != nil {
			for _, m := range c.room.members {
				if len(nicks) == maxCompletions {
					break
				}
				nicks = append(nicks, m.nick)
			}
		}
		for _, r := range h.rooms {
			if len(rooms) == maxCompletions {
				break
			}
			rooms = append(rooms, r.name)
		}
		fn(nicks, rooms)
	})
}
