package main

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"telchat/systemd"
)

// listenerSet is where the server accepts chat connections: the sockets
// systemd passed (socket activation), or one it opened itself on -addr.
type listenerSet struct {
	chat []net.Listener
	// activated reports that the sockets came from systemd.
	activated bool
}

// openListeners takes the sockets systemd passed, if any, else listens on
// addr. A passed socket's FileDescriptorName= says what it serves: "chat"
// (or no name: "unknown", or the socket unit's default name ending in
// ".socket") is the plain chat port.
func openListeners(addr string) (*listenerSet, error) {
	passed, err := systemd.Listeners(true)
	if err != nil {
		return nil, err
	}
	if len(passed) > 0 {
		set := &listenerSet{activated: true}
		for _, p := range passed {
			switch {
			case p.Name == "chat" || p.Name == "unknown" || strings.HasSuffix(p.Name, ".socket"):
				set.chat = append(set.chat, p.Listener)
			default:
				for _, q := range passed {
					_ = q.Close()
				}
				return nil, fmt.Errorf("socket activation: a socket is named %q (FileDescriptorName=); telchat serves %q", p.Name, "chat")
			}
		}
		return set, nil
	}
	if addr == "" {
		return nil, errors.New("-addr is empty and no socket was passed by systemd: nothing to listen on")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return &listenerSet{chat: []net.Listener{ln}}, nil
}

// close closes every listener (before they are served).
func (s *listenerSet) close() {
	for _, ln := range s.chat {
		_ = ln.Close()
	}
}
