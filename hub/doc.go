// Package hub owns all chat state of a telchat server: who is connected,
// nicknames, rooms, topics, history, bans and mutes.
//
// One goroutine (Hub.Run) owns that state. Everything reaches it as events on
// a channel; nothing else reads or writes it and it takes no mutex for it. The
// hub never does network or disk I/O and never waits on a client: it hands
// the same message value (package message) to every recipient through
// Peer.Deliver, which must not block; the recipient renders it for its
// terminal (package render, which the hub does not import: no Telnet, no
// escape codes here). A recipient that cannot keep up is dropped (reason
// "slow"), never the hub.
//
// Commands are parsed and dispatched by a Runner (package commands) that the
// hub calls from its goroutine with a *Ctx, the only handle through which
// command code may look at or change chat state.
//
// Rooms are the unit of fan-out; Hub.Publish lets a room's messages come from
// outside this process (a future cluster link) without touching any other
// state.
package hub
