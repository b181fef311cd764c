package hub

import (
	"errors"
	"fmt"

	"telchat/message"
	"telchat/usertext"
)

// Join moves the caller into room name, creating it if needed.
func (x *Ctx) Join(name string) (string, error) {
	c, err := x.user()
	if err != nil {
		return "", err
	}
	r, err := x.h.roomFor(name, false)
	if errors.Is(err, ErrNoSuchRoom) {
		r, err = x.h.createRoom(name, c)
	}
	if err != nil {
		return "", err
	}
	if c.room == r {
		return "", fmt.Errorf("you are already in #%s", r.name)
	}
	x.h.joinRoom(c, r)
	return r.name, nil
}

// Part moves the caller back to the lobby.
func (x *Ctx) Part() error {
	c, err := x.user()
	if err != nil {
		return err
	}
	if c.room.key == LobbyName {
		return errors.New("you are in the lobby already")
	}
	x.h.joinRoom(c, x.h.rooms[LobbyName])
	return nil
}

func (h *Hub) roomFor(name string, create bool) (*Room, error) {
	display, key, err := usertext.CheckRoom(name)
	if err != nil {
		return nil, err
	}
	if r, ok := h.rooms[key]; ok {
		return r, nil
	}
	if !create {
		return nil, fmt.Errorf("%w: #%s", ErrNoSuchRoom, display)
	}
	if len(h.rooms) >= h.cfg.MaxRooms {
		return nil, ErrTooManyRooms
	}
	r := h.newRoom(display)
	h.rooms[key] = r
	return r, nil
}

// Topic returns a room and its topic: the room named room, or the caller's
// room when room is empty.
func (x *Ctx) Topic(room string) (name, topic string, err error) {
	r, err := x.topicRoom(room)
	if err != nil {
		return "", "", err
	}
	return r.name, r.topic, nil
}

// SetTopic sets the topic of the room named room, or of the caller's room
// when room is empty, and tells its members. Only admins may name a room
// (a console has no room of its own), and it must exist.
func (x *Ctx) SetTopic(room, topic string) error {
	c := x.c
	if room != "" && !c.admin {
		return errors.New("only admins can set the topic of a room by name")
	}
	r, err := x.topicRoom(room)
	if err != nil {
		return err
	}
	if x.h.muted(c) {
		return nil
	}
	if r.key == LobbyName && !c.admin {
		return errors.New("only admins can set the lobby's topic")
	}
	r.topic = topic
	if c.admin {
		// An admin's topic keeps the room (and its topic) across restarts
		// even when empty; a user's topic goes with the room.
		r.persistent = true
	}
	x.h.notice(r, nil, &message.Message{Kind: message.Notice, From: x.Name(), Text: x.Name() + " set the topic of #" + r.name + " to: " + topic})
	x.h.relay(ClusterEvent{Kind: ClusterTopic, User: Presence{Nick: x.Name(), Room: r.name}, Topic: topic})
	if r.persistent || r.key == LobbyName {
		// Only these topics are kept: a user's topic in a room of its
		// own changes nothing on disk, and costs no snapshot. In a
		// cluster they are kept by every server.
		x.h.persist()
		x.h.shareTopic(r, x.Name())
	}
	return nil
}

// topicRoom is the existing room named room, or the caller's room when room
// is empty.
func (x *Ctx) topicRoom(room string) (*Room, error) {
	if room != "" {
		return x.h.roomFor(room, false)
	}
	c, err := x.user()
	if err != nil {
		return nil, err
	}
	return c.room, nil
}

// MOTD returns the message of the day.
func (x *Ctx) MOTD() string { return x.h.motd }

// SetMOTD replaces the message of the day (persisted; in a cluster, on
// every server).
func (x *Ctx) SetMOTD(text string) {
	x.h.setMOTD(text, x.Name(), true)
}
