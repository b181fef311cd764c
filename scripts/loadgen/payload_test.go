package main

import (
	"bytes"
	"errors"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		run     string
		p       payload
		size    int
		wantLen int
	}{
		{"padded", "ab12", payload{Sender: 3, Seq: 42, SentNano: 1700000000123456789}, 64, 64},
		{"size below header", "a", payload{Sender: 0, Seq: 0, SentNano: 1}, 5, len("#a:0:0:1:")},
		{"zero size", "zz", payload{Sender: 9, Seq: 7, SentNano: 99}, 0, len("#zz:9:7:99:")},
		{"large numbers", "run9", payload{Sender: maxSenderIndex, Seq: maxSequence, SentNano: 1<<63 - 1}, 200, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := appendPayload(nil, tc.run, tc.p, tc.size)
			if len(text) != tc.wantLen {
				t.Fatalf("len = %d, want %d (%q)", len(text), tc.wantLen, text)
			}
			run, got, err := parsePayload(text)
			if err != nil {
				t.Fatalf("parsePayload(%q): %v", text, err)
			}
			if string(run) != tc.run || got != tc.p {
				t.Fatalf("parsePayload(%q) = %q %+v, want %q %+v", text, run, got, tc.run, tc.p)
			}
		})
	}
}

func TestParsePayloadRejects(t *testing.T) {
	tests := []struct {
		name string
		text string
	}{
		{"empty", ""},
		{"chat", "hello there"},
		{"no run", "#:1:2:3:"},
		{"missing fields", "#ab:1:2"},
		{"letter in number", "#ab:1:2x:3:"},
		{"empty number", "#ab::2:3:"},
		{"negative", "#ab:-1:2:3:"},
		{"time overflows int64", "#ab:1:2:9999999999999999999:"},
		{"number too long", "#ab:1:2:12345678901234567890:"},
		{"sender out of range", "#ab:99999999:2:3:"},
		{"unterminated time", "#ab:1:2:3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, p, err := parsePayload([]byte(tc.text)); !errors.Is(err, errNotPayload) {
				t.Fatalf("parsePayload(%q) = %+v, %v; want errNotPayload", tc.text, p, err)
			}
		})
	}
}

func TestParseChatLine(t *testing.T) {
	tests := []struct {
		line     string
		wantNick string
		wantText string
		wantOK   bool
	}{
		{"<ada> hello", "ada", "hello", true},
		{"<lgab1> #ab:0:1:2:xx", "lgab1", "#ab:0:1:2:xx", true},
		{"<ada> ", "ada", "", true},
		{"<ada> a> b", "ada", "a> b", true},
		{"*** ada joined #lobby", "", "", false},
		{"[history] <ada> hi", "", "", false},
		{"<> empty nick", "", "", false},
		{"<ada>no space", "", "", false},
		{"<", "", "", false},
	}
	for _, tc := range tests {
		nick, text, ok := parseChatLine([]byte(tc.line))
		if ok != tc.wantOK || string(nick) != tc.wantNick || string(text) != tc.wantText {
			t.Errorf("parseChatLine(%q) = %q, %q, %v; want %q, %q, %v",
				tc.line, nick, text, ok, tc.wantNick, tc.wantText, tc.wantOK)
		}
	}
}

func FuzzParsePayload(f *testing.F) {
	f.Add([]byte("#ab12:3:42:1700000000123456789:xxxx"))
	f.Add([]byte("#a:0:0:1:"))
	f.Add([]byte("hello"))
	f.Add([]byte("#ab:1:2:9999999999999999999:"))
	f.Fuzz(func(t *testing.T, text []byte) {
		run, p, err := parsePayload(text)
		if err != nil {
			return
		}
		if p.Sender < 0 || p.Seq < 0 || p.SentNano < 0 || len(run) == 0 {
			t.Fatalf("parsePayload(%q) accepted bad values: %q %+v", text, run, p)
		}
		// What parses must survive a round trip.
		again := appendPayload(nil, string(run), p, 0)
		run2, p2, err := parsePayload(again)
		if err != nil || !bytes.Equal(run, run2) || p != p2 {
			t.Fatalf("round trip of %q: %q %+v %v", again, run2, p2, err)
		}
	})
}

func BenchmarkParsePayload(b *testing.B) {
	line := []byte("<lgab12> " + string(appendPayload(nil, "ab12", payload{Sender: 3, Seq: 4242, SentNano: 1700000000123456789}, 64)))
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		_, text, ok := parseChatLine(line)
		if !ok {
			b.Fatal("not a chat line")
		}
		if _, _, err := parsePayload(text); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPlainText(t *testing.T) {
	for in, want := range map[string]string{
		"<a> hi": "<a> hi",
		"> \r\x00\x1b[K[20:20] <\x1b[33ma\x1b[39m> hi":       "<a> hi",
		"\r\x00\x1b[K[09:05] \x1b[2m*** Welcome, a!\x1b[22m": "*** Welcome, a!",
		"*bob* psst\a": "*bob* psst",
		"[history] x":  "[history] x",
	} {
		if got := string(plainText([]byte(in))); got != want {
			t.Errorf("plainText(%q) = %q, want %q", in, got, want)
		}
	}
}
