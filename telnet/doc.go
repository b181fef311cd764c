// Package telnet is the server side of the Telnet protocol (RFC 854 and friends) for a chat
// server whose users connect with `telnet HOST PORT` or plain `nc HOST PORT`.
//
// It does no I/O. A [Decoder] turns the bytes a client sends into [Event] values: complete
// lines, replies that must be written back, interrupts, window sizes, terminal types and
// notices of dropped overlong subnegotiations.
// [AppendText] encodes outgoing text for the wire. The same Decoder serves Telnet clients and
// raw nc users; nc users simply never send commands.
//
// # Decoding
//
// The Decoder is a byte state machine (data, IAC, option, subnegotiation, plus a pending CR
// and a partial UTF-8 sequence). Its state survives between [Decoder.Feed] calls, so any
// construct below may arrive split across reads, down to one byte per read: the events are
// the same however the stream is split, except that replies produced within one Feed call
// may be merged into one EventReply.
//
// In line mode the data bytes go to a line assembler (package linemode), which owns the
// rules of the next three sections; the Decoder only frames the protocol around it (the
// commands IAC EC, IAC EL and the interrupts call the assembler's editing). In character
// mode the data bytes go out as they came, for a line editor (package lineedit).
//
// # Line ends
//
//   - CR LF, CR NUL, a bare LF and a bare CR each end a line. A CR ends the line at once: the
//     decoder never waits for the byte after it (clients in BINARY mode send a bare CR).
//   - One LF or NUL right after a CR is swallowed, even when it arrives in a later Feed or
//     after a Telnet command (CR IAC NOP LF is one line end).
//   - An empty line produces no event.
//   - At end of input, [Decoder.Finish] delivers a final unterminated line ("b" in
//     `printf 'a\nb' | nc -N`).
//
// # Editing and control bytes
//
//   - BS (0x08), DEL (0x7F) and IAC EC erase the last rune of the line (nothing on an empty
//     line). An incomplete UTF-8 sequence at the end counts as one rune.
//   - ^U (0x15) and IAC EL erase the whole line being typed.
//   - ^C (0x03), IAC IP, IAC ABORT and IAC BRK discard the line being typed and emit
//     EventInterrupt, even when the line was empty. The connection continues.
//   - NUL outside CR NUL and ^D (0x04) are dropped.
//   - All other control bytes (ESC, TAB, the other C0 controls, C1 controls encoded as
//     UTF-8) are kept in the line. They are not safe to show to other users: the caller must
//     sanitize lines (strip escape sequences) before display.
//
// Lines never contain CR, LF, NUL, BS, DEL, ^C, ^D or ^U.
//
// # Text encoding and length
//
// Text is UTF-8. It is validated after Telnet decoding and editing: each byte that is not
// part of a valid sequence becomes U+FFFD, one per byte as with [unicode/utf8.DecodeRune].
// A data byte 0xFF (sent as IAC IAC) therefore arrives as U+FFFD, and a raw 0xF2 (the DM of a
// Synch whose IAC went as TCP urgent data) as well. A sequence split across reads is joined.
//
// A line holds at most Config.MaxLine bytes (default 1024) of UTF-8. Text beyond that is
// dropped, together with erase keys, until the line ends; the line is then emitted with
// Truncated set, cut at a rune boundary. ^U, IAC EL or an interrupt start a fresh line. The
// decoder's memory stays bounded by MaxLine and MaxSub whatever the input.
//
// # Two-byte commands
//
//   - IAC IAC: one data byte 0xFF (see above).
//   - IAC AYT: EventReply with [AYTAnswer], "\r\n[telchat: yes, I am here]\r\n".
//   - IAC EC, IAC EL, IAC IP, IAC ABORT, IAC BRK: editing, see above.
//   - IAC NOP, GA, DM, EOR, SUSP, EOF (236), AO, a stray SE, and any undefined byte after
//     IAC: ignored. The byte after IAC is consumed; 0xFF is never emitted.
//
// A command inside a line does not end it: "ab IAC NOP cd CR LF" is the line "abcd".
//
// # Option negotiation
//
// Every option has two sides, ours (WILL/WONT) and the client's (DO/DONT), each in the RFC
// 1143 Q method states NO, YES, WANTNO, WANTYES. Consequences: a request to enable a refused
// option is answered once per request; a request to enter the current state is never
// answered; WONT or DONT for an enabled option is acknowledged once and disables it; WONT or
// DONT for an option that is off gets no reply. The server does not start negotiation by
// itself; [Decoder.RequestLocal] and [Decoder.RequestRemote] let a caller do so.
//
//	client sends           answer
//	DO SGA                 WILL SGA (we never send GA)
//	WILL SGA               DO SGA
//	WILL NAWS              DO NAWS, then SB NAWS is read
//	WILL TTYPE             DO TTYPE and IAC SB TTYPE SEND IAC SE, then SB TTYPE IS is read
//	DO ECHO                WONT ECHO (this server does not echo; the client echoes locally)
//	WILL ECHO              DONT ECHO
//	DO TIMING-MARK         WILL TIMING-MARK, every time, no state kept
//	any other WILL x       DONT x (BINARY, LINEMODE, NEW-/OLD-ENVIRON, TSPEED, LFLOW,
//	any other DO x         WONT x  STATUS, ENCRYPT, AUTHENTICATION, TM from the client, ...)
//
// Refusing BINARY keeps clients sending CR LF or CR NUL; refusing LINEMODE keeps line
// editing in the client or here. Inetutils and netkit send IAC IP IAC DO TM for Ctrl-C and
// show no output until the TIMING-MARK answer arrives, which is why every DO TM is answered.
// Replies are EventReply events in stream order; send them promptly.
//
// # Subnegotiation
//
// IAC SB <option> <payload> IAC SE. Inside the payload IAC IAC is a data 0xFF; CR, LF and
// text are payload, never part of a line. IAC followed by anything but SE or IAC ends the
// subnegotiation (it is discarded) and is handled as a command. Subnegotiations for options
// that are not enabled on the client's side are ignored, as are ones in the wrong direction
// (SB TTYPE SEND from a client).
//
// The payload is capped at Config.MaxSub bytes (default 512) counted after unescaping. Real
// clients stay far below it, so a longer payload is taken for a stray IAC SB (an nc user who
// pasted binary, say) that will never see its IAC SE. The first byte past the cap emits
// [EventSubnegTooLong], once, and abandons the subnegotiation: its whole payload, the bytes
// before the cap included, is dropped and never reaches a line or any other event. The
// decoder then discards input until either
//
//   - IAC SE, which ends the subnegotiation as usual (IAC x ends it as a command, see above);
//   - or a CR or LF (0x0D, 0x0A; the overflowing byte itself counts), which goes back to
//     normal data processing: that CR or LF is decoded as a line end, so it ends the line
//     typed before the IAC SB (emitted if not empty, without the dropped bytes), a LF or NUL
//     after a CR is swallowed, and the next line is decoded normally.
//
// So a runaway subnegotiation costs at most the rest of its line. The line-end escape applies
// only after the cap was passed: a CR or LF inside a payload within the cap (NAWS sends 0x0A
// and 0x0D for sizes 10 and 13) is payload. The caller should tell the client about the
// drop in one line when it sees EventSubnegTooLong.
//
// The payloads that are read, when within the cap:
//
//   - NAWS: 4 bytes after unescaping, big-endian width then height; emits EventWindowSize.
//     0 means "not sent" and becomes 80 (width) or 24 (height); values are clamped to
//     [MaxWidth]×[MaxHeight]. Other lengths are ignored. Clients resend it on every resize,
//     also in the middle of a line, which continues.
//   - TTYPE IS <name>: emits EventTerminalType with the visible ASCII bytes (0x21–0x7E) of the
//     name, at most [MaxTermTypeLen]. An empty name emits nothing.
//
// # Output
//
// [AppendText] turns "\n" and "\r\n" into CR LF, a lone "\r" into CR NUL and every 0xFF into
// IAC IAC, as RFC 854 and RFC 1123 §3.3.1 require of a server. It does not sanitize.
package telnet
