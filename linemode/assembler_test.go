package linemode

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// These cases moved here from package telnet's decoder tests with the
// code they test; the decoder's own tests keep the cases that involve
// Telnet commands (IAC EC, IAC EL, a command between CR and LF, ...).

type assembleCase struct {
	name   string
	max    int      // 0: 1024
	in     [][]byte // the reads, as a client produced them
	finish bool     // call Finish after the last read
	want   []Result
}

// runCases checks each case fed as recorded, as one chunk and one byte at a time.
func runCases(t *testing.T, cases []assembleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			all := bytesJoin(tc.in)
			var bytewise [][]byte
			for _, b := range all {
				bytewise = append(bytewise, []byte{b})
			}
			for name, in := range map[string][][]byte{"as recorded": tc.in, "one chunk": {all}, "byte by byte": bytewise} {
				limit := tc.max
				if limit == 0 {
					limit = 1024
				}
				a := New(limit)
				var got []Result
				for _, c := range in {
					got = feed(&a, got, c)
				}
				if tc.finish {
					if r := a.Finish(); r.Kind != None {
						got = append(got, r)
					}
				}
				for _, r := range got {
					if r.Kind == Line && (!utf8.ValidString(r.Line) || len(r.Line) > limit || strings.ContainsAny(r.Line, "\r\n\x00\x08\x7f\x03\x04\x15")) {
						t.Errorf("%s: bad line %q", name, r.Line)
					}
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s: got %+v, want %+v", name, got, tc.want)
				}
			}
		})
	}
}

// feed gives p to a as the Telnet decoder does (Text for runs of text,
// Byte for the rest) and appends what it completed to out.
func feed(a *Assembler, out []Result, p []byte) []Result {
	for i := 0; i < len(p); {
		if n := a.Text(p[i:]); n > 0 {
			i += n
			continue
		}
		if r := a.Byte(p[i]); r.Kind != None {
			out = append(out, r)
		}
		i++
	}
	return out
}

func bytesJoin(in [][]byte) []byte {
	var all []byte
	for _, c := range in {
		all = append(all, c...)
	}
	return all
}

// hx parses space-separated hex bytes, e.g. hx("c3 a9").
func hx(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(fmt.Sprintf("bad hex %q: %v", s, err))
	}
	return b
}

// bytesOf concatenates parts into bytes: a string adds its bytes, an int one byte.
func bytesOf(parts ...any) []byte {
	var out []byte
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			out = append(out, v...)
		case int:
			out = append(out, byte(v))
		default:
			panic(fmt.Sprintf("bytesOf: unsupported part %T", p))
		}
	}
	return out
}

func chunks(c ...[]byte) [][]byte { return c }
func line(s string) Result        { return Result{Kind: Line, Line: s} }
func trunc(s string) Result       { return Result{Kind: Line, Line: s, Truncated: true} }

var intr = Result{Kind: Interrupt}

func TestLineEnds(t *testing.T) {
	runCases(t, []assembleCase{
		{name: "CR LF", in: chunks(bytesOf("a\r\nb\r\n")), want: []Result{line("a"), line("b")}},
		{name: "CR NUL", in: chunks(bytesOf("a\r\x00b\r\x00")), want: []Result{line("a"), line("b")}},
		{name: "bare LF", in: chunks(bytesOf("a\nb\n")), want: []Result{line("a"), line("b")}},
		{name: "bare CR", in: chunks(bytesOf("a\rb\r")), want: []Result{line("a"), line("b")}},
		{name: "CR | LF split", in: chunks(bytesOf("a\r"), bytesOf("\n"), bytesOf("b\n")), want: []Result{line("a"), line("b")}},
		{name: "CR | NUL split", in: chunks(bytesOf("a\r"), bytesOf("\x00b\r\x00")), want: []Result{line("a"), line("b")}},
		{name: "CR CR LF", in: chunks(bytesOf("a\r\r\nb\n")), want: []Result{line("a"), line("b")}},
		{name: "CR LF LF: second LF is an empty line", in: chunks(bytesOf("a\r\n\nb\n")), want: []Result{line("a"), line("b")}},
		{name: "CR NUL NUL", in: chunks(bytesOf("a\r\x00\x00b\n")), want: []Result{line("a"), line("b")}},
		{name: "only one byte after CR is swallowed", in: chunks(bytesOf("a\r\n\x00b\n")), want: []Result{line("a"), line("b")}},
		{name: "CR then ^C", in: chunks(bytesOf("a\r\x03")), want: []Result{line("a"), intr}},
		{name: "empty lines produce nothing", in: chunks(bytesOf("\r\n\r\n\n\r\x00\r")), finish: true},
		{name: "line erased to empty produces nothing", in: chunks(bytesOf("ab\x7f\x7f\r\n"))},
		{name: "Finish delivers a line ended by nothing", in: chunks(bytesOf("ab")), finish: true, want: []Result{line("ab")}},
		{name: "Finish after CR adds nothing", in: chunks(bytesOf("ab\r")), finish: true, want: []Result{line("ab")}},
	})
}

func TestTextAndEditing(t *testing.T) {
	runCases(t, []assembleCase{
		{name: "UTF-8 split across reads", in: chunks(hx("c3"), hx("a9 e2 82"), hx("ac 0d 0a")), want: []Result{line("é€")}},
		{name: "4-byte rune split", in: chunks(hx("f0 9f"), hx("98"), hx("80 0a")), want: []Result{line("😀")}},
		{name: "invalid continuation byte", in: chunks(bytesOf("a", 0x80, "b\n")), want: []Result{line("a\uFFFDb")}},
		{name: "lead byte then ASCII", in: chunks(bytesOf(0xc3, "A\n")), want: []Result{line("\uFFFDA")}},
		{name: "surrogate is three errors", in: chunks(hx("ed a0 80 0a")), want: []Result{line("\uFFFD\uFFFD\uFFFD")}},
		{name: "overlong NUL", in: chunks(hx("c0 80 0a")), want: []Result{line("\uFFFD\uFFFD")}},
		{name: "truncated sequence at line end", in: chunks(bytesOf("a", 0xe2, 0x82, "\n")), want: []Result{line("a\uFFFD\uFFFD")}},
		{name: "raw C1 byte 0x9B is invalid", in: chunks(bytesOf("a", 0x9b, "[31m\n")), want: []Result{line("a\uFFFD[31m")}},
		{name: "a real U+FFFD passes", in: chunks(bytesOf("\uFFFD\n")), want: []Result{line("\uFFFD")}},
		{name: "DEL erases a rune", in: chunks(bytesOf("aé\x7f\n")), want: []Result{line("a")}},
		{name: "BS erases a 4-byte rune", in: chunks(bytesOf("a😀\x08\n")), want: []Result{line("a")}},
		{name: "BS erases an incomplete sequence", in: chunks(bytesOf("a", 0xe2, 0x82, "\x08\n")), want: []Result{line("a")}},
		{name: "BS erases a replacement", in: chunks(bytesOf("a", 0x80, "\x08\n")), want: []Result{line("a")}},
		{name: "erase on empty line is a no-op", in: chunks(bytesOf("\x08\x08\x7fa\n")), want: []Result{line("a")}},
		{name: "^U kills the line", in: chunks(bytesOf("abc\x15d\n")), want: []Result{line("d")}},
		{name: "^C discards the line", in: chunks(bytesOf("abc\x03d\n")), want: []Result{intr, line("d")}},
		{name: "^C on an empty line still interrupts", in: chunks(bytesOf("\x03")), want: []Result{intr}},
		{name: "NUL inside a line is dropped", in: chunks(bytesOf("a\x00b\n")), want: []Result{line("ab")}},
		{name: "^D inside a line is dropped", in: chunks(bytesOf("a\x04b\n")), want: []Result{line("ab")}},
		{name: "^D between the bytes of a rune", in: chunks(bytesOf(0xc3, 0x04, 0xa9, "\n")), want: []Result{line("é")}},
	})
}

func TestLineLimit(t *testing.T) {
	runCases(t, []assembleCase{
		{name: "exactly MaxLine", max: 5, in: chunks(bytesOf("abcde\n")), want: []Result{line("abcde")}},
		{name: "over MaxLine", max: 5, in: chunks(bytesOf("abcdefgh\nxy\n")), want: []Result{trunc("abcde"), line("xy")}},
		{name: "cut at a rune boundary", max: 5, in: chunks(bytesOf("abcd€\n")), want: []Result{trunc("abcd")}},
		{name: "replacement counts 3 bytes", max: 5, in: chunks(bytesOf(0x80, 0x80, "\n")), want: []Result{trunc("\uFFFD")}},
		{name: "erase after truncation is ignored", max: 5, in: chunks(bytesOf("abcdefg\x08\x08\x7f\n")), want: []Result{trunc("abcde")}},
		{name: "^U after truncation starts afresh", max: 5, in: chunks(bytesOf("abcdefg\x15xy\n")), want: []Result{line("xy")}},
		{name: "^C after truncation", max: 5, in: chunks(bytesOf("abcdefg\x03xy\n")), want: []Result{intr, line("xy")}},
		{name: "erase then fill again", max: 5, in: chunks(bytesOf("abc\x7f\x7fdefgh\n")), want: []Result{trunc("adefg")}},
		{name: "Finish delivers a truncated line", max: 5, in: chunks(bytesOf("abcdefgh")), finish: true, want: []Result{trunc("abcde")}},
		{name: "MaxLine 1 and a 2-byte rune", max: 1, in: chunks(bytesOf("é\n")), want: []Result{trunc("")}},
	})
}

// TestCRPending checks the pending-CR state directly: it is not visible
// in results, because the empty line a stray LF would end is not reported.
func TestCRPending(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{{"a\r", true}, {"a\r\n", false}, {"a\r\x00", false}, {"a\r\r", true}, {"a\rb", false}, {"a\n", false}} {
		a := New(1024)
		feed(&a, nil, []byte(c.in))
		if a.crPending != c.want {
			t.Errorf("after %q: crPending = %v, want %v", c.in, a.crPending, c.want)
		}
	}
}

// TestTake: a line editor taking over gets the partial line (a pending
// UTF-8 sequence as U+FFFD), and the assembler is idle after.
func TestTake(t *testing.T) {
	a := New(1024)
	feed(&a, nil, bytesOf("héllo", 0xc3))
	if got := a.Take(); got != "héllo\uFFFD" || !a.Idle() {
		t.Fatalf("Take = %q, idle %v", got, a.Idle())
	}
	feed(&a, nil, []byte("x\r"))
	if a.Idle() {
		t.Fatal("idle with a CR pending")
	}
	a.Take()
	if !a.Idle() {
		t.Fatal("Take left a CR pending")
	}
}

// TestLongLineBoundedMemory: 1 MiB without a line end never grows the
// buffer past the maximum, and the line comes truncated.
func TestLongLineBoundedMemory(t *testing.T) {
	for _, in := range [][]byte{[]byte(strings.Repeat("a", 1<<20)), []byte(strings.Repeat("€", 1<<18)), []byte(strings.Repeat("\x80", 1<<20))} {
		a := New(1024)
		var got []Result
		for i := 0; i < len(in); i += 4096 {
			got = feed(&a, got, in[i:min(i+4096, len(in))])
			if a.Cap() > 1024 {
				t.Fatalf("buffer cap %d > 1024", a.Cap())
			}
		}
		got = feed(&a, got, []byte("\n"))
		if len(got) != 1 || !got[0].Truncated || len(got[0].Line) > 1024 || len(got[0].Line) < 1021 {
			t.Fatalf("got %d results: %.60v", len(got), got)
		}
	}
}
