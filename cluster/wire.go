package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"telchat/hub"
	"telchat/message"
)

// What crosses between servers is JSON: one object per event, with short
// field names. JSON because an operator can read it with any NATS client
// (nats sub 'telchat.>'), because a field added later is ignored by older
// servers, and because its cost (a few microseconds per line, on the
// relay's goroutine) is small beside the network hop it rides on. It is a
// message value (kind, room, sender, text, time, origin), never the bytes
// a terminal is sent: every server renders for its own users.

// The event names on the wire.
var kindNames = map[hub.ClusterKind]string{
	hub.ClusterLine:      "line",
	hub.ClusterUser:      "user",
	hub.ClusterGone:      "gone",
	hub.ClusterHeartbeat: "hb",
	hub.ClusterTopic:     "topic",
	hub.ClusterSync:      "sync",
	hub.ClusterKick:      "kick",
	hub.ClusterMove:      "move",
	hub.ClusterRefused:   "refused",
}

// envelope is one event on the wire.
type envelope struct {
	K  string     `json:"k"`
	O  string     `json:"o"`
	M  *wireMsg   `json:"m,omitempty"`
	U  *wireUser  `json:"u,omitempty"`
	Us []wireUser `json:"us,omitempty"`
	R  string     `json:"r,omitempty"`    // ClusterGone, ClusterRefused: the reason
	T  string     `json:"t,omitempty"`    // ClusterTopic: the topic
	B  string     `json:"by,omitempty"`   // ClusterKick, ClusterMove: the admin
	Rt float64    `json:"rate,omitempty"` // ClusterHeartbeat: messages per second
	// A heartbeat is sent in parts of at most heartbeatPart users (NATS
	// refuses messages over its max_payload, 1 MB by default): part P of
	// N, P from 0.
	P int `json:"p,omitempty"`
	N int `json:"np,omitempty"`
	// I and Q order an origin's events: I is the origin link's run (when
	// it was dialed, Unix nanoseconds), Q the event's number in that run,
	// from 1 (see sequencer). Sh: the origin showed this line to its own
	// users already (its link was down), so it must not show it again.
	I  int64  `json:"i,omitempty"`
	Q  uint64 `json:"q,omitempty"`
	Sh bool   `json:"sh,omitempty"`
}

// stamp is what orders an event of this server: its run and number.
type stamp struct {
	run int64
	seq uint64
}

// item is an event read from the feed, with its part number and stamp.
type item struct {
	e     hub.ClusterEvent
	p, n  int
	st    stamp
	shown bool
}

// heartbeatPart is the most users one heartbeat message lists: about
// 100 KB with long away messages.
const heartbeatPart = 500

// wireMsg is a message value.
type wireMsg struct {
	Kind string `json:"kind"`
	Room string `json:"room,omitempty"`
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	Text string `json:"text"`
	Time int64  `json:"time"` // Unix milliseconds
}

// wireUser is a user's presence.
type wireUser struct {
	Nick  string `json:"n"`
	Old   string `json:"old,omitempty"`
	Room  string `json:"room,omitempty"`
	Away  string `json:"away,omitempty"`
	Admin bool   `json:"admin,omitempty"`
	Since int64  `json:"since,omitempty"` // Unix milliseconds
	Named int64  `json:"named,omitempty"` // Unix milliseconds
}

func toWireUser(p hub.Presence) wireUser {
	w := wireUser{Nick: p.Nick, Old: p.OldNick, Room: p.Room, Away: p.Away, Admin: p.Admin}
	if !p.Since.IsZero() {
		w.Since = p.Since.UnixMilli()
	}
	if !p.Named.IsZero() {
		w.Named = p.Named.UnixMilli()
	}
	return w
}

func (w wireUser) presence() hub.Presence {
	p := hub.Presence{Nick: w.Nick, OldNick: w.Old, Room: w.Room, Away: w.Away, Admin: w.Admin}
	if w.Since != 0 {
		p.Since = time.UnixMilli(w.Since)
	}
	if w.Named != 0 {
		p.Named = time.UnixMilli(w.Named)
	}
	return p
}

// encodeAll turns e into its wire form: one message, or several parts for
// a big heartbeat.
func encodeAll(e hub.ClusterEvent) ([][]byte, error) { return encodeStamped(e, stamp{}) }

// encodeStamped is encodeAll with the parts numbered from st.seq.
func encodeStamped(e hub.ClusterEvent, st stamp) ([][]byte, error) {
	if e.Kind != hub.ClusterHeartbeat || len(e.Users) <= heartbeatPart {
		b, err := encodeWith(e, 0, 1, st)
		return [][]byte{b}, err
	}
	users := e.Users
	n := (len(users) + heartbeatPart - 1) / heartbeatPart
	out := make([][]byte, 0, n)
	for p := range n {
		e.Users = users[p*heartbeatPart : min((p+1)*heartbeatPart, len(users))]
		b, err := encodeWith(e, p, n, stamp{st.run, st.seq + uint64(p)})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// encode turns e into its wire form, as part p of n.
func encode(e hub.ClusterEvent, p, n int) ([]byte, error) { return encodeWith(e, p, n, stamp{}) }

// encodeWith is encode with a stamp (zero: none).
func encodeWith(e hub.ClusterEvent, p, n int, st stamp) ([]byte, error) {
	name, ok := kindNames[e.Kind]
	if !ok {
		return nil, fmt.Errorf("cluster: event kind %d does not cross", e.Kind)
	}
	env := envelope{K: name, O: e.Origin, R: e.Reason, T: e.Topic, B: e.By, Rt: e.Rate,
		I: st.run, Q: st.seq, Sh: e.Shown}
	if n > 1 {
		env.P, env.N = p, n
	}
	switch e.Kind {
	case hub.ClusterLine:
		m := e.Msg
		env.M = &wireMsg{Kind: m.Kind.String(), Room: m.Room, From: m.From, To: m.To, Text: m.Text, Time: m.Time.UnixMilli()}
	case hub.ClusterUser, hub.ClusterGone, hub.ClusterTopic, hub.ClusterKick, hub.ClusterMove, hub.ClusterRefused:
		u := toWireUser(e.User)
		env.U = &u
	case hub.ClusterHeartbeat:
		env.Us = make([]wireUser, len(e.Users))
		for i, p := range e.Users {
			env.Us[i] = toWireUser(p)
		}
	}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("cluster: encoding %s: %w", name, err)
	}
	return b, nil
}

// errBadEvent is wrapped by decode's errors.
var errBadEvent = errors.New("cluster: bad event")

// decode reads an event; the kinds and fields a line needs are checked.
func decode(b []byte) (hub.ClusterEvent, error) {
	e, _, _, err := decodePart(b)
	return e, err
}

// decodePart reads an event that may be part p of n (a heartbeat).
func decodePart(b []byte) (e hub.ClusterEvent, p, n int, err error) {
	it, err := decodeItem(b)
	return it.e, it.p, it.n, err
}

// decodeItem reads an event from the feed, with its part and stamp.
func decodeItem(b []byte) (item, error) {
	var env envelope
	e, err := decodeInto(b, &env)
	if err != nil {
		return item{}, err
	}
	it := item{e: e, p: 0, n: 1, st: stamp{env.I, env.Q}, shown: env.Sh}
	if env.N > 1 && env.P >= 0 && env.P < env.N {
		it.p, it.n = env.P, env.N
	}
	return it, nil
}

// decodeInto reads an event into env and checks it.
func decodeInto(b []byte, envp *envelope) (hub.ClusterEvent, error) {
	if err := json.Unmarshal(b, envp); err != nil {
		return hub.ClusterEvent{}, fmt.Errorf("%w: %w", errBadEvent, err)
	}
	env := *envp
	e := hub.ClusterEvent{Origin: env.O, Reason: env.R, Topic: env.T, By: env.B, Rate: env.Rt}
	for k, name := range kindNames {
		if name == env.K {
			e.Kind = k
		}
	}
	if e.Kind == 0 || env.O == "" {
		return hub.ClusterEvent{}, fmt.Errorf("%w: kind %q from %q", errBadEvent, env.K, env.O)
	}
	switch e.Kind {
	case hub.ClusterLine:
		if env.M == nil {
			return hub.ClusterEvent{}, fmt.Errorf("%w: line without a message", errBadEvent)
		}
		kind := messageKind(env.M.Kind)
		if kind == 0 {
			return hub.ClusterEvent{}, fmt.Errorf("%w: message kind %q", errBadEvent, env.M.Kind)
		}
		e.Msg = message.Message{Kind: kind, Room: env.M.Room, From: env.M.From, To: env.M.To,
			Text: env.M.Text, Time: time.UnixMilli(env.M.Time), Origin: env.O}
	case hub.ClusterUser, hub.ClusterGone, hub.ClusterTopic, hub.ClusterKick, hub.ClusterMove, hub.ClusterRefused:
		if env.U == nil || env.U.Nick == "" {
			return hub.ClusterEvent{}, fmt.Errorf("%w: %s without a user", errBadEvent, env.K)
		}
		e.User = env.U.presence()
	case hub.ClusterHeartbeat:
		e.Users = make([]hub.Presence, 0, len(env.Us))
		for _, u := range env.Us {
			if u.Nick != "" {
				e.Users = append(e.Users, u.presence())
			}
		}
	}
	return e, nil
}

// messageKind is the kind named name, or 0. Only the kinds a line can be
// cross.
func messageKind(name string) message.Kind {
	for _, k := range []message.Kind{message.Chat, message.Action, message.Private, message.Notice} {
		if k.String() == name {
			return k
		}
	}
	return 0
}
