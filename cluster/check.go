package cluster

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// errBadURL is wrapped by CheckURLs' errors.
var errBadURL = errors.New("want nats://HOST:PORT, tls://, ws:// or wss:// URLs, comma-separated")

// CheckURLs checks a list of NATS URLs as -nats takes them: comma-separated
// (empty items skipped, as nats.go does), each nats://, tls://, ws:// or
// wss:// (or a bare HOST:PORT, which is nats://) with a host, websocket
// and other URLs not mixed. It catches what nats.go would otherwise try to
// dial (a mistyped scheme) or refuse only when it connects. Its errors
// name no user or password (see Redact).
func CheckURLs(urls string) error {
	n, ws := 0, 0
	for _, s := range strings.Split(urls, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		n++
		if !strings.Contains(s, "://") {
			s = "nats://" + s
		}
		u, err := url.Parse(s)
		if err != nil {
			return fmt.Errorf("%w (%q is not a URL)", errBadURL, Redact(s))
		}
		switch strings.ToLower(u.Scheme) {
		case "nats", "tls":
		case "ws", "wss":
			ws++
		default:
			return fmt.Errorf("%w (%q has the scheme %q)", errBadURL, Redact(s), u.Scheme)
		}
		if u.Hostname() == "" {
			return fmt.Errorf("%w (%q has no host)", errBadURL, Redact(s))
		}
	}
	switch {
	case n == 0:
		return errBadURL
	case ws > 0 && ws < n:
		return fmt.Errorf("%w (websocket and other URLs cannot be mixed)", errBadURL)
	}
	return nil
}

// Redact returns a -nats list with the user information of each URL (a
// user and password, or a token) replaced by "***", for logs and error
// messages.
func Redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, s := range parts {
		scheme, rest, ok := strings.Cut(s, "://")
		if !ok {
			scheme, rest = "", s
		}
		host := rest
		if end := strings.IndexAny(rest, "/?#"); end >= 0 {
			host = rest[:end]
		}
		at := strings.LastIndex(host, "@")
		if at < 0 {
			continue
		}
		if ok {
			scheme += "://"
		}
		parts[i] = scheme + "***" + rest[at:]
	}
	return strings.Join(parts, ",")
}

// CheckServerID checks a server id (-server-id): 1 to 64 printable
// characters without spaces, since users see it in /whois, /clients and
// /stats cluster and it is part of each event's message id.
func CheckServerID(id string) error {
	ok := id != "" && len(id) <= 64 && utf8.ValidString(id)
	for _, r := range id {
		ok = ok && unicode.IsGraphic(r) && !unicode.IsSpace(r)
	}
	if !ok {
		return fmt.Errorf("%w: server id %q: want 1 to 64 printable characters without spaces", ErrConfig, id)
	}
	return nil
}
