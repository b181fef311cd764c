package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"telchat/client"
	"telchat/hub"
	"telchat/systemd"
	"telchat/usertext"
)

// liveFlags are the settings a reload (SIGHUP, rehash) applies to the
// running server; every other flag takes effect at the next start.
func liveFlags() []string {
	return []string{
		"max-clients", "max-per-ip", "connect-rate", "connect-burst", "msg-rate", "msg-burst",
		"idle-timeout", "admin-password-file", "motd-file", "tls-cert", "tls-key",
	}
}

// reloader re-reads the files and settings a reload covers and applies
// them all, or none when any of them fails.
type reloader struct {
	args   []string // the command line (the -config file is read again)
	log    zerolog.Logger
	notify *systemd.Notifier
	certs  *certStore

	mu      sync.Mutex // one reload at a time
	hub     *hub.Hub   // guarded by mu, like the rest below
	clients *client.Server
	cur     *options // the settings in force
}

// attach gives the reloader the servers it reconfigures.
func (r *reloader) attach(h *hub.Hub, clients *client.Server) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hub, r.clients = h, clients
}

// reload reloads, logs the outcome and returns the lines for whoever asked
// (by: "SIGHUP" or an admin's name).
func (r *reloader) reload(by string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hub == nil {
		return nil, errors.New("the server is still starting")
	}
	if err := r.notify.Reloading("reloading"); err != nil {
		r.log.Warn().Err(err).Msg("telling systemd we reload")
	}
	lines, err := r.reloadLocked()
	if err != nil {
		r.log.Error().Err(err).Str("by", by).Msg("reload failed; the old settings stay")
	} else {
		r.log.Info().Str("by", by).Strs("changes", lines).Msg("reloaded")
	}
	if err := r.notify.Ready("accepting connections"); err != nil {
		r.log.Warn().Err(err).Msg("telling systemd we are ready")
	}
	return lines, err
}

func (r *reloader) reloadLocked() ([]string, error) {
	args, err := expandConfig(r.args)
	if err != nil {
		return nil, err
	}
	o, err := parseFlags(args, io.Discard)
	if err != nil {
		return nil, err
	}
	check, err := loadPassword(o.passwordFile)
	if err != nil {
		return nil, err
	}
	motd, err := loadMOTD(o.motdFile)
	if err != nil {
		return nil, err
	}
	var cert *tls.Certificate
	tlsOn := r.certs.cert.Load() != nil // TLS cannot be turned on or off by a reload
	if o.tlsCert != "" && tlsOn {
		if cert, err = loadCert(o.tlsCert, o.tlsKey); err != nil {
			return nil, err
		}
	}
	// Everything read: apply.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.hub.Reconfigure(ctx, hub.Live{IdleTimeout: o.idleTimeout, PasswordCheck: check, MOTD: motd}); err != nil {
		return nil, fmt.Errorf("the hub did not take the new settings: %w", err)
	}
	r.clients.SetLimits(clientLimits(o))
	if cert != nil {
		r.certs.cert.Store(cert)
	}

	var lines []string
	old := r.cur
	for _, name := range liveFlags() {
		if o.label(name) != old.label(name) {
			lines = append(lines, fmt.Sprintf("*** Now %s (was %s)", o.label(name), old.label(name)))
		}
	}
	if o.passwordFile != "" {
		lines = append(lines, "*** Read the admin password file "+o.passwordFile)
	}
	if motd != nil {
		lines = append(lines, fmt.Sprintf("*** Read the MOTD file %s (%d bytes)", o.motdFile, len(*motd)))
	}
	if cert != nil {
		lines = append(lines, "*** Read the TLS certificate "+o.tlsCert+", which expires "+expiry(cert))
	}
	var restart []string
	for name, l := range o.labels {
		live := isLive(name) && (tlsOn || !strings.HasPrefix(name, "tls-"))
		if !live && l != old.label(name) {
			restart = append(restart, l)
			o.labels[name] = old.label(name) // still the one in force: the next reload says so again
		}
	}
	if len(restart) > 0 {
		slices.Sort(restart)
		lines = append(lines, "! Not applied, these need a restart: "+strings.Join(restart, ", "))
	}
	r.cur = o
	return lines, nil
}

func isLive(name string) bool { return slices.Contains(liveFlags(), name) }

// clientLimits are the live limits of the client package in o.
func clientLimits(o *options) client.Limits {
	return client.Limits{
		MaxClients: o.maxClients, MaxPerIP: o.maxPerIP,
		ConnectRate: o.connectRate, ConnectBurst: o.connectBurst,
		MsgRate: o.msgRate, MsgBurst: o.msgBurst,
	}
}

// The bounds of a -motd-file.
const (
	maxMOTDFile  = 8 << 10
	maxMOTDLines = 20
	maxMOTDLine  = 500
)

// loadMOTD reads a -motd-file: nil for no file, else the message of the
// day, one sanitized line per line (control characters and escape
// sequences removed, each line cut at 500 bytes), at most 20 lines.
func loadMOTD(path string) (*string, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-motd-file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMOTDFile+1))
	if err != nil {
		return nil, fmt.Errorf("-motd-file: %w", err)
	}
	if len(b) > maxMOTDFile {
		return nil, fmt.Errorf("-motd-file %s: larger than %d bytes", path, maxMOTDFile)
	}
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		l = usertext.Sanitize(l)
		if len(l) > maxMOTDLine {
			l = strings.ToValidUTF8(l[:maxMOTDLine], "")
		}
		lines = append(lines, l)
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > maxMOTDLines {
		return nil, fmt.Errorf("-motd-file %s: more than %d lines", path, maxMOTDLines)
	}
	text := strings.Join(lines, "\n")
	return &text, nil
}
