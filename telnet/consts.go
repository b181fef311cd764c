package telnet

// Telnet command bytes (RFC 854 pp. 13–14, RFC 885, RFC 1184). Each follows IAC on the wire.
const (
	IAC    = 255 // interpret as command; IAC IAC is one data byte 0xFF
	DONT   = 254 // DONT <option>: asks the peer to stop, or refuses the peer's WILL
	DO     = 253 // DO <option>: asks the peer to start, or accepts the peer's WILL
	WONT   = 252 // WONT <option>: refuses the peer's DO, or announces we stop
	WILL   = 251 // WILL <option>: offers to start, or accepts the peer's DO
	SB     = 250 // starts a subnegotiation: IAC SB <option> <payload> IAC SE
	GA     = 249 // go ahead
	EL     = 248 // erase line
	EC     = 247 // erase character
	AYT    = 246 // are you there
	AO     = 245 // abort output
	IP     = 244 // interrupt process
	BRK    = 243 // break
	DM     = 242 // data mark, the end of a Synch
	NOP    = 241 // no operation
	SE     = 240 // ends a subnegotiation
	EOR    = 239 // end of record (RFC 885)
	ABORT  = 238 // abort process (RFC 1184)
	SUSP   = 237 // suspend process (RFC 1184)
	CmdEOF = 236 // end of file (RFC 1184); plink sends it when its stdin closes
)

// Telnet option codes, the byte after WILL, WONT, DO, DONT and SB.
const (
	OptBinary       = 0   // RFC 856 binary transmission
	OptEcho         = 1   // RFC 857 echo
	OptSGA          = 3   // RFC 858 suppress go ahead
	OptStatus       = 5   // RFC 859 status
	OptTimingMark   = 6   // RFC 860 timing mark
	OptTType        = 24  // RFC 1091 terminal type
	OptEOR          = 25  // RFC 885 end of record
	OptNAWS         = 31  // RFC 1073 negotiate about window size
	OptTSpeed       = 32  // RFC 1079 terminal speed
	OptLFlow        = 33  // RFC 1372 remote flow control
	OptLinemode     = 34  // RFC 1184 line mode
	OptXDispLoc     = 35  // RFC 1096 X display location
	OptOldEnviron   = 36  // RFC 1408 old environment
	OptAuth         = 37  // RFC 2941 authentication
	OptEncrypt      = 38  // RFC 2946 encryption
	OptNewEnviron   = 39  // RFC 1572 new environment
	OptExtendedList = 255 // RFC 861 extended options list (EXOPL)
)

// Terminal type subnegotiation commands (RFC 1091).
const (
	TTypeIs   = 0 // IAC SB TTYPE IS <name> IAC SE, sent by the client
	TTypeSend = 1 // IAC SB TTYPE SEND IAC SE, sent by the server
)

// Limits and defaults used by the Decoder.
const (
	DefaultMaxLine = 1024                                // Config.MaxLine when it is 0
	DefaultMaxSub  = 512                                 // Config.MaxSub when it is 0
	DefaultWidth   = 80                                  // window width used when NAWS reports 0
	DefaultHeight  = 24                                  // window height used when NAWS reports 0
	MaxWidth       = 1000                                // larger NAWS widths are clamped to this
	MaxHeight      = 1000                                // larger NAWS heights are clamped to this
	MaxTermTypeLen = 40                                  // terminal type names are cut to this many bytes
	AYTAnswer      = "\r\n[telchat: yes, I am here]\r\n" // sent in answer to IAC AYT
)
