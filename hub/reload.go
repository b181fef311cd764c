package hub

import (
	"context"
	"fmt"
	"strings"
	"time"

	"telchat/message"
)

// Live is what a reload can change in a running hub.
type Live struct {
	// IdleTimeout replaces Config.IdleTimeout.
	IdleTimeout time.Duration
	// PasswordCheck replaces Config.PasswordCheck (nil disables /oper).
	PasswordCheck func(password string) bool
	// MOTD, when not nil, replaces the message of the day (persisted, as
	// /motd set; in a cluster, on every server).
	MOTD *string
}

// Reconfigure applies l on the hub goroutine and returns once it has, or
// when ctx ends or the hub has stopped. Nobody is dropped: a shorter idle
// timeout warns idle users at the next tick as usual.
func (h *Hub) Reconfigure(ctx context.Context, l Live) error {
	done := make(chan struct{})
	err := h.Do(func() {
		h.cfg.IdleTimeout = l.IdleTimeout
		h.cfg.PasswordCheck = l.PasswordCheck
		if l.MOTD != nil {
			// In a cluster the file's MOTD is put even when unchanged
			// here: it replaces an admin's /motd set anywhere.
			h.setMOTD(*l.MOTD, "the MOTD file", true)
		}
		close(done)
	})
	if err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-h.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TellConsoles sends lines to every operator console (stdin and admin
// socket), as one message: the result of a reload started by a signal.
func (h *Hub) TellConsoles(lines ...string) error {
	if len(lines) == 0 {
		return nil
	}
	return h.Do(func() {
		msg := &message.Message{Kind: message.Reply, Text: strings.Join(lines, "\n"), Time: time.Now()}
		for c := range h.consoles {
			h.deliver(c, msg)
		}
	})
}

// Rehash runs Config.Rehash (the same reload as SIGHUP) on its own
// goroutine and answers the caller with its report when it is done.
func (x *Ctx) Rehash() error {
	h, c := x.h, x.c
	if h.cfg.Rehash == nil {
		return fmt.Errorf("rehash is %w", ErrDisabled)
	}
	rehash := h.cfg.Rehash
	by := x.Name()
	go func() {
		lines, err := rehash(by)
		_ = h.Do(func() {
			if _, ok := h.conns[c]; !ok {
				return
			}
			if err != nil {
				lines = append(lines, "! Reload failed, nothing was changed: "+err.Error())
			}
			if len(lines) == 0 {
				lines = []string{"*** Reloaded: nothing changed"}
			}
			h.deliver(c, &message.Message{Kind: message.Reply, Text: strings.Join(lines, "\n"), Time: time.Now()})
		})
	}()
	return nil
}

// motdMessage is the message of the day as users get it: one "*** " line
// per line of it.
func (h *Hub) motdMessage() *message.Message {
	if !strings.Contains(h.motd, "\n") {
		return h.textLine("*** " + h.motd)
	}
	lines := strings.Split(h.motd, "\n")
	for i, l := range lines {
		lines[i] = "*** " + l
	}
	return &message.Message{Kind: message.Reply, Text: strings.Join(lines, "\n"), Time: time.Now()}
}
