package lineedit

import "testing"

func TestRuneWidth(t *testing.T) {
	tests := []struct {
		r    rune
		want int
	}{
		{'a', 1}, {'é', 1}, {'Ω', 1}, {'ж', 1}, {'€', 1},
		{'日', 2}, {'한', 2}, {'ｱ', 1}, {'Ａ', 2}, {'😀', 2}, {'　', 2},
		{'\u0301', 0}, {'\u200d', 0}, {'\u20dd', 0}, {'\ufe0f', 0}, {'\u1160', 0},
	}
	for _, tc := range tests {
		if got := runeWidth(tc.r); got != tc.want {
			t.Errorf("runeWidth(%q %U) = %d, want %d", tc.r, tc.r, got, tc.want)
		}
	}
}

func TestPrompt(t *testing.T) {
	tests := []struct {
		in, want string
		width    int
	}{
		{"> ", "> ", 2},
		{"\x1b[1;32malice\x1b[0m> ", "\x1b[1;32malice\x1b[0m> ", 7},
		{"a\x1b[2Jb\x1b]0;t\x07c\r\n\x00\xff> ", "ab0;tc\ufffd> ", 9},
		{"日本> ", "日本> ", 6},
		{"\x1b", "", 0},
		{"x\x1b[", "x", 1},
		{"\x1b[?25lx", "x", 1},
	}
	for _, tc := range tests {
		got := sanitizePrompt(tc.in)
		if got != tc.want || displayWidth(got) != tc.width {
			t.Errorf("sanitizePrompt(%q) = %q of width %d, want %q of width %d", tc.in, got, displayWidth(got), tc.want, tc.width)
		}
	}
}

func TestSanitizeText(t *testing.T) {
	for in, want := range map[string]string{
		"bob":                 "bob",
		"bad\x1b[2Jname":      "badname",
		"a\tb\r\nc\u202e\xff": "abc\ufffd",
		"\ufffd":              "\ufffd",
		"\x1b":                "",
	} {
		if got := sanitizeText(in); got != want {
			t.Errorf("sanitizeText(%q) = %q, want %q", in, got, want)
		}
	}
}
