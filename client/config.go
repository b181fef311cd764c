package client

import (
	"time"

	"github.com/rs/zerolog"

	"telchat/hub"
)

// Config configures a Server. Zero values mean the documented defaults.
type Config struct {
	// Hub receives every session. Required.
	Hub *hub.Hub
	// Log is the base logger; each session adds its id and address.
	Log zerolog.Logger
	// MaxLine is the longest line of text in bytes. Default 1024.
	MaxLine int
	// WriteTimeout: a client whose writes make no progress this long is
	// disconnected as slow. Default 10s.
	WriteTimeout time.Duration
	// MaxQueueBytes caps a client's outbound queue in bytes. Default 4 MiB.
	MaxQueueBytes int64
	// MaxQueueMsgs caps a client's outbound queue in messages. Default 16384.
	MaxQueueMsgs int
	// MaxQueueTotal is the server's budget for the bytes all sessions
	// together hold for their clients, and MaxQueuePerIP one address's
	// share of it: as either runs out, the caps of the biggest queues fall
	// first (see budget.go). Defaults 256 MiB and 32 MiB; negative: none.
	MaxQueueTotal int64
	MaxQueuePerIP int64
	// MaxBehind: a client whose queue stays over a quarter of MaxQueueBytes
	// this long is disconnected as slow, even if it reads a little all the
	// while. Default 30s; negative: never.
	MaxBehind time.Duration
	// Linger is how long a closing session reads and discards input after
	// its half-close, waiting for the peer's EOF. Default 2s.
	Linger time.Duration
	// MsgRate is the steady rate of lines per second a client may send
	// (0: unlimited); MsgBurst the burst. Defaults 5 and 10 (see main).
	MsgRate  float64
	MsgBurst int
	// FloodTime: a client over MsgRate is slowed (its lines wait for the
	// rate, in order); one whose lines have all had to wait for longer
	// than FloodTime, without a pause, is disconnected (reason flood).
	// 0: never.
	FloodTime time.Duration
	// MaxClients caps concurrent connections (0: unlimited).
	MaxClients int
	// MaxPerIP caps concurrent connections from one address (0:
	// unlimited). This and ConnectRate count addresses by the hub's groups
	// (hub.Hub.AddrGroup): by default each IPv4 address, and each IPv6 /64.
	MaxPerIP int
	// ConnectRate is connections per second allowed from one address group, with
	// ConnectBurst (0: unlimited).
	ConnectRate  float64
	ConnectBurst int
	// MaxRefusing caps refused connections that linger (read and discard
	// the peer's input after the refusal line, for up to Linger) at once.
	// Past it a refusal writes its line and closes at once, so a flood of
	// connection attempts cannot hold thousands of descriptors. Default 256.
	MaxRefusing int
	// KeepAlive is the TCP keep-alive period. Default 30s; negative disables.
	KeepAlive time.Duration
	// HandshakeTimeout bounds a TLS handshake (ServeTLS). Default 10s.
	HandshakeTimeout time.Duration
	// Negotiate makes every session open with the offer of character mode
	// (IAC WILL ECHO, WILL SGA, DO NAWS, DO TTYPE), for listeners where
	// everybody uses a Telnet client; an nc user sees those 12 bytes.
	// Otherwise a session makes the offer only when the client opens with
	// negotiation of its own, or the user asks (/mode char).
	Negotiate bool
	// NoCharMode refuses character mode altogether (IAC DO ECHO is
	// answered WONT ECHO, /mode char says it is off).
	NoCharMode bool
	// CommandNames are the chat commands (without "/") that Tab completes
	// in character mode.
	CommandNames []string
	// ConnState, if set, is called on every session state change.
	ConnState func(*Session, State)
}

func (c *Config) setDefaults() {
	if c.MaxLine <= 0 {
		c.MaxLine = 1024
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.MaxQueueBytes <= 0 {
		c.MaxQueueBytes = 4 << 20
	}
	if c.MaxQueueMsgs <= 0 {
		c.MaxQueueMsgs = 16384
	}
	if c.MaxQueueTotal == 0 {
		c.MaxQueueTotal = 256 << 20
	}
	if c.MaxQueuePerIP == 0 {
		c.MaxQueuePerIP = 32 << 20
	}
	if c.MaxBehind == 0 {
		c.MaxBehind = 30 * time.Second
	}
	if c.Linger <= 0 {
		c.Linger = 2 * time.Second
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = 30 * time.Second
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.MsgBurst <= 0 {
		c.MsgBurst = 10
	}
	if c.MaxRefusing <= 0 {
		c.MaxRefusing = 256
	}
}
