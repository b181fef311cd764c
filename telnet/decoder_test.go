package telnet_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"telchat/telnet"
)

// Replies used by many rows.
const (
	willTM     = "ff fb 06"          // answer to DO TIMING-MARK
	ttypeSend  = "ff fa 18 01 ff f0" // IAC SB TTYPE SEND IAC SE
	doTType    = "ff fd 18 " + ttypeSend
	plinkBurst = "ff fb 1f ff fb 20 ff fb 18 ff fb 27 ff fd 01 ff fb 03 ff fd 03"
	// Answers to plinkBurst: DO NAWS, DONT TSPEED, DO TTYPE + SEND, DONT NEW-ENVIRON,
	// WONT ECHO, DO SGA, WILL SGA.
	plinkAnswer = "ff fd 1f ff fe 20 " + doTType + " ff fe 27 ff fc 01 ff fd 03 ff fb 03"
	// What inetutils, netkit and busybox send in answer to a WILL ECHO, WILL SGA, DO NAWS,
	// DO TTYPE greeting. Seen by this decoder they are requests: DO ECHO is refused (WONT
	// ECHO), DO SGA, WILL NAWS and WILL TTYPE are accepted.
	greetReply  = "ff fd 01 ff fd 03 ff fb 1f ff fa 1f 00 64 00 28 ff f0 ff fb 18"
	greetAnswer = "ff fc 01 ff fb 03 ff fd 1f"
)

type decodeCase struct {
	name   string
	cfg    telnet.Config
	in     [][]byte // the reads, as the client produced them
	finish bool     // call Finish after the last read
	want   []telnet.Event
}

// runDecodeCases checks each case fed as recorded, as one chunk and one byte at a time.
func runDecodeCases(t *testing.T, cases []decodeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := normalize(tc.want)
			feeds := []struct {
				name string
				in   [][]byte
			}{
				{"as recorded", tc.in},
				{"one chunk", [][]byte{join(tc.in)}},
				{"byte by byte", bytewise(tc.in)},
			}
			for _, f := range feeds {
				raw := decode(tc.cfg, f.in, tc.finish)
				checkInvariants(t, tc.cfg, raw)
				if got := normalize(raw); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: got\n%swant\n%s", f.name, format(got), format(want))
				}
			}
		})
	}
}

// TestClientTraces replays the real-client byte logs of facts.md section 10.
func TestClientTraces(t *testing.T) {
	runDecodeCases(t, []decodeCase{
		{
			name: "inetutils line mode hello world",
			in:   chunks(hx("68 65 6c 6c 6f 20 77 6f 72 6c 64 0d 0a")),
			want: []telnet.Event{line("hello world")},
		},
		{
			name: "inetutils line mode Ctrl-C is IP + DO TM",
			in:   chunks(hx("ff f4 ff fd 06")),
			want: []telnet.Event{intr, reply(willTM)},
		},
		{
			name: "inetutils Ctrl-C twice is answered twice",
			in:   chunks(hx("ff f4 ff fd 06"), hx("ff f4 ff fd 06")),
			want: []telnet.Event{intr, reply(willTM), intr, reply(willTM)},
		},
		{
			name: "Ctrl-C discards the typed part, next line is clean",
			in:   chunks(bs("abc"), hx("ff f4 ff fd 06"), bs("after\r\n")),
			want: []telnet.Event{intr, reply(willTM), line("after")},
		},
		{
			name: "inetutils line mode abc DEL ^H Enter",
			in:   chunks(hx("61 62 08 0d 0a")),
			want: []telnet.Event{line("a")},
		},
		{
			name:   "inetutils line mode Ctrl-D is dropped",
			in:     chunks(hx("04")),
			finish: true,
		},
		{
			name: "inetutils greeting reply with NAWS 100x40",
			in:   chunks(hx(greetReply)),
			want: []telnet.Event{reply(greetAnswer), size(100, 40), reply(doTType)},
		},
		{
			name: "inetutils under a 0x0 pty, TTYPE asked three times",
			in: chunks(
				hx("ff fd 01 ff fd 03 ff fb 1f ff fa 1f 00 00 00 00 ff f0 ff fb 18"),
				hx("ff fa 18 00 58 54 45 52 4d ff f0"),
				hx("ff fa 18 00 58 54 45 52 4d ff f0"),
				hx("ff fa 18 00 58 54 45 52 4d ff f0"),
			),
			want: []telnet.Event{
				reply(greetAnswer), size(80, 24), reply(doTType),
				ttype("XTERM"), ttype("XTERM"), ttype("XTERM"),
			},
		},
		{
			name: "inetutils character mode session with resize",
			in: chunks(
				hx(greetReply),
				bs(hx("ff fa 18 00"), "XTERM-256COLOR", hx("ff f0")),
				bs(hx("ff fa 18 00"), "XTERM-256COLOR", hx("ff f0")),
				hx("68 69"), hx("0d 00"), hx("78 7f"), hx("08"), hx("03"), hx("04"),
				hx("c3 a9 e2 82 ac"), hx("1b 5b 41"), hx("0d 00"),
				hx("ff fa 1f 00 78 00 32 ff f0"),
			),
			want: []telnet.Event{
				reply(greetAnswer), size(100, 40), reply(doTType),
				ttype("XTERM-256COLOR"), ttype("XTERM-256COLOR"),
				line("hi"), intr, line("é€\x1b[A"), size(120, 50),
			},
		},
		{
			name: "inetutils line mode, server silent",
			in: chunks(
				hx("68 69 0d 0a"), hx("ff f4 ff fd 06"), hx("04"),
				hx("c3 a9 e2 82 ac 1b 5b 41 0d 0a"),
			),
			want: []telnet.Event{line("hi"), intr, reply(willTM), line("é€\x1b[A")},
		},
		{
			name: "netkit character mode, TTYPE as-is",
			in: chunks(
				hx(greetReply),
				bs(hx("ff fa 18 00"), "xterm-256color", hx("ff f0")),
				hx("68 69"), hx("0d 00"), hx("78 7f"), hx("08"), hx("03"), hx("04"),
				hx("c3 a9 e2 82 ac"), hx("1b 5b 41"), hx("0d 00"),
				hx("ff fa 1f 00 78 00 32 ff f0"),
			),
			want: []telnet.Event{
				reply(greetAnswer), size(100, 40), reply(doTType), ttype("xterm-256color"),
				line("hi"), intr, line("é€\x1b[A"), size(120, 50),
			},
		},
		{
			name: "busybox character mode sends CR LF",
			in: chunks(
				hx(greetReply),
				bs(hx("ff fa 18 00"), "xterm-256color", hx("ff f0")),
				hx("68 69"), hx("0d 0a"), hx("78 7f"), hx("08"), hx("03"), hx("04"),
				hx("c3 a9 e2 82 ac"), hx("1b 5b 41"), hx("0d 0a"),
			),
			want: []telnet.Event{
				reply(greetAnswer), size(100, 40), reply(doTType), ttype("xterm-256color"),
				line("hi"), intr, line("é€\x1b[A"),
			},
		},
		{
			name: "busybox line mode",
			in:   chunks(hx("68 69 0d 0a"), hx("c3 a9 e2 82 ac 1b 5b 41 0d 0a")),
			want: []telnet.Event{line("hi"), line("é€\x1b[A")},
		},
		{
			name: "libtelnet client: refusals of options that are off get no reply",
			in: chunks(
				hx("ff fd 01 ff fe 03"), hx("ff fc 1f ff fb 18"),
				hx("ff fa 18 00"), bs("xterm-256color", hx("ff f0")),
				hx("68 69"), hx("0d 0a"), hx("78"), hx("7f"), hx("08"), hx("03"), hx("04"),
				hx("c3"), hx("a9 e2 82 ac"), hx("1b 5b 41"), hx("0d 0a"),
			),
			want: []telnet.Event{
				reply("ff fc 01"), reply(doTType), ttype("xterm-256color"),
				line("hi"), intr, line("é€\x1b[A"),
			},
		},
		{
			name: "libtelnet reference session, UTF-8 split",
			in: chunks(
				hx("68"), hx("c3"), hx("a9 6c 6c 6f 0d 0a"),
				hx("61"), hx("62 78 7f 63 0d 0a"),
				hx("7a"), hx("7a 03"),
				hx("61"), hx("66 74 65 72 0d 0a"),
			),
			want: []telnet.Event{line("héllo"), line("abc"), intr, line("after")},
		},
		{
			name: "plink greeting burst: each offer answered exactly once",
			in:   chunks(hx(plinkBurst)),
			want: []telnet.Event{reply(plinkAnswer)},
		},
		{
			name: "plink session: NAWS, TTYPE, then WILL OLD-ENVIRON after DONT NEW-ENVIRON",
			in: chunks(
				hx(plinkBurst),
				hx("ff fa 1f 00 64 00 28 ff f0"),
				bs(hx("ff fa 18 00"), "XTERM", hx("ff f0 ff fb 24")),
				hx("68 69"), hx("0d 00"), hx("78 7f"), hx("08"), hx("03"), hx("04"),
				hx("c3 a9 e2 82 ac"), hx("1b 5b 41"), hx("0d 00"),
				hx("ff fa 1f 00 78 00 32 ff f0"),
				hx("ff ec"),
			),
			finish: true,
			want: []telnet.Event{
				reply(plinkAnswer), size(100, 40), ttype("XTERM"), reply("ff fe 24"),
				line("hi"), intr, line("é€\x1b[A"), size(120, 50),
			},
		},
		{
			name: "plink burst repeated: accepted offers are not answered again",
			in:   chunks(hx(plinkBurst), hx(plinkBurst)),
			want: []telnet.Event{
				reply(plinkAnswer),
				reply("ff fe 20 ff fe 27 ff fc 01"), // refusals answer every request
			},
		},
		{
			name: "plink line mode sends bare LF",
			in:   chunks(hx(plinkBurst), hx("68 69 0a"), hx("79 0a")),
			want: []telnet.Event{reply(plinkAnswer), line("hi"), line("y")},
		},
		{
			name: "inetutils default port burst",
			in: chunks(
				hx("ff fd 26 ff fb 26 ff fd 03 ff fb 18 ff fb 1f ff fb 20 ff fb 21 ff fb 22 ff fb 27 ff fd 05"),
				hx("ff fa 1f 00 64 00 28 ff f0"),
				bs(hx("ff fa 18 00"), "XTERM-256COLOR", hx("ff f0")),
				hx("68 c3 a9 6c 6c 6f 0d 00"),
				hx("61 62 78 7f 63 0d 00"),
				hx("7a 7a 03"),
				hx("61 66 74 65 72 0d 00"),
				hx("1b 5b 33 31 6d 72 65 64 1b 5b 30 6d"), hx("0d 00"),
				hx("ff fa 1f 00 5a 00 1e ff f0"),
			),
			want: []telnet.Event{
				reply("ff fc 26 ff fe 26 ff fb 03 " + doTType + " ff fd 1f ff fe 20 ff fe 21 ff fe 22 ff fe 27 ff fc 05"),
				size(100, 40), ttype("XTERM-256COLOR"),
				line("héllo"), line("abc"), intr, line("after"),
				line("\x1b[31mred\x1b[0m"), // escape sequences are left to the sanitizer
				size(90, 30),
			},
		},
		{
			name: "netkit default port burst",
			in:   chunks(hx("ff fb 27 ff fb 25 ff fd 03 ff fb 18 ff fb 1f ff fb 20 ff fb 21 ff fb 22 ff fd 05")),
			want: []telnet.Event{
				reply("ff fe 27 ff fe 25 ff fb 03 " + doTType + " ff fd 1f ff fe 20 ff fe 21 ff fe 22 ff fc 05"),
			},
		},
		{
			name: "client probes: unknown, BINARY, NEW-ENVIRON, LINEMODE, ECHO twice, STATUS",
			in: chunks(
				hx("ff fd 99 ff fb 99"), hx("ff fb 00 ff fd 00"), hx("ff fd 27"), hx("ff fd 22"),
				hx("ff fb 01 ff fb 01"), hx("ff fb 05"),
			),
			want: []telnet.Event{
				reply("ff fc 99 ff fe 99"), reply("ff fe 00 ff fc 00"), reply("ff fc 27"),
				reply("ff fc 22"), reply("ff fe 01 ff fe 01"), reply("ff fe 05"),
			},
		},
		{
			name: "inetutils LINEMODE offer with SLC: refused, payload never leaks",
			in: chunks(
				hx("ff fd 03 ff fb 22 ff fa 22 03 01 00 00 03 62 03 04 02 0f 05 00 00 07 62 1c 08 02 04 09 42 1a 0a 02 7f 0b 02 15 0c 02 17 0d 02 12 0e 02 16 0f 02 11 10 02 13 11 00 00 12 00 00 ff f0"),
				bs("hi\r\n"),
			),
			want: []telnet.Event{reply("ff fb 03 ff fe 22"), line("hi")},
		},
		{
			name: "BINARY client sends a bare CR",
			in:   chunks(hx("68 69 0d"), hx("61"), hx("c3 bf"), hx("0d")),
			want: []telnet.Event{line("hi"), line("aÿ")},
		},
		{
			name: "typed 0xFF arrives as IAC IAC, becomes U+FFFD (char mode)",
			in:   chunks(hx("61"), hx("ff ff"), hx("62 0d 00")),
			want: []telnet.Event{line("a\uFFFDb")},
		},
		{
			name: "typed 0xFF in line mode",
			in:   chunks(hx("61 ff ff 62 0d 0a")),
			want: []telnet.Event{line("a\uFFFDb")},
		},
		{
			name:   "nc -N half-close delivers the last line",
			in:     chunks(hx("61 0a 62")),
			finish: true,
			want:   []telnet.Event{line("a"), line("b")},
		},
		{
			name: "nc without -N: the unterminated line waits",
			in:   chunks(hx("61 0a 62")),
			want: []telnet.Event{line("a")},
		},
		{
			name:   "nc in a tty: ^H erases, ^D sends a partial line",
			in:     chunks(hx("68 69 0a"), hx("79 08 7a 0a"), hx("70 61 72")),
			finish: true,
			want:   []telnet.Event{line("hi"), line("z"), line("par")},
		},
		{
			name: "inetutils synch without SO_OOBINLINE: lone DM is a data byte",
			in:   chunks(bs("ab"), hx("f2"), bs("cd\r\n")),
			want: []telnet.Event{line("ab\uFFFDcd")},
		},
		{
			name: "synch with SO_OOBINLINE: IAC DM ignored",
			in:   chunks(bs("ab"), hx("ff"), hx("f2"), bs("cd\r\n")),
			want: []telnet.Event{line("abcd")},
		},
		{
			name: "PuTTY synch without SO_OOBINLINE: lone IAC swallows the next byte",
			in:   chunks(bs("ab"), hx("ff"), bs("cd\r\n")),
			want: []telnet.Event{line("abd")},
		},
		{
			name: "inetutils send ao then text",
			in:   chunks(hx("ff f5"), bs("x\n")),
			want: []telnet.Event{line("x")},
		},
	})
}

// TestTwoByteCommands checks every IAC command placed inside the line "ab|cd".
func TestTwoByteCommands(t *testing.T) {
	abcd := []telnet.Event{line("abcd")}
	cases := []struct {
		name string
		cmd  byte
		want []telnet.Event
	}{
		{"NOP", telnet.NOP, abcd},
		{"GA", telnet.GA, abcd},
		{"DM", telnet.DM, abcd},
		{"EOR", telnet.EOR, abcd},
		{"SUSP", telnet.SUSP, abcd},
		{"EOF", telnet.CmdEOF, abcd},
		{"AO", telnet.AO, abcd},
		{"stray SE", telnet.SE, abcd},
		{"undefined 0x00", 0x00, abcd},
		{"undefined 0x99", 0x99, abcd},
		{"undefined 0xEB", 0xeb, abcd},
		{"AYT", telnet.AYT, []telnet.Event{replyText(), line("abcd")}},
		{"EC", telnet.EC, []telnet.Event{line("acd")}},
		{"EL", telnet.EL, []telnet.Event{line("cd")}},
		{"IP", telnet.IP, []telnet.Event{intr, line("cd")}},
		{"ABORT", telnet.ABORT, []telnet.Event{intr, line("cd")}},
		{"BRK", telnet.BRK, []telnet.Event{intr, line("cd")}},
	}
	var rows []decodeCase
	for _, c := range cases {
		rows = append(rows, decodeCase{
			name: c.name,
			in:   chunks(bs("ab", telnet.IAC, int(c.cmd), "cd\r\n")),
			want: c.want,
		})
	}
	// An undefined command byte that is printable is swallowed, not data.
	rows = append(rows, decodeCase{
		name: "undefined printable byte after IAC is swallowed",
		in:   chunks(bs("ab", telnet.IAC, "xcd\r\n")),
		want: abcd,
	})
	runDecodeCases(t, rows)
}

func TestLineEnds(t *testing.T) {
	runDecodeCases(t, []decodeCase{
		{
			name: "CR IAC NOP LF is one line end",
			in:   chunks(bs("a\r", telnet.IAC, telnet.NOP, "\nb\n")),
			want: []telnet.Event{line("a"), line("b")},
		},
		{
			name: "CR IAC DO TM LF: reply in stream order, LF still swallowed",
			in:   chunks(bs("a\r"), hx("ff fd 06"), bs("\nb\n")),
			want: []telnet.Event{line("a"), reply(willTM), line("b")},
		},
		{
			name: "CR SB NAWS LF",
			in:   chunks(hx("ff fb 1f"), bs("a\r"), hx("ff fa 1f 00 50 00 18 ff f0"), bs("\nb\n")),
			want: []telnet.Event{reply("ff fd 1f"), line("a"), size(80, 24), line("b")},
		},
		{
			name: "command inside a line does not end it",
			in:   chunks(bs("ab", telnet.IAC, telnet.NOP, "cd\r\n")),
			want: []telnet.Event{line("abcd")},
		},
		{name: "IAC at EOF is discarded", in: chunks(bs("ab", telnet.IAC)), finish: true, want: []telnet.Event{line("ab")}},
		{name: "IAC DO at EOF is discarded", in: chunks(bs("ab"), hx("ff fd")), finish: true, want: []telnet.Event{line("ab")}},
		{name: "IAC SB at EOF is discarded", in: chunks(bs("ab"), hx("ff fa")), finish: true, want: []telnet.Event{line("ab")}},
		{
			name:   "unterminated SB then EOF",
			in:     chunks(bs("ab"), hx("ff fa 18 00"), bs("xterm")),
			finish: true,
			want:   []telnet.Event{line("ab")},
		},
		{
			name:   "unterminated SB absorbs the rest of the stream",
			in:     chunks(hx("ff fa 99"), bs("hello\r\nworld\r\n")),
			finish: true,
		},
		{
			name:   "incomplete UTF-8 at EOF",
			in:     chunks(bs("a", 0xc3)),
			finish: true,
			want:   []telnet.Event{line("a\uFFFD")},
		},
	})
}

func TestTextAndEditing(t *testing.T) {
	runDecodeCases(t, []decodeCase{
		{name: "rune split by a command", in: chunks(hx("c3 ff f1 a9 0a")), want: []telnet.Event{line("é")}},
		{name: "raw 0xF0..0xFE without IAC are data", in: chunks(hx("f0 fa fe 0a")), want: []telnet.Event{line("\uFFFD\uFFFD\uFFFD")}},
		{name: "IAC EC erases a rune", in: chunks(bs("ab€", telnet.IAC, telnet.EC, "\n")), want: []telnet.Event{line("ab")}},
		{name: "IAC EL kills the line", in: chunks(bs("abc", telnet.IAC, telnet.EL, "d\n")), want: []telnet.Event{line("d")}},
		{
			name: "ESC, TAB, other C0 and C1 pass through for the sanitizer",
			in:   chunks(bs("\x1b[1m\tx\x07\x01\u009b\u0085\n")),
			want: []telnet.Event{line("\x1b[1m\tx\x07\x01\u009b\u0085")},
		},
	})
}

// TestLineLimit: Config.MaxLine is the line assembler's cap (package linemode tests the
// cap itself).
func TestLineLimit(t *testing.T) {
	five := telnet.Config{MaxLine: 5}
	runDecodeCases(t, []decodeCase{
		{name: "over MaxLine", cfg: five, in: chunks(bs("abcdefgh\nxy\n")), want: []telnet.Event{trunc("abcde"), line("xy")}},
		{name: "IAC IAC is a replacement, 3 bytes", cfg: five, in: chunks(bs(telnet.IAC, telnet.IAC, telnet.IAC, telnet.IAC, "\n")), want: []telnet.Event{trunc("\uFFFD")}},
		{name: "no limit set: DefaultMaxLine", in: chunks(bs(strings.Repeat("a", telnet.DefaultMaxLine+1), "\n")), want: []telnet.Event{trunc(strings.Repeat("a", telnet.DefaultMaxLine))}},
	})
}

func TestNegotiation(t *testing.T) {
	runDecodeCases(t, []decodeCase{
		{name: "DO SGA twice: one WILL", in: chunks(hx("ff fd 03"), hx("ff fd 03")), want: []telnet.Event{reply("ff fb 03")}},
		{
			name: "DONT for enabled SGA acknowledged once",
			in:   chunks(hx("ff fd 03"), hx("ff fe 03"), hx("ff fe 03")),
			want: []telnet.Event{reply("ff fb 03"), reply("ff fc 03")},
		},
		{name: "WILL SGA twice: one DO", in: chunks(hx("ff fb 03 ff fb 03")), want: []telnet.Event{reply("ff fd 03")}},
		{
			name: "WONT for enabled NAWS acknowledged once, later SB ignored",
			in:   chunks(hx("ff fb 1f"), hx("ff fc 1f"), hx("ff fc 1f"), hx("ff fa 1f 00 50 00 18 ff f0")),
			want: []telnet.Event{reply("ff fd 1f"), reply("ff fe 1f")},
		},
		{
			name: "NAWS re-enabled after WONT",
			in:   chunks(hx("ff fb 1f ff fc 1f ff fb 1f ff fa 1f 00 50 00 19 ff f0")),
			want: []telnet.Event{reply("ff fd 1f ff fe 1f ff fd 1f"), size(80, 25)},
		},
		{name: "WONT and DONT for options that are off: silence", in: chunks(hx("ff fc 1f ff fe 03 ff fc 99 ff fe 06 ff fc 01 ff fe 01"))},
		{name: "DO ECHO refused each time", in: chunks(hx("ff fd 01"), hx("ff fd 01")), want: []telnet.Event{reply("ff fc 01"), reply("ff fc 01")}},
		{name: "WILL ECHO refused", in: chunks(hx("ff fb 01")), want: []telnet.Event{reply("ff fe 01")}},
		{name: "DO TM three times", in: chunks(hx("ff fd 06 ff fd 06 ff fd 06")), want: []telnet.Event{reply(willTM + " " + willTM + " " + willTM)}},
		{name: "DONT TM: silence", in: chunks(hx("ff fe 06"))},
		{name: "DO TM, DONT TM, DO TM", in: chunks(hx("ff fd 06 ff fe 06 ff fd 06")), want: []telnet.Event{reply(willTM + " " + willTM)}},
		{name: "WILL TM refused", in: chunks(hx("ff fb 06")), want: []telnet.Event{reply("ff fe 06")}},
		{name: "WILL TTYPE twice: one DO and one SEND", in: chunks(hx("ff fb 18"), hx("ff fb 18")), want: []telnet.Event{reply(doTType)}},
		{name: "DO TTYPE, DO NAWS: wrong direction", in: chunks(hx("ff fd 18 ff fd 1f")), want: []telnet.Event{reply("ff fc 18 ff fc 1f")}},
		{name: "WILL option 255", in: chunks(hx("ff fb ff")), want: []telnet.Event{reply("ff fe ff")}},
		{name: "DO BINARY refused, data stays NVT", in: chunks(hx("ff fd 00"), bs("a\r\x00b\r\n")), want: []telnet.Event{reply("ff fc 00"), line("a"), line("b")}},
		{
			name: "negotiation in the middle of a line",
			in:   chunks(bs("ab"), hx("ff fd 03"), bs("cd\n")),
			want: []telnet.Event{reply("ff fb 03"), line("abcd")},
		},
	})
}

func TestSubnegotiation(t *testing.T) {
	willNAWS, willTType := hx("ff fb 1f"), hx("ff fb 18")
	doNAWS := reply("ff fd 1f")
	runDecodeCases(t, []decodeCase{
		{name: "NAWS with doubled IAC", in: chunks(willNAWS, hx("ff fa 1f 00 ff ff 00 ff ff ff f0")), want: []telnet.Event{doNAWS, size(255, 255)}},
		{name: "NAWS 511x40", in: chunks(willNAWS, hx("ff fa 1f 01 ff ff 00 28 ff f0")), want: []telnet.Event{doNAWS, size(511, 40)}},
		{name: "NAWS 0x0 means defaults", in: chunks(willNAWS, hx("ff fa 1f 00 00 00 00 ff f0")), want: []telnet.Event{doNAWS, size(80, 24)}},
		{name: "NAWS width 0 only", in: chunks(willNAWS, hx("ff fa 1f 00 00 00 32 ff f0")), want: []telnet.Event{doNAWS, size(80, 50)}},
		{
			name: "NAWS 65535 clamped",
			in:   chunks(willNAWS, hx("ff fa 1f ff ff ff ff ff ff ff ff ff f0")),
			want: []telnet.Event{doNAWS, size(telnet.MaxWidth, telnet.MaxHeight)},
		},
		{name: "NAWS bare f0 in payload is data", in: chunks(willNAWS, hx("ff fa 1f 00 f0 00 28 ff f0")), want: []telnet.Event{doNAWS, size(240, 40)}},
		{name: "NAWS 3 bytes ignored", in: chunks(willNAWS, hx("ff fa 1f 00 50 00 ff f0")), want: []telnet.Event{doNAWS}},
		{name: "NAWS 5 bytes ignored", in: chunks(willNAWS, hx("ff fa 1f 00 50 00 18 00 ff f0")), want: []telnet.Event{doNAWS}},
		{name: "NAWS without WILL ignored", in: chunks(hx("ff fa 1f 00 50 00 18 ff f0"))},
		{
			name: "NAWS in the middle of a line",
			in:   chunks(willNAWS, bs("ab"), hx("ff fa 1f 00 78 00 32 ff f0"), bs("c\r\n")),
			want: []telnet.Event{doNAWS, size(120, 50), line("abc")},
		},
		{name: "TTYPE IS without WILL ignored", in: chunks(bs(hx("ff fa 18 00"), "xterm", hx("ff f0")))},
		{name: "TTYPE SEND from the client ignored", in: chunks(willTType, hx("ff fa 18 01 ff f0")), want: []telnet.Event{reply(doTType)}},
		{name: "TTYPE empty IS ignored", in: chunks(willTType, hx("ff fa 18 00 ff f0")), want: []telnet.Event{reply(doTType)}},
		{name: "TTYPE empty SB ignored", in: chunks(willTType, hx("ff fa 18 ff f0")), want: []telnet.Event{reply(doTType)}},
		{
			name: "TTYPE sanitized",
			in:   chunks(willTType, bs(hx("ff fa 18 00"), "xt\x1berm 256", 0xff, 0xff, "color\r\n", hx("ff f0"))),
			want: []telnet.Event{reply(doTType), ttype("xterm256color")},
		},
		{
			name: "TTYPE cut to 40 bytes",
			in:   chunks(willTType, bs(hx("ff fa 18 00"), strings.Repeat("x", 60), hx("ff f0"))),
			want: []telnet.Event{reply(doTType), ttype(strings.Repeat("x", telnet.MaxTermTypeLen))},
		},
		{
			name: "SB payload of an unknown option never leaks into lines",
			in:   chunks(bs("ab", hx("ff fa 99"), "hello\r\nworld\n", hx("ff f0"), "cd\n")),
			want: []telnet.Event{line("abcd")},
		},
		{
			name: "IAC IP inside SB ends it and interrupts",
			in:   chunks(willTType, bs(hx("ff fa 18 00"), "xterm", hx("ff f4"), "hi\r\n")),
			want: []telnet.Event{reply(doTType), intr, line("hi")},
		},
		{
			name: "IAC NOP inside SB ends it; what follows is data",
			in:   chunks(willNAWS, hx("ff fa 1f 00 50 ff f1 00 18 ff f0"), bs("ok\n")),
			want: []telnet.Event{doNAWS, line("\x18ok")},
		},
		{
			name: "IAC WILL inside SB ends it and negotiates",
			in:   chunks(hx("ff fa 99 01 02 ff fb 03"), bs("x\n")),
			want: []telnet.Event{reply("ff fd 03"), line("x")},
		},
		{name: "IAC SB IAC SE is empty", in: chunks(hx("ff fa ff f0"), bs("x\n")), want: []telnet.Event{line("x")}},
		{
			name: "SB over MaxSub discarded, scanning continues to IAC SE",
			cfg:  telnet.Config{MaxSub: 8},
			in:   chunks(willTType, bs(hx("ff fa 18 00"), "abcdefghij", hx("ff f0"), "hi\n")),
			want: []telnet.Event{reply(doTType), tooLong, line("hi")},
		},
		{
			name: "SB exactly MaxSub kept",
			cfg:  telnet.Config{MaxSub: 4},
			in:   chunks(willTType, bs(hx("ff fa 18 00"), "ab", 0xff, 0xff, hx("ff f0"))),
			want: []telnet.Event{reply(doTType), ttype("ab")},
		},
		{
			name: "IAC IAC counts against MaxSub",
			cfg:  telnet.Config{MaxSub: 4},
			in:   chunks(willTType, bs(hx("ff fa 18 00"), "ab", 0xff, 0xff, 0xff, 0xff, hx("ff f0"), "hi\n")),
			want: []telnet.Event{reply(doTType), tooLong, line("hi")},
		},
	})
}

// TestSubnegOverflow covers the runaway subnegotiation: a stray IAC SB that never sees its
// IAC SE must not swallow the rest of the session. Past MaxSub the subnegotiation is
// reported and abandoned at its IAC SE or at the next CR or LF, whichever comes first.
// runDecodeCases also feeds every row as one chunk and byte by byte.
func TestSubnegOverflow(t *testing.T) {
	const maxSub = telnet.DefaultMaxSub
	willNAWS, willTType := hx("ff fb 1f"), hx("ff fb 18")
	doNAWS := reply("ff fd 1f")
	as := func(n int) string { return strings.Repeat("A", n) }
	// The repro: nc user, stray IAC SB TTYPE, 1000 bytes of text, then lines.
	repro := bs(hx("ff fa 18"), as(1000), "\r\nsbnick\r\n")
	// splitEvery cuts b into reads of n bytes.
	splitEvery := func(b []byte, n int) [][]byte {
		var out [][]byte
		for len(b) > 0 {
			k := min(n, len(b))
			out = append(out, b[:k])
			b = b[k:]
		}
		return out
	}
	runDecodeCases(t, []decodeCase{
		{
			name: "repro: the line after a runaway SB is decoded",
			in:   chunks(repro),
			want: []telnet.Event{tooLong, line("sbnick")},
		},
		{
			name: "repro in 1-byte reads",
			in:   splitEvery(repro, 1),
			want: []telnet.Event{tooLong, line("sbnick")},
		},
		{
			name: "repro in 7-byte reads",
			in:   splitEvery(repro, 7),
			want: []telnet.Event{tooLong, line("sbnick")},
		},
		{
			name: "runaway SB of an agreed option (payload kept until the cap)",
			in:   chunks(willTType, bs(hx("ff fa 18 00"), as(1000), "\nhi\n")),
			want: []telnet.Event{reply(doTType), tooLong, line("hi")},
		},
		{
			name: "text typed before the SB is the line its line end ends",
			in:   chunks(bs("ab", hx("ff fa 99"), as(maxSub+1), "cd\r\nnext\r\n")),
			want: []telnet.Event{tooLong, line("ab"), line("next")},
		},
		{
			name: "bare CR ends it at once, CR NUL swallowed as usual",
			in:   chunks(bs(hx("ff fa 99"), as(maxSub+5), "\r"), bs("\x00x\r")),
			want: []telnet.Event{tooLong, line("x")},
		},
		{
			name: "CR pending from before the SB: LF ends the SB and is swallowed",
			in:   chunks(bs("a\r", hx("ff fa 99"), as(maxSub+1), "\nb\n")),
			want: []telnet.Event{line("a"), tooLong, line("b")},
		},
		{
			name: "reported once however long the overflow",
			in:   splitEvery(bs(hx("ff fa 99"), as(20*maxSub), "\nok\n"), 4096),
			want: []telnet.Event{tooLong, line("ok")},
		},
		{
			name:   "unterminated runaway SB then EOF: Finish delivers the text before it",
			in:     chunks(bs("ab", hx("ff fa 99"), as(maxSub+1))),
			finish: true,
			want:   []telnet.Event{tooLong, line("ab")},
		},
		{
			name: "SB just under the cap ending with IAC SE",
			in:   chunks(willTType, bs(hx("ff fa 18 00"), as(maxSub-2), hx("ff f0"), "hi\n")),
			want: []telnet.Event{reply(doTType), ttype(as(telnet.MaxTermTypeLen)), line("hi")},
		},
		{
			name: "SB exactly at the cap, CR LF inside, ending with IAC SE",
			in:   chunks(willTType, bs(hx("ff fa 18 00"), "\r\n", as(maxSub-3), hx("ff f0"), "hi\n")),
			want: []telnet.Event{reply(doTType), ttype(as(telnet.MaxTermTypeLen)), line("hi")},
		},
		{
			name: "under the cap a line end is payload: SB without IAC SE absorbs lines",
			in:   chunks(bs(hx("ff fa 99"), as(maxSub-10), "\r\nhi\r\n", hx("ff f0"), "ok\n")),
			want: []telnet.Event{line("ok")},
		},
		{
			name: "over-cap SB ending with IAC SE before any line end",
			in:   chunks(willTType, bs(hx("ff fa 18 00"), as(2*maxSub), hx("ff f0"), "hi\n")),
			want: []telnet.Event{reply(doTType), tooLong, line("hi")},
		},
		{
			name: "over-cap SB ending with IAC SE in the middle of a line: the line continues",
			in:   chunks(bs("ab", hx("ff fa 99"), as(maxSub+1), hx("ff f0"), "cd\n")),
			want: []telnet.Event{tooLong, line("abcd")},
		},
		{
			name: "over-cap SB ending with IAC SE, byte by byte",
			in:   splitEvery(bs(hx("ff fa 99"), as(maxSub+3), hx("ff f0"), "hi\n"), 1),
			want: []telnet.Event{tooLong, line("hi")},
		},
		{
			name: "IAC IAC past the cap is no line end",
			in:   chunks(bs(hx("ff fa 99"), as(maxSub), hx("ff ff ff ff"), "x", hx("ff f0"), "hi\n")),
			want: []telnet.Event{tooLong, line("hi")},
		},
		{
			name: "IAC IP past the cap ends it as a command",
			in:   chunks(bs(hx("ff fa 99"), as(maxSub+1), hx("ff f4"), "hi\n")),
			want: []telnet.Event{tooLong, intr, line("hi")},
		},
		{
			name: "after abandoning, the next SB works",
			in:   chunks(willNAWS, bs(hx("ff fa 1f"), as(maxSub+1), "\n", hx("ff fa 1f 00 50 00 18 ff f0"), "x\n")),
			want: []telnet.Event{doNAWS, tooLong, size(80, 24), line("x")},
		},
		{
			name: "payload at the cap, then LF: the LF is the overflowing byte and ends it",
			cfg:  telnet.Config{MaxSub: 4},
			in:   chunks(willNAWS, bs("ab", hx("ff fa 1f 00 50 00 18 0a"), "cd\n")),
			want: []telnet.Event{doNAWS, tooLong, line("ab"), line("cd")},
		},
		{
			name: "NAWS 10x13 (0x0A, 0x0D in the payload)",
			in:   chunks(willNAWS, hx("ff fa 1f 00 0a 00 0d ff f0")),
			want: []telnet.Event{doNAWS, size(10, 13)},
		},
		{
			name: "NAWS 13x10 in the middle of a line",
			in:   chunks(willNAWS, bs("ab", hx("ff fa 1f 00 0d 00 0a ff f0"), "c\r\n")),
			want: []telnet.Event{doNAWS, size(13, 10), line("abc")},
		},
		{
			name: "NAWS 0x0D0A x 0x0A0D clamped",
			in:   chunks(willNAWS, hx("ff fa 1f 0d 0a 0a 0d ff f0")),
			want: []telnet.Event{doNAWS, size(telnet.MaxWidth, telnet.MaxHeight)},
		},
		{
			name: "NAWS with line-end bytes exactly at a cap of 4",
			cfg:  telnet.Config{MaxSub: 4},
			in:   chunks(willNAWS, hx("ff fa 1f 0a 0d 0d 0a ff f0"), bs("x\n")),
			want: []telnet.Event{doNAWS, size(telnet.MaxWidth, telnet.MaxHeight), line("x")},
		},
	})
}

// TestCRDeliversAtOnce checks that a line ended by a bare CR is delivered by the same Feed
// call: binary-mode clients send nothing after it until the next key.
func TestCRDeliversAtOnce(t *testing.T) {
	for _, in := range []string{"hi\r", "hi\n", "hi\r\x00", "hi\r\n"} {
		d := telnet.NewDecoder(telnet.Config{})
		got := d.Feed(nil, []byte(in))
		if want := []telnet.Event{line("hi")}; !reflect.DeepEqual(got, want) {
			t.Errorf("Feed(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestFinishTwice(t *testing.T) {
	d := telnet.NewDecoder(telnet.Config{})
	evs := d.Feed(nil, []byte("ab"))
	evs = d.Finish(evs)
	if got := d.Finish(nil); len(got) != 0 {
		t.Errorf("second Finish = %v, want nothing", got)
	}
	if want := []telnet.Event{line("ab")}; !reflect.DeepEqual(evs, want) {
		t.Errorf("got %v, want %v", evs, want)
	}
	// The decoder keeps working after Finish.
	if got, want := d.Feed(nil, []byte("cd\n")), []telnet.Event{line("cd")}; !reflect.DeepEqual(got, want) {
		t.Errorf("Feed after Finish = %v, want %v", got, want)
	}
}

// TestFeedAppends checks that Feed appends to dst and never merges into or changes events
// that were already there.
func TestFeedAppends(t *testing.T) {
	d := telnet.NewDecoder(telnet.Config{})
	evs := d.Feed(nil, hx("ff fd 06"))
	first := evs[0].Data
	evs = d.Feed(evs, hx("ff fd 03"))
	want := []telnet.Event{reply(willTM), reply("ff fb 03")}
	if !reflect.DeepEqual(evs, want) {
		t.Fatalf("got %v, want %v", evs, want)
	}
	if !bytes.Equal(first, hx(willTM)) {
		t.Errorf("first reply changed to % x", first)
	}
	// Reply data is fresh: reusing the event slice does not share bytes.
	again := d.Feed(evs[:0], hx("ff fd 06"))
	if !bytes.Equal(first, hx(willTM)) || &again[0].Data[0] == &first[0] {
		t.Errorf("reply data was reused")
	}
}

func TestRequest(t *testing.T) {
	d := telnet.NewDecoder(telnet.Config{})
	check := func(what string, got []byte, want string) {
		t.Helper()
		if !bytes.Equal(got, hx(want)) {
			t.Errorf("%s = % x, want %s", what, got, want)
		}
	}
	feed := func(in string, want ...telnet.Event) {
		t.Helper()
		if got := normalize(d.Feed(nil, hx(in))); !reflect.DeepEqual(got, normalize(want)) {
			t.Errorf("Feed(%s) got\n%swant\n%s", in, format(got), format(want))
		}
	}

	// Our side: WILL ECHO accepted by the client's DO, without a second WILL.
	check("RequestLocal(ECHO, on)", d.RequestLocal(telnet.OptEcho, true), "ff fb 01")
	check("RequestLocal(ECHO, on) while pending", d.RequestLocal(telnet.OptEcho, true), "")
	if d.LocalEnabled(telnet.OptEcho) {
		t.Error("ECHO enabled before the answer")
	}
	feed("ff fd 01")
	if !d.LocalEnabled(telnet.OptEcho) {
		t.Error("ECHO not enabled after DO ECHO")
	}
	check("RequestLocal(ECHO, on) when on", d.RequestLocal(telnet.OptEcho, true), "")
	feed("ff fd 01") // repeated DO for an enabled option: silence
	feed("ff fe 01", reply("ff fc 01"))
	if d.LocalEnabled(telnet.OptEcho) {
		t.Error("ECHO still enabled after DONT ECHO")
	}

	// Our side: a request refused by DONT ends in NO without a reply.
	check("RequestLocal(ECHO, on)", d.RequestLocal(telnet.OptEcho, true), "ff fb 01")
	feed("ff fe 01")
	if d.LocalEnabled(telnet.OptEcho) {
		t.Error("ECHO enabled after refusal")
	}

	// Our side: disabling SGA.
	feed("ff fd 03", reply("ff fb 03"))
	check("RequestLocal(SGA, off)", d.RequestLocal(telnet.OptSGA, false), "ff fc 03")
	feed("ff fe 03")
	if d.LocalEnabled(telnet.OptSGA) {
		t.Error("SGA still enabled")
	}
	check("RequestLocal(SGA, off) when off", d.RequestLocal(telnet.OptSGA, false), "")

	// Peer side: DO TTYPE accepted by WILL, which triggers SEND but no second DO.
	check("RequestRemote(TTYPE, on)", d.RequestRemote(telnet.OptTType, true), "ff fd 18")
	feed("ff fb 18", reply(ttypeSend))
	if !d.RemoteEnabled(telnet.OptTType) {
		t.Error("TTYPE not enabled")
	}
	// Peer side: DO NAWS refused by WONT: no reply.
	check("RequestRemote(NAWS, on)", d.RequestRemote(telnet.OptNAWS, true), "ff fd 1f")
	feed("ff fc 1f")
	if d.RemoteEnabled(telnet.OptNAWS) {
		t.Error("NAWS enabled after WONT")
	}
	// Peer side: DONT TTYPE acknowledged by WONT: no reply.
	check("RequestRemote(TTYPE, off)", d.RequestRemote(telnet.OptTType, false), "ff fe 18")
	feed("ff fc 18")
	if d.RemoteEnabled(telnet.OptTType) {
		t.Error("TTYPE still enabled")
	}
	// A WILL answering our DONT is a peer error: the option stays off, no reply.
	feed("ff fb 18", reply(doTType))
	check("RequestRemote(TTYPE, off)", d.RequestRemote(telnet.OptTType, false), "ff fe 18")
	feed("ff fb 18")
	if d.RemoteEnabled(telnet.OptTType) {
		t.Error("TTYPE enabled by WILL answering DONT")
	}
}

func TestEventString(t *testing.T) {
	cases := []struct {
		ev   telnet.Event
		want string
	}{
		{line("hi"), `Line("hi")`},
		{trunc("hi"), `Line("hi", truncated)`},
		{reply(willTM), "Reply(ff fb 06)"},
		{intr, "Interrupt"},
		{size(80, 24), "WindowSize(80x24)"},
		{ttype("XTERM"), `TerminalType("XTERM")`},
		{tooLong, "SubnegTooLong"},
		{telnet.Event{Kind: 99}, "EventKind(99)"},
	}
	for _, c := range cases {
		if got := c.ev.String(); got != c.want {
			t.Errorf("String() = %s, want %s", got, c.want)
		}
	}
}
