package commands

import (
	"strings"
	"testing"

	"telchat/hub"
	"telchat/lineedit"
	"telchat/message"
	"telchat/render"
)

func TestWhoLines(t *testing.T) {
	users := []hub.UserInfo{{Nick: "ada", Admin: true}, {Nick: "bob", Away: "lunch"}, {Nick: "carol"},
		{Nick: "dave"}, {Nick: "eve"}, {Nick: "日本語ニック"}}
	tests := []struct {
		name  string
		total int
		users []hub.UserInfo
		width int
		want  []string
	}{
		{"nobody", 0, nil, 40, []string{"*** 0 in #den"}},
		{"no width: one line", 7, users, 0, []string{"*** 7 in #den: @ada, bob (away), carol, dave, eve, 日本語ニック, and 1 more"}},
		{"wide enough: one line", 2, users[:2], 80, []string{"*** 2 in #den: @ada, bob (away)"}},
		{"rows of the width, a name never split", 7, users, 30, []string{
			"*** 7 in #den: @ada,",
			"    bob (away), carol, dave,",
			"    eve, 日本語ニック,",
			"    and 1 more"}},
		{"a name longer than a row has one of its own", 2, []hub.UserInfo{{Nick: "a"}, {Nick: "averyveryverylongnickname"}}, 20, []string{
			"*** 2 in #den: a,", "    averyveryverylongnickname"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := whoLines("den", tt.total, tt.users, tt.width)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestWhoLinesFit: whatever the width, the rows fit it (but for a single
// name longer than a row), continuation rows are indented four columns,
// and every name is there.
func TestWhoLinesFit(t *testing.T) {
	var users []hub.UserInfo
	for i := range 40 {
		users = append(users, hub.UserInfo{Nick: strings.Repeat("n", 1+i%9), Away: strings.Repeat("x", i%2)})
	}
	for width := 20; width <= 120; width++ {
		rows := whoLines("lobby", len(users), users, width)
		for i, r := range rows {
			if lineedit.Width(r) > width && (i == 0 || strings.Contains(r, ", ")) {
				t.Fatalf("width %d: row %d is too wide: %q", width, i, r)
			}
			if i > 0 && (!strings.HasPrefix(r, "    ") || r[4] == ' ') {
				t.Fatalf("width %d: row %d not indented four columns: %q", width, i, r)
			}
		}
		if got, want := strings.Join(strings.Fields(strings.Join(rows, " ")), " "), whoLines("lobby", len(users), users, 0)[0]; got != want {
			t.Fatalf("width %d: names lost:\n%s\nwant %s", width, got, want)
		}
	}
}

// TestHelpLinesWidth: on a terminal of known width the usage column is at
// most two fifths of it, longer usages have a line of their own, and the
// listing rendered for that width (render wraps each line, hanging under
// the summary column) has no row wider than the terminal nor a
// continuation at the first column.
func TestHelpLinesWidth(t *testing.T) {
	table := New()
	for _, who := range []Caller{{}, {Admin: true}} {
		plain := table.HelpLines(who, 0)
		for _, width := range []int{40, 64, 80, 120} {
			lines := table.HelpLines(who, width)
			if len(lines) < len(plain) {
				t.Fatalf("width %d: %d lines for %d commands", width, len(lines), len(plain))
			}
			for _, c := range table.Commands() {
				if c.Allowed(who) && !strings.Contains(strings.Join(lines, "\n"), c.SummaryFor(who)) {
					t.Errorf("width %d: /%s's summary is missing", width, c.Name)
				}
			}
			m := &message.Message{Kind: message.Reply, Text: strings.Join(lines, "\n")}
			out := string(render.Append(nil, m, render.Plain.WrapAt(width)))
			for _, row := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
				if lineedit.Width(row) > width || !strings.HasPrefix(row, "  ") {
					t.Errorf("width %d: row %q", width, row)
				}
			}
		}
		for _, l := range plain {
			if !strings.HasPrefix(l, "  /") {
				t.Errorf("without a width, a line is not a command's: %q", l)
			}
		}
	}
}
