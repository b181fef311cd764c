package main

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"telchat/systemd"
)

// listenerSet is where the server accepts chat connections: the sockets
// systemd passed (socket activation), or those it opened itself on -addr
// and -tls-addr.
type listenerSet struct {
	chat, tls []net.Listener
	// activated reports that the sockets came from systemd.
	activated bool
}

// openListeners takes the sockets systemd passed, if any, else listens on
// addr (plain) and tlsAddr (TLS); an empty address opens nothing. A passed
// socket's FileDescriptorName= says what it serves: "tls" is a TLS port,
// "chat" (or no name: "unknown", or the socket unit's default name ending
// in ".socket") a plain one.
func openListeners(addr, tlsAddr string) (*listenerSet, error) {
	passed, err := systemd.Listeners(true)
	if err != nil {
		return nil, err
	}
	if len(passed) > 0 {
		set := &listenerSet{activated: true}
		for _, p := range passed {
			switch {
			case p.Name == "tls":
				set.tls = append(set.tls, p.Listener)
			case p.Name == "chat" || p.Name == "unknown" || strings.HasSuffix(p.Name, ".socket"):
				set.chat = append(set.chat, p.Listener)
			default:
				for _, q := range passed {
					_ = q.Close()
				}
				return nil, fmt.Errorf("socket activation: a socket is named %q (FileDescriptorName=); telchat serves %q and %q", p.Name, "chat", "tls")
			}
		}
		return set, nil
	}
	if addr == "" && tlsAddr == "" {
		return nil, errors.New("-addr and -tls-addr are both empty and no socket was passed by systemd: nothing to listen on")
	}
	set := &listenerSet{}
	for _, l := range []struct {
		addr, flag string
		into       *[]net.Listener
	}{{addr, "-addr", &set.chat}, {tlsAddr, "-tls-addr", &set.tls}} {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			set.close()
			return nil, fmt.Errorf("%s: listen: %w", l.flag, err)
		}
		*l.into = append(*l.into, ln)
	}
	return set, nil
}

// close closes every listener (before they are served).
func (s *listenerSet) close() {
	for _, ln := range append(s.chat, s.tls...) {
		_ = ln.Close()
	}
}

// checkTLSListeners refuses a TLS listener without a certificate, and a
// certificate without a TLS listener (a -tls-cert that would do nothing).
func checkTLSListeners(set *listenerSet, o *options) error {
	switch {
	case len(set.tls) > 0 && o.tlsCert == "":
		set.close()
		return errors.New("systemd passed a socket named tls, but there is no -tls-cert and -tls-key")
	case len(set.tls) == 0 && o.tlsCert != "":
		set.close()
		if set.activated {
			return errors.New("-tls-cert is set but systemd passed no socket named tls (FileDescriptorName=tls)")
		}
		return errors.New("-tls-cert is set but -tls-addr is empty: nothing would use the certificate")
	}
	return nil
}
