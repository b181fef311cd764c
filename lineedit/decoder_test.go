package lineedit

import (
	"slices"
	"strings"
	"testing"
)

// keyString renders keys for comparison, pasted text merged.
func keyString(keys []Key) string {
	var parts []string
	for i := 0; i < len(keys); i++ {
		k := keys[i]
		if k.Code == KeyPaste {
			text := k.Text
			for i+1 < len(keys) && keys[i+1].Code == KeyPaste {
				i++
				text += keys[i].Text
			}
			k.Text = text
		}
		parts = append(parts, k.String())
	}
	return strings.Join(parts, " ")
}

func decodeAll(chunks ...string) []Key {
	var d Decoder
	var keys []Key
	for _, c := range chunks {
		keys = d.Decode(keys, []byte(c))
	}
	return keys
}

func TestDecoder(t *testing.T) {
	tests := []struct {
		name string
		in   []string // one Decode call each
		want string
	}{
		{"ascii", []string{"hi"}, "Rune('h') Rune('i')"},
		{"CR NUL", []string{"a\r\x00b"}, "Rune('a') Enter Rune('b')"},
		{"CR LF", []string{"a\r\nb"}, "Rune('a') Enter Rune('b')"},
		{"LF", []string{"a\nb"}, "Rune('a') Enter Rune('b')"},
		{"bare CR", []string{"a\rb"}, "Rune('a') Enter Rune('b')"},
		{"CR CR", []string{"\r\r"}, "Enter Enter"},
		{"CR LF LF", []string{"\r\n\n"}, "Enter Enter"},
		{"CR then NUL in the next read", []string{"hi\r", "\x00"}, "Rune('h') Rune('i') Enter"},
		{"CR then LF in the next read", []string{"\r", "\n", "x"}, "Enter Rune('x')"},
		{"NUL dropped", []string{"a\x00b"}, "Rune('a') Rune('b')"},
		{"backspace DEL and ^H", []string{"\x7f\x08"}, "Backspace Backspace"},
		{"controls", []string{"\x01\x02\x03\x04\x05\x06\x0b\x0c\x0e\x10\x15\x17\t"},
			"Home Left Interrupt CtrlD End Right KillEnd Redraw Down Up KillStart KillWord Tab"},
		{"other controls dropped", []string{"\x07\x0f\x11\x1a\x1c\x1fz"}, "Rune('z')"},
		{"arrows CSI", []string{"\x1b[A\x1b[B\x1b[C\x1b[D"}, "Up Down Right Left"},
		{"arrows SS3", []string{"\x1bOA\x1bOB\x1bOC\x1bOD\x1bOH\x1bOF"}, "Up Down Right Left Home End"},
		{"home end", []string{"\x1b[H\x1b[F\x1b[1~\x1b[4~\x1b[7~\x1b[8~"}, "Home End Home End Home End"},
		{"delete", []string{"\x1b[3~"}, "Delete"},
		{"ctrl arrows", []string{"\x1b[1;5C\x1b[1;5D\x1b[1;3D\x1b[1;2C"}, "WordRight WordLeft WordLeft Right"},
		{"alt keys", []string{"\x1bb\x1bf\x1b\x7f\x1bx"}, "WordLeft WordRight KillWord Escape Rune('x')"},
		{"unknown sequences dropped", []string{"\x1b[5~\x1b[2~\x1b[Z\x1bOP\x1b[15;2~a"}, "Rune('a')"},
		{"overlong CSI dropped", []string{"\x1b[" + strings.Repeat("1", 100) + "Ab"}, "Rune('b')"},
		{"CSI cut by a control", []string{"\x1b[1\x03"}, "Interrupt"},
		{"CSI cut by UTF-8", []string{"\x1b[1é"}, "Rune('é')"},
		{"sequence split", []string{"\x1b", "[", "A"}, "Up"},
		{"lone ESC then key", []string{"\x1b", "\x03"}, "Escape Interrupt"},
		{"ESC ESC", []string{"\x1b\x1b[A"}, "Escape Up"},
		{"ESC pending", []string{"a\x1b"}, "Rune('a')"},
		{"utf8", []string{"é€😀"}, "Rune('é') Rune('€') Rune('😀')"},
		{"utf8 split", []string{"\xc3", "\xa9\xe2\x82", "\xac"}, "Rune('é') Rune('€')"},
		{"invalid utf8", []string{"\xff\xfeA"}, "Rune('�') Rune('�') Rune('A')"},
		{"truncated utf8", []string{"\xe2\x82A"}, "Rune('�') Rune('�') Rune('A')"},
		{"C1 dropped", []string{"\xc2\x9b1mx"}, "Rune('1') Rune('m') Rune('x')"},
		{"bidi dropped", []string{"a\u202eb\u2066c"}, "Rune('a') Rune('b') Rune('c')"},
		{"ZWJ kept", []string{"\u200d"}, "Rune('\\u200d')"},
		{"paste", []string{"\x1b[200~a\tb\r\nc\x03\x1b[A\x1b[201~x"}, "Paste(\"a b\\nc\") Rune('x')"},
		{"paste split markers", []string{"\x1b[20", "0~hi", "\r", "\n\x1b[2", "01~\r"}, "Paste(\"hi\\n\") Enter"},
		{"paste CR NUL", []string{"\x1b[200~a\r\x00b\rc\x1b[201~"}, "Paste(\"a\\nb\\nc\")"},
		{"paste of nothing", []string{"\x1b[200~\x1b[201~"}, ""},
		{"paste end alone", []string{"\x1b[201~a"}, "Rune('a')"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := keyString(decodeAll(tc.in...)); got != tc.want {
				t.Errorf("Decode(%q)\n got %s\nwant %s", tc.in, got, tc.want)
			}
			// The same keys however the input is split.
			var single []string
			for _, b := range []byte(strings.Join(tc.in, "")) {
				single = append(single, string([]byte{b}))
			}
			if got := keyString(decodeAll(single...)); got != tc.want {
				t.Errorf("byte by byte\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestDecoderPending(t *testing.T) {
	var d Decoder
	keys := d.Decode(nil, []byte("\x1b"))
	if len(keys) != 0 || !d.Pending() {
		t.Fatalf("after ESC: keys %v, pending %v", keys, d.Pending())
	}
	if got := keyString(d.Flush(nil)); got != "Escape" || d.Pending() {
		t.Errorf("Flush after ESC = %s, pending %v", got, d.Pending())
	}
	d.Decode(nil, []byte("\xe2\x82"))
	if got := keyString(d.Flush(nil)); got != "Rune('�') Rune('�')" {
		t.Errorf("Flush after a partial rune = %s", got)
	}
	d.Decode(nil, []byte("\x1b[200~abc"))
	if !d.InPaste() {
		t.Error("not in paste after ESC [ 200 ~")
	}
	d.Decode(nil, []byte("\x1b[201~"))
	if d.InPaste() {
		t.Error("in paste after ESC [ 201 ~")
	}
}

func TestDecoderPasteChunks(t *testing.T) {
	var d Decoder
	big := strings.Repeat("é", 5000) // 10,000 bytes
	keys := d.Decode(nil, []byte("\x1b[200~"+big+"\x1b[201~"))
	var text strings.Builder
	for _, k := range keys {
		if k.Code != KeyPaste || len(k.Text) > maxPasteChunk+4 {
			t.Fatalf("key %v (len %d)", k.Code, len(k.Text))
		}
		text.WriteString(k.Text)
	}
	if len(keys) < 3 || text.String() != big {
		t.Errorf("%d keys, text of %d bytes; want 3 or more keys and %d bytes", len(keys), text.Len(), len(big))
	}
}

// FuzzDecoder checks that decoding never panics, yields only well-formed
// keys and does not depend on how the input is split.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{
		"hi\r\x00", "\x1b[A\x1b[1;5C\x1bOH", "\x1b[200~a\r\nb\x1b[201~", "\xc3\xa9\xe2\x82", "\x1b\x1b[3~",
		"\x1b[" + strings.Repeat("9", 40) + "~", "\xff\xfe\xc2\x9b", "\r\n\r\x00\n", "\x1bb\x1b\x7f",
	} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, p []byte, step uint8) {
		var whole Decoder
		all := whole.Flush(whole.Decode(nil, p))
		n := max(1, int(step))
		var split Decoder
		var parts []Key
		for i := 0; i < len(p); i += n {
			parts = split.Decode(parts, p[i:min(len(p), i+n)])
		}
		parts = split.Flush(parts)
		if a, b := keyString(all), keyString(parts); a != b {
			t.Fatalf("split by %d:\n%s\nwhole:\n%s", n, b, a)
		}
		for _, k := range all {
			switch k.Code {
			case KeyRune:
				if !printable(k.Rune) {
					t.Fatalf("unprintable rune %U", k.Rune)
				}
			case KeyPaste:
				for _, r := range k.Text {
					if r != '\n' && !printable(r) {
						t.Fatalf("unprintable %U in paste %q", r, k.Text)
					}
				}
				if k.Text == "" || len(k.Text) > maxPasteChunk+4 {
					t.Fatalf("paste of %d bytes", len(k.Text))
				}
			default:
				if k.Code < KeyRune || k.Code > KeyEscape || k.Rune != 0 || k.Text != "" {
					t.Fatalf("bad key %+v", k)
				}
			}
		}
		if split.Pending() || whole.Pending() {
			t.Fatal("pending after Flush")
		}
		if slices.ContainsFunc(all, func(k Key) bool { return k.Code == KeyEscape }) && !strings.Contains(string(p), "\x1b") {
			t.Fatal("Escape without ESC")
		}
	})
}
