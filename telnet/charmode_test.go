package telnet

import (
	"bytes"
	"fmt"
	"testing"
)

func TestEchoPolicy(t *testing.T) {
	for _, tc := range []struct {
		echo bool
		want []byte
	}{
		{false, []byte{IAC, WONT, OptEcho}},
		{true, []byte{IAC, WILL, OptEcho}},
	} {
		d := NewDecoder(Config{Echo: tc.echo})
		evs := d.Feed(nil, []byte{IAC, DO, OptEcho})
		if len(evs) < 1 || evs[0].Kind != EventReply || !bytes.Equal(evs[0].Data, tc.want) {
			t.Fatalf("echo %v: %v", tc.echo, evs)
		}
		if d.LocalEnabled(OptEcho) != tc.echo {
			t.Fatalf("echo %v: LocalEnabled %v", tc.echo, d.LocalEnabled(OptEcho))
		}
	}
	// Our offer, then the client's answer.
	d := NewDecoder(Config{Echo: true})
	if b := d.RequestLocal(OptEcho, true); !bytes.Equal(b, []byte{IAC, WILL, OptEcho}) {
		t.Fatalf("offer %x", b)
	}
	if !d.LocalPending(OptEcho) {
		t.Fatal("offer not pending")
	}
	if evs := d.Feed(nil, []byte{IAC, DONT, OptEcho}); len(evs) != 0 {
		t.Fatalf("refusal answered: %v", evs)
	}
	if d.LocalPending(OptEcho) || d.LocalEnabled(OptEcho) {
		t.Fatal("refused offer still pending or on")
	}
}

func TestCharMode(t *testing.T) {
	d := NewDecoder(Config{Echo: true})
	evs := d.Feed(nil, []byte("half a li"))
	if len(evs) != 0 {
		t.Fatalf("line mode: %v", evs)
	}
	if got := d.SetCharMode(true); got != "half a li" {
		t.Fatalf("partial line %q", got)
	}
	if d.Idle() {
		t.Fatal("idle in character mode")
	}
	in := []byte{'n', 'e', '\r', 0, IAC, IAC, 0x7f, IAC, EC, 'x', IAC, EL, IAC, IP, IAC, DO, OptSGA, 0x1b, '[', 'A'}
	var got []string
	for _, e := range d.Feed(nil, in) {
		got = append(got, e.String())
	}
	want := []string{`Data("ne\r\x00\xff\x7f")`, "EraseChar", `Data("x")`, "EraseLine", "Interrupt", "Reply(ff fb 03)", `Data("\x1b[A")`}
	if len(got) != len(want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d: got %q\nwant %q", i, got, want)
		}
	}
	if d.SetCharMode(false) != "" || d.CharMode() {
		t.Fatal("back to line mode")
	}
	evs = d.Feed(nil, []byte("ok\r\n"))
	if len(evs) != 1 || evs[0].Line != "ok" {
		t.Fatalf("line mode again: %v", evs)
	}
}

// TestEchoSwitchesMode: with Config.Echo, agreeing to ECHO switches to
// character mode at that point of the stream, and DONT ECHO back.
func TestEchoSwitchesMode(t *testing.T) {
	d := NewDecoder(Config{Echo: true})
	in := []byte{'h', 'i', IAC, DO, OptSGA, IAC, DO, OptEcho, 'x', IAC, DONT, OptEcho, 'y', '\n'}
	var got []string
	for _, e := range d.Feed(nil, in) {
		got = append(got, e.String())
	}
	want := []string{"Reply(ff fb 03 ff fb 01)", `Mode(char, "hi")`, `Data("x")`, "Reply(ff fc 01)", "Mode(line)", `Line("y")`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
