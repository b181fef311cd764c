package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Protocols that loadgen speaks (-proto).
const (
	protoTelchat = "telchat" // telchat's own line protocol
	protoIRC     = "irc"     // IRC (RFC 2812): one channel, PRIVMSG
	protoNATS    = "nats"    // NATS core: one subject tree, PUB/MSG
)

// natsSubject is the subject prefix of the NATS protocol: a client publishes
// on natsSubject.NICK and subscribes to natsSubject.>.
const natsSubject = "bench"

// ircMaxRegisterBytes bounds what an IRC client reads while it registers and
// joins: the NAMES reply of a channel with 10,000 members is about 150 KB,
// and the JOINs of the clients that join at the same time come on top.
const ircMaxRegisterBytes = 8 << 20

// ircMaxPayload bounds -size with -proto irc: an IRC line is at most 512
// bytes, and the relayed form adds a ":nick!user@host PRIVMSG #chan :" prefix.
const ircMaxPayload = 400

// errRegisterRefused is returned when a server refuses a client for a reason
// other than its nickname (a JOIN refused, a NATS -ERR, an IRC ERROR).
var errRegisterRefused = errors.New("registration refused")

// parseState is what a receiver carries from one received line to the next.
// Only NATS needs it: a MSG line announces the payload on the next line.
type parseState struct {
	natsPending bool   // the next line is the payload of a MSG
	natsOurs    bool   // that MSG was on a subject of the load (natsNick valid)
	natsNick    []byte // the sender nickname taken from the MSG subject
	natsLen     int    // payload length announced by the MSG line
}

// protocol is how a client of one kind of server registers, frames the lines
// it sends, and reads the lines it receives. Implementations must be safe
// for concurrent use; per-receiver state lives in a parseState.
type protocol interface {
	// name is the -proto value.
	name() string
	// register performs the handshake after connecting. When it returns
	// nil, the client is a member of the load's room and gets every chat
	// line sent from then on, except its own.
	register(lc *lineConn, nick string) error
	// appendChat appends the wire form of one chat line with text, sent by
	// nick, including its line end.
	appendChat(dst []byte, nick string, text []byte) []byte
	// parse reports whether line (without line end) completes a chat line
	// and returns its sender's nickname and text, valid until the next call.
	parse(st *parseState, line []byte) (nick, text []byte, ok bool)
	// appendPong appends the reply to line and returns true when line is a
	// keep-alive request of the server (a PING).
	appendPong(dst, line []byte) ([]byte, bool)
	// quitLine is written on every connection at the end of a run; empty
	// means the connection is just closed.
	quitLine() []byte
}

// newProtocol returns the protocol that cfg selects.
func newProtocol(cfg config) (protocol, error) {
	switch cfg.proto {
	case protoTelchat:
		return telchatProto{}, nil
	case protoIRC:
		return &ircProto{channel: cfg.ircChannel, channelBytes: []byte(cfg.ircChannel)}, nil
	case protoNATS:
		return natsProto{}, nil
	}
	return nil, fmt.Errorf("-proto %q: %w", cfg.proto, errBadConfig)
}

// telchatProto is telchat's protocol: a nickname prompt, "<nick> text" lines.
type telchatProto struct{}

// name implements protocol.
func (telchatProto) name() string { return protoTelchat }

// register answers the nickname prompt and waits for the welcome line.
func (telchatProto) register(lc *lineConn, nick string) error { return lc.register(nick) }

// appendChat appends text and LF: telchat puts the sender's nickname itself.
func (telchatProto) appendChat(dst []byte, _ string, text []byte) []byte {
	return append(append(dst, text...), '\n')
}

// parse splits "<nick> text".
func (telchatProto) parse(_ *parseState, line []byte) (nick, text []byte, ok bool) {
	return parseChatLine(line)
}

// appendPong reports that telchat sends no keep-alive requests.
func (telchatProto) appendPong(dst, _ []byte) ([]byte, bool) { return dst, false }

// quitLine is telchat's /quit command.
func (telchatProto) quitLine() []byte { return []byte("/quit loadgen done\n") }

// ircProto is IRC with every client in one channel.
type ircProto struct {
	channel      string
	channelBytes []byte // channel, for comparisons without conversions
}

// name implements protocol.
func (*ircProto) name() string { return protoIRC }

// register sends NICK and USER, waits for 001 (answering PINGs), then joins
// the channel and waits for the end of its NAMES list (366).
func (p *ircProto) register(lc *lineConn, nick string) error {
	if err := lc.write([]byte("NICK " + nick + "\r\nUSER " + nick + " 0 * :" + nick + "\r\n")); err != nil {
		return fmt.Errorf("send NICK/USER: %w", err)
	}
	read := 0
	if err := p.await(lc, nick, "001", &read); err != nil {
		return fmt.Errorf("waiting for 001: %w", err)
	}
	if err := lc.write([]byte("JOIN " + p.channel + "\r\n")); err != nil {
		return fmt.Errorf("send JOIN: %w", err)
	}
	if err := p.await(lc, nick, "366", &read); err != nil {
		return fmt.Errorf("waiting for 366 of %s: %w", p.channel, err)
	}
	return nil
}

// await reads lines until the numeric want arrives, answering PINGs. An
// error numeric (4xx, 5xx) or ERROR fails; read counts the bytes read.
func (p *ircProto) await(lc *lineConn, nick, want string, read *int) error {
	for *read < ircMaxRegisterBytes {
		line, err := lc.readLine()
		if err != nil {
			return err
		}
		*read += len(line) + 2
		_, cmd, params := ircSplit(line)
		switch {
		case cmd == want && (want != "366" || len(params) > 1 && strings.EqualFold(params[1], p.channel)):
			return nil
		case cmd == "PING":
			pong, _ := p.appendPong(nil, line)
			if err := lc.write(pong); err != nil {
				return fmt.Errorf("answer PING: %w", err)
			}
		case cmd == "ERROR":
			return fmt.Errorf("%s: %q: %w", nick, line, errRegisterRefused)
		case ircNickError(cmd):
			return fmt.Errorf("%s: %q: %w", nick, line, errNickRejected)
		case len(cmd) == 3 && (cmd[0] == '4' || cmd[0] == '5'):
			return fmt.Errorf("%s: %q: %w", nick, line, errRegisterRefused)
		}
	}
	return fmt.Errorf("more than %d bytes: %w", ircMaxRegisterBytes, errNoPrompt)
}

// ircNickError reports whether numeric cmd refuses a nickname.
func ircNickError(cmd string) bool {
	switch cmd {
	case "431", "432", "433", "436", "437":
		return true
	}
	return false
}

// ircSplit splits an IRC line into prefix (without ':'), command and
// parameters (the trailing one without ':'). Message tags are skipped.
// It allocates; the receive path uses parseIRCPrivmsg instead.
func ircSplit(line []byte) (prefix, cmd string, params []string) {
	s := string(line)
	if strings.HasPrefix(s, "@") {
		_, s, _ = strings.Cut(s, " ")
	}
	if strings.HasPrefix(s, ":") {
		prefix, s, _ = strings.Cut(s[1:], " ")
	}
	s = strings.TrimLeft(s, " ")
	cmd, s, _ = strings.Cut(s, " ")
	for s != "" {
		if strings.HasPrefix(s, ":") {
			params = append(params, s[1:])
			break
		}
		var p string
		p, s, _ = strings.Cut(s, " ")
		if p != "" {
			params = append(params, p)
		}
	}
	return prefix, strings.ToUpper(cmd), params
}

// appendChat appends "PRIVMSG #channel :text" CR LF.
func (p *ircProto) appendChat(dst []byte, _ string, text []byte) []byte {
	dst = append(dst, "PRIVMSG "...)
	dst = append(dst, p.channel...)
	dst = append(dst, " :"...)
	dst = append(dst, text...)
	return append(dst, '\r', '\n')
}

// parse takes ":nick!user@host PRIVMSG #channel :text" apart.
func (p *ircProto) parse(_ *parseState, line []byte) (nick, text []byte, ok bool) {
	return parseIRCPrivmsg(line, p.channelBytes)
}

// parseIRCPrivmsg returns the sender's nickname and the text of a PRIVMSG to
// channel (compared without regard to case). ok is false for any other line.
func parseIRCPrivmsg(line, channel []byte) (nick, text []byte, ok bool) {
	if len(line) > 0 && line[0] == '@' { // IRCv3 message tags
		i := bytes.IndexByte(line, ' ')
		if i < 0 {
			return nil, nil, false
		}
		line = line[i+1:]
	}
	if len(line) < 2 || line[0] != ':' {
		return nil, nil, false
	}
	prefix, rest, found := bytes.Cut(line[1:], []byte{' '})
	if !found {
		return nil, nil, false
	}
	if i := bytes.IndexAny(prefix, "!@"); i >= 0 {
		prefix = prefix[:i]
	}
	if len(prefix) == 0 {
		return nil, nil, false
	}
	cmd, rest, found := bytes.Cut(rest, []byte{' '})
	if !found || string(cmd) != "PRIVMSG" {
		return nil, nil, false
	}
	target, rest, found := bytes.Cut(rest, []byte{' '})
	if !found || !bytes.EqualFold(target, channel) {
		return nil, nil, false
	}
	if len(rest) > 0 && rest[0] == ':' {
		return prefix, rest[1:], true
	}
	if i := bytes.IndexByte(rest, ' '); i >= 0 {
		rest = rest[:i]
	}
	return prefix, rest, len(rest) > 0
}

// appendPong answers "[:prefix] PING [:]token" with "PONG :token".
func (*ircProto) appendPong(dst, line []byte) ([]byte, bool) {
	if len(line) > 0 && line[0] == ':' {
		i := bytes.IndexByte(line, ' ')
		if i < 0 {
			return dst, false
		}
		line = line[i+1:]
	}
	if len(line) < 4 || string(line[:4]) != "PING" || len(line) > 4 && line[4] != ' ' {
		return dst, false
	}
	token := bytes.TrimPrefix(bytes.TrimLeft(line[4:], " "), []byte{':'})
	dst = append(dst, "PONG :"...)
	dst = append(dst, token...)
	return append(dst, '\r', '\n'), true
}

// quitLine is the IRC QUIT command.
func (*ircProto) quitLine() []byte { return []byte("QUIT :loadgen done\r\n") }

// natsProto is NATS core: every client subscribes to bench.> and publishes
// on bench.NICK, so the receiver learns the sender from the subject.
type natsProto struct{}

// name implements protocol.
func (natsProto) name() string { return protoNATS }

// natsConnect is the CONNECT options loadgen sends. Echo is off so that,
// as in telchat, no client gets its own lines.
type natsConnect struct {
	Verbose  bool   `json:"verbose"`
	Pedantic bool   `json:"pedantic"`
	Echo     bool   `json:"echo"`
	Name     string `json:"name"`
	Lang     string `json:"lang"`
	Version  string `json:"version"`
	Protocol int    `json:"protocol"`
}

// register sends CONNECT, SUB and PING and waits for the PONG, which the
// server sends after it has processed the SUB.
func (natsProto) register(lc *lineConn, nick string) error {
	opts, err := json.Marshal(natsConnect{Name: nick, Lang: "go", Version: "loadgen", Protocol: 1})
	if err != nil {
		return fmt.Errorf("CONNECT options: %w", err)
	}
	msg := "CONNECT " + string(opts) + "\r\nSUB " + natsSubject + ".> 1\r\nPING\r\n"
	if err := lc.write([]byte(msg)); err != nil {
		return fmt.Errorf("send CONNECT/SUB/PING: %w", err)
	}
	for read := 0; read < maxPreambleBytes; {
		line, err := lc.readLine()
		if err != nil {
			return fmt.Errorf("waiting for PONG: %w", err)
		}
		read += len(line) + 2
		switch {
		case string(line) == "PONG":
			return nil
		case string(line) == "PING":
			if err := lc.write([]byte("PONG\r\n")); err != nil {
				return fmt.Errorf("answer PING: %w", err)
			}
		case bytes.HasPrefix(line, []byte("-ERR")):
			return fmt.Errorf("%s: %q: %w", nick, line, errRegisterRefused)
		}
	}
	return fmt.Errorf("waiting for PONG: %w", errNoPrompt)
}

// appendChat appends "PUB bench.NICK LEN" CR LF text CR LF.
func (natsProto) appendChat(dst []byte, nick string, text []byte) []byte {
	dst = append(dst, "PUB "+natsSubject+"."...)
	dst = append(dst, nick...)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(len(text)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, text...)
	return append(dst, '\r', '\n')
}

// parse reads "MSG bench.NICK SID [REPLY] LEN" and returns the payload line
// that follows it with NICK. A payload whose length differs from LEN is not
// a chat line (it then counts as lost).
func (natsProto) parse(st *parseState, line []byte) (nick, text []byte, ok bool) {
	if st.natsPending {
		st.natsPending = false
		if !st.natsOurs || len(line) != st.natsLen {
			return nil, nil, false
		}
		return st.natsNick, line, true
	}
	subject, size, isMsg := parseNATSMsg(line)
	if !isMsg {
		return nil, nil, false
	}
	st.natsPending = true
	st.natsLen = size
	sender, ours := bytes.CutPrefix(subject, []byte(natsSubject+"."))
	st.natsOurs = ours && len(sender) > 0
	st.natsNick = append(st.natsNick[:0], sender...)
	return nil, nil, false
}

// parseNATSMsg parses a "MSG SUBJECT SID [REPLY-TO] LEN" line.
func parseNATSMsg(line []byte) (subject []byte, size int, ok bool) {
	rest, found := bytes.CutPrefix(line, []byte("MSG "))
	if !found {
		return nil, 0, false
	}
	var f [4][]byte
	n := 0
	for len(rest) > 0 {
		var field []byte
		field, rest, _ = bytes.Cut(rest, []byte{' '})
		if len(field) == 0 {
			continue
		}
		if n == len(f) {
			return nil, 0, false
		}
		f[n] = field
		n++
	}
	if n < 3 {
		return nil, 0, false
	}
	size, err := strconv.Atoi(string(f[n-1]))
	if err != nil || size < 0 {
		return nil, 0, false
	}
	return f[0], size, true
}

// appendPong answers PING with PONG.
func (natsProto) appendPong(dst, line []byte) ([]byte, bool) {
	if string(line) != "PING" {
		return dst, false
	}
	return append(dst, "PONG\r\n"...), true
}

// quitLine is empty: NATS has no quit command; the connection is closed.
func (natsProto) quitLine() []byte { return nil }
