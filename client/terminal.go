package client

import (
	"bytes"
	"cmp"
	"errors"
	"strconv"
	"strings"
	"time"

	"telchat/lineedit"
	"telchat/message"
	"telchat/render"
	"telchat/telnet"
)

// terminal is what a session knows about the user's terminal (its window
// size and type, the user's display settings) and, in character mode, the
// line being typed. A session has one only once it is known to be on a
// Telnet terminal (it negotiated, or the user asked for a setting), so an
// nc session pays nothing for it. Guarded by Session.mu.
type terminal struct {
	ed      *lineedit.Editor // non-nil in character mode
	width   int              // from NAWS; 0: not told
	height  int
	ttype   string // from TTYPE; "": not told
	colour  bool   // the terminal type shows colours (colourTerm)
	set     render.Profile
	setMask render.Profile // the settings the user chose with /set; the others follow the mode
	offered bool           // /mode char asked the client, which has not agreed yet
	secret  string         // a secret line (AskSecret) goes to the hub after this prefix
	redraw  []byte         // the writer's redraw bytes, reused batch after batch

	names, rooms []string  // for Tab completion, from the hub (Hub.Completions)
	namesAt      time.Time // when names were last asked for
	wantNames    bool      // the completer found names stale: the reader asks the hub
}

// defaultPrompt is the prompt of character mode once the user is named.
const defaultPrompt = "> "

// defaultWidth is the terminal width assumed in character mode when the
// client does not tell it (NAWS).
const defaultWidth = 80

// offerTimeout is how long /mode char waits for the client to agree.
const offerTimeout = time.Second

// colourTerm reports whether a terminal type (TTYPE) shows ANSI colours:
// xterm*, screen*, tmux*, vt100 and later VTs, linux, ansi, putty, rxvt
// and their kin; not dumb or an unknown name.
func colourTerm(ttype string) bool {
	t := strings.ToLower(ttype)
	for _, p := range []string{"xterm", "screen", "tmux", "linux", "ansi", "putty", "rxvt", "konsole", "gnome", "alacritty", "kitty", "st-", "cygwin", "vt"} {
		if !strings.HasPrefix(t, p) {
			continue
		}
		if p != "vt" {
			return true
		}
		n, err := strconv.Atoi(strings.TrimLeft(strings.SplitN(t[2:], "-", 2)[0], "0"))
		return err == nil && n >= 100 // vt100 and up; vt52 has no ANSI
	}
	return false
}

// termLocked returns the session's terminal record, making it on first use.
func (s *Session) termLocked() *terminal {
	if s.term == nil {
		s.term = &terminal{}
	}
	return s.term
}

// charModeLocked reports whether the session is in character mode.
func (s *Session) charModeLocked() bool { return s.term != nil && s.term.ed != nil }

// updateProfileLocked sets the rendering profile from the mode, the
// terminal's type and the user's settings: in character mode a bell on
// mentions and private messages, timestamps and, on a colour terminal,
// nickname colours, highlighted mentions and dimmed server lines; in line
// mode none. /set overrides each. In character mode lines are also
// wrapped at the terminal's width (NAWS, or defaultWidth), with indented
// continuation rows.
func (s *Session) updateProfileLocked() {
	t := s.term
	if t == nil {
		s.profile = render.Plain
		return
	}
	def := render.Plain
	if t.ed != nil {
		def = render.Bell | render.Timestamps
		if t.colour {
			def |= render.NickColours | render.Highlight | render.DimSystem
		}
	}
	s.profile = def&^t.setMask | t.set&t.setMask
	if t.ed != nil {
		s.profile = s.profile.WrapAt(cmp.Or(t.width, defaultWidth))
	}
}

// decoderLocked returns the session's Telnet decoder, taking one from the
// pool if the session has given its own back.
func (s *Session) decoderLocked() *telnet.Decoder {
	if s.dec == nil {
		if d, ok := s.srv.bufs.decoders.Get().(*telnet.Decoder); ok {
			s.dec = d
		} else {
			s.dec = telnet.NewDecoder(telnet.Config{MaxLine: s.srv.cfg.MaxLine, Echo: !s.srv.cfg.NoCharMode})
		}
	}
	return s.dec
}

// offerLocked offers character mode: IAC WILL ECHO, WILL SGA, DO NAWS, DO
// TTYPE (each only if not on or asked already).
func (s *Session) offerLocked() {
	if s.srv.cfg.NoCharMode {
		return
	}
	d := s.decoderLocked()
	var b []byte
	b = append(b, d.RequestLocal(telnet.OptEcho, true)...)
	b = append(b, d.RequestLocal(telnet.OptSGA, true)...)
	b = append(b, d.RequestRemote(telnet.OptNAWS, true)...)
	b = append(b, d.RequestRemote(telnet.OptTType, true)...)
	if len(b) > 0 {
		s.ctrlLocked(b)
	}
}

// ctrlLocked queues bytes for the terminal (negotiation, echo, redraw)
// ahead of chat, within the queue's caps (see sendControl).
func (s *Session) ctrlLocked(b []byte) {
	cfg := &s.srv.cfg
	if s.end.abrupt() || len(b) == 0 ||
		len(s.queue)+len(s.ctrl) >= cfg.MaxQueueMsgs || !s.queueRoomLocked(int64(len(b))) {
		return
	}
	if len(s.queue) == 0 && len(s.ctrl) == 0 {
		defer s.more.Signal()
	}
	s.ctrl = append(s.ctrl, b)
	s.addPendingLocked(int64(len(b)))
}

// tellLocked queues a line from the session itself (about the terminal),
// rendered for the session's profile.
func (s *Session) tellLocked(kind message.Kind, text string) {
	s.holdLocked(render.Bytes(&message.Message{Kind: kind, Text: text, Time: time.Now()}, s.profile))
	s.more.Signal()
}

// The notices of a change of mode, for Hub.Notice (hence the "*** ").
const (
	noticeCharMode = "*** Character mode: the server edits your line; /mode line to leave"
	noticeLineMode = "*** Line mode: your terminal edits the line; /mode char to go back"
)

// enterCharLocked starts character mode (the client agreed to ECHO): the
// server now echoes and edits, and partial, the line typed so far, is
// carried over. The client is asked for its window size (NAWS) and type
// (TTYPE) if it was not yet. It returns the notice for the user ("" when
// the session was in character mode already), which the caller has
// delivered: the reader through the hub (see switchMode), the hub's
// goroutine with tellLocked.
func (s *Session) enterCharLocked(partial string) (notice string) {
	t := s.termLocked()
	if t.ed != nil {
		return ""
	}
	t.offered = false
	prompt := defaultPrompt
	if s.asking != "" {
		prompt = s.asking
		s.unqueuePromptLocked()
	}
	t.ed = lineedit.New(lineedit.Config{Prompt: prompt, Width: t.width, MaxLine: s.srv.cfg.MaxLine,
		Complete: s.complete, Private: secretLine})
	t.ed.SetLine(partial)
	t.wantNames = true
	s.updateProfileLocked()
	// A client that switched by itself (inetutils' "mode character") has
	// not been asked for its window size and type yet.
	d := s.decoderLocked()
	s.ctrlLocked(append(d.RequestRemote(telnet.OptNAWS, true), d.RequestRemote(telnet.OptTType, true)...))
	s.ctrlLocked([]byte(lineedit.EnableBracketedPaste))
	return noticeCharMode
}

// leaveCharLocked ends character mode: the terminal edits the line again.
// It returns the notice for the user, as enterCharLocked does.
func (s *Session) leaveCharLocked() (notice string) {
	t := s.term
	if t == nil || t.ed == nil {
		return ""
	}
	t.ed = nil
	t.secret = ""
	s.updateProfileLocked()
	s.ctrlLocked([]byte(lineedit.EraseLine + lineedit.DisableBracketedPaste))
	return noticeLineMode
}

// secretLine reports whether a typed line holds a password, which the
// line history must not keep.
func secretLine(line string) bool {
	l := strings.ToLower(strings.TrimSpace(line))
	return strings.HasPrefix(l, "/oper ")
}

// SetMode asks for character or line mode (hub.Terminal). Character mode
// needs the client's agreement: the offer goes out now, and if the client
// has not agreed within offerTimeout the user is told why they stay in
// line mode.
func (s *Session) SetMode(char bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv.cfg.NoCharMode {
		return "! Character mode is off on this server"
	}
	if char == s.charModeLocked() {
		if char {
			return "*** You are in character mode already"
		}
		return "*** You are in line mode already"
	}
	d := s.decoderLocked()
	if !char {
		var b []byte
		b = append(b, d.RequestLocal(telnet.OptEcho, false)...)
		b = append(b, d.RequestLocal(telnet.OptSGA, false)...)
		d.SetCharMode(false)
		s.ctrlLocked(b)
		if notice := s.leaveCharLocked(); notice != "" {
			s.tellLocked(message.System, strings.TrimPrefix(notice, "*** "))
		}
		return "*** Asked your client to edit lines itself again"
	}
	s.termLocked().offered = true
	s.offerLocked()
	time.AfterFunc(offerTimeout, s.offerExpired)
	return "*** Asking your client for character mode (IAC WILL ECHO, WILL SGA)..."
}

// offerExpired tells the user when /mode char got no answer.
func (s *Session) offerExpired() {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.term
	if t == nil || !t.offered || t.ed != nil || s.end != endNone {
		return
	}
	t.offered = false
	why := "it did not answer the offer (IAC WILL ECHO) within a second"
	if d := s.dec; d != nil && !d.LocalPending(telnet.OptEcho) {
		why = "it refused the offer (IAC DONT ECHO)"
	}
	s.tellLocked(message.Error, "Your client stays in line mode: "+why+
		". A raw TCP client such as nc cannot switch; in telnet, press Ctrl-] and type: mode character")
}

// settingNames maps /set names to profile settings.
var settingNames = []struct {
	name string
	p    render.Profile
	what string
}{
	{"colours", render.NickColours, "a colour per nickname"},
	{"highlight", render.Highlight, "your nickname highlighted where a message mentions it"},
	{"bell", render.Bell, "a bell on a mention or a private message"},
	{"timestamps", render.Timestamps, "[HH:MM] before each line"},
	{"dim", render.DimSystem, "server lines dimmed"},
}

// Set changes a display setting (hub.Terminal).
func (s *Session) Set(name, value string) (string, error) {
	var on bool
	switch value {
	case "on", "yes", "true", "1":
		on = true
	case "off", "no", "false", "0":
	default:
		return "", errors.New("a setting is on or off, e.g. /set timestamps on")
	}
	if name == "colors" || name == "colour" || name == "color" {
		name = "colours"
	}
	for _, st := range settingNames {
		if st.name != name {
			continue
		}
		s.mu.Lock()
		t := s.termLocked()
		t.setMask |= st.p
		if on {
			t.set |= st.p
		} else {
			t.set &^= st.p
		}
		s.updateProfileLocked()
		s.mu.Unlock()
		return "*** " + name + " " + value + ": " + st.what, nil
	}
	names := make([]string, len(settingNames))
	for i, st := range settingNames {
		names[i] = st.name
	}
	return "", errors.New("no setting " + strconv.Quote(name) + "; the settings are " + strings.Join(names, ", "))
}

// Mode describes the mode and how to switch (hub.Terminal).
func (s *Session) Mode() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.charModeLocked():
		return []string{"*** You are in character mode: the server echoes and edits your line, which incoming chat never breaks",
			"*** /mode line switches to line mode: your terminal edits the line, and sends it when you press Enter"}
	case s.srv.cfg.NoCharMode:
		return []string{"*** You are in line mode: your terminal edits the line (character mode is off on this server)"}
	case s.term != nil && s.term.offered:
		return []string{"*** You are in line mode; your client was asked for character mode and has not answered yet"}
	}
	return []string{"*** You are in line mode: your terminal edits the line, and sends it when you press Enter",
		"*** /mode char switches to character mode: the server echoes and edits your line, which incoming chat never breaks" +
			" (a Telnet client is needed: in telnet, you can also press Ctrl-] and type: mode character)"}
}

// Settings describes the terminal and the display settings (hub.Terminal).
func (s *Session) Settings() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	mode := "line (your terminal edits the line; /mode char to switch)"
	if s.charModeLocked() {
		mode = "character (the server echoes and edits your line; /mode line to switch)"
	}
	lines := []string{"*** Mode: " + mode}
	if t := s.term; t != nil && (t.ttype != "" || t.width != 0) {
		desc := t.ttype
		if desc == "" {
			desc = "type not told"
		}
		if t.width != 0 {
			desc += ", " + strconv.Itoa(t.width) + "x" + strconv.Itoa(t.height)
		}
		if t.colour {
			desc += ", colours"
		}
		lines = append(lines, "*** Terminal: "+desc)
	}
	for _, st := range settingNames {
		v := "off"
		if s.profile&st.p != 0 {
			v = "on"
		}
		lines = append(lines, "*** "+st.name+" "+v+": "+st.what)
	}
	return append(lines, "*** Change one with /set NAME on|off")
}

// Width returns the columns lines are wrapped at (hub.Terminal): in
// character mode the window's width (NAWS, or defaultWidth) as the
// rendering profile rounds it, 0 in line mode.
func (s *Session) Width() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.profile.Width()
}

// AskSecret asks for the next line without echo (hub.Terminal).
func (s *Session) AskSecret(prompt, prefix string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.charModeLocked() {
		return false
	}
	s.term.ed.StartSecret(prompt, 0)
	s.term.secret = prefix
	s.holdLocked(nil) // a batch, so that the writer redraws the prompt
	s.more.Signal()
	return true
}

// complete is the line editor's Tab completion: commands for a first word
// starting with "/", rooms for a word starting with "#", nicknames of the
// room otherwise. It runs under Session.mu (inside the editor's Feed).
func (s *Session) complete(line string, pos int) (int, []string) {
	start := strings.LastIndexByte(line[:pos], ' ') + 1
	word := line[start:pos]
	t := s.term
	if time.Since(t.namesAt) > 2*time.Second {
		t.wantNames = true
	}
	var from []string
	prefix := ""
	switch {
	case start == 0 && strings.HasPrefix(word, "/"):
		from, prefix, word = s.srv.cfg.CommandNames, "/", word[1:]
	case strings.HasPrefix(word, "#"):
		from, prefix, word = t.rooms, "#", word[1:]
	default:
		from = t.names
	}
	var out []string
	for _, c := range from {
		if len(c) >= len(word) && strings.EqualFold(c[:len(word)], word) {
			out = append(out, prefix+c)
		}
		if len(out) == 100 {
			break
		}
	}
	return start, out
}

// refreshNames asks the hub for the names Tab completes, when the
// completer (or character mode starting) wants them. It must be called
// without Session.mu: the hub's answer takes it.
func (s *Session) refreshNames() {
	s.mu.Lock()
	t := s.term
	want := t != nil && t.wantNames
	if want {
		t.wantNames = false
		t.namesAt = time.Now()
	}
	s.mu.Unlock()
	if !want {
		return
	}
	_ = s.srv.cfg.Hub.Completions(s.hc, func(nicks, rooms []string) {
		s.mu.Lock()
		if t := s.term; t != nil {
			t.names, t.rooms = nicks, rooms
		}
		s.mu.Unlock()
	})
}

// feed decodes input with the session's Telnet decoder. When the session
// is ending the input is read and discarded.
//
//go:noinline
func (s *Session) feed(events []telnet.Event, buf []byte) []telnet.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.end != endNone {
		return events
	}
	return s.decoderLocked().Feed(events, buf)
}

// finishInput decodes the end of input (the peer half-closed).
func (s *Session) finishInput(events []telnet.Event) []telnet.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.decoderLocked().Finish(events)
}

// releaseDecoder gives the decoder back to the pool when it is at rest
// (between lines, no Telnet option on), so that an idle session holds none.
func (s *Session) releaseDecoder() {
	s.mu.Lock()
	if s.dec != nil && s.dec.Idle() {
		s.srv.bufs.decoders.Put(s.dec)
		s.dec = nil
	}
	s.mu.Unlock()
}

// offer offers character mode to a client that opened the connection
// with Telnet negotiation of its own: it has shown it is a Telnet client.
//
//go:noinline
func (s *Session) offer() {
	s.mu.Lock()
	s.offerLocked()
	s.mu.Unlock()
}

// switchMode enters or leaves character mode where the decoder did (the
// client agreed to ECHO, or turned it off). It returns the notice for the
// user and whether the names Tab completes are wanted, which the reader
// asks the hub for from readLoop: rendering the notice here, with a
// timestamp, or asking the hub from here, took the reader's stack past its
// first 2 KiB.
//
//go:noinline
func (s *Session) switchMode(char bool, partial string) (notice string, wantNames bool) {
	s.mu.Lock()
	if char {
		notice = s.enterCharLocked(partial)
	} else {
		notice = s.leaveCharLocked()
	}
	wantNames = s.term != nil && s.term.wantNames
	s.mu.Unlock()
	return notice, wantNames
}

// windowSize applies a window size report (NAWS): the line editor scrolls
// within the new width, and lines are wrapped at it, at once.
//
//go:noinline
func (s *Session) windowSize(w, h int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.termLocked()
	t.width, t.height = w, h
	s.updateProfileLocked()
	if t.ed != nil {
		t.ed.SetWidth(w)
		s.ctrlLocked(t.ed.AppendRedraw(t.ed.AppendErase(nil)))
	}
}

// terminalType applies the terminal's type (TTYPE): it decides whether
// colours are used.
//
//go:noinline
func (s *Session) terminalType(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.termLocked()
	t.ttype, t.colour = name, colourTerm(name)
	s.updateProfileLocked()
}

// answered notes that the user sent a line: a pending question (the
// nickname prompt) is answered.
func (s *Session) answered() {
	s.mu.Lock()
	s.answeredLocked()
	s.mu.Unlock()
}

func (s *Session) answeredLocked() {
	if s.asking == "" {
		return
	}
	s.asking = ""
	if s.charModeLocked() && !s.term.ed.Secret() {
		s.term.ed.SetPrompt(defaultPrompt)
	}
}

// unqueuePromptLocked takes the question of a prompt rendered in line mode
// off the end of the queue, when it is still there: the line editor shows
// it from now on. (One already written is on the row the batch's erase
// clears.)
func (s *Session) unqueuePromptLocked() {
	n := len(s.queue)
	if n == 0 || !bytes.HasSuffix(s.queue[n-1], []byte(s.asking)) {
		return
	}
	cut := len(s.asking)
	s.queue[n-1] = s.queue[n-1][:len(s.queue[n-1])-cut]
	s.addPendingLocked(-int64(cut))
}
