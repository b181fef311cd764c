package usertext

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckNick(t *testing.T) {
	ascii := NickRules{}
	uni := NickRules{Unicode: true}
	short := NickRules{MaxLen: 5}
	tests := []struct {
		name        string
		rules       NickRules
		in          string
		wantDisplay string
		wantKey     string
		wantErrs    []error // all must match; nil means success
	}{
		{"simple", ascii, "Alice", "Alice", "alice", nil},
		{"underscore dash digits", ascii, "bob_99-x", "bob_99-x", "bob_99-x", nil},
		{"trimmed", ascii, "  Carol\t", "Carol", "carol", nil},
		{"single char", ascii, "x", "x", "x", nil},
		{"max length", ascii, strings.Repeat("a", 24), strings.Repeat("a", 24), strings.Repeat("a", 24), nil},
		{"too long", ascii, strings.Repeat("a", 25), "", "", []error{ErrTooLong}},
		{"custom max ok", short, "abcde", "abcde", "abcde", nil},
		{"custom max too long", short, "abcdef", "", "", []error{ErrTooLong}},
		{"huge", ascii, strings.Repeat("a", 100000), "", "", []error{ErrTooLong}},
		{"empty", ascii, "", "", "", []error{ErrEmpty}},
		{"blank", ascii, "   ", "", "", []error{ErrEmpty}},
		{"space inside", ascii, "a b", "", "", []error{ErrBadChar}},
		{"punctuation", ascii, "bob!", "", "", []error{ErrBadChar}},
		{"escape", ascii, "bo\x1b[2Jb", "", "", []error{ErrBadChar}},
		{"invalid utf-8", ascii, "bob\xff", "", "", []error{ErrBadChar}},
		{"non-ascii in ascii mode", ascii, "josé", "", "", []error{ErrBadChar}},
		{"cyrillic a in ascii mode", ascii, "\u0430dmin", "", "", []error{ErrBadChar}},
		{"reserved", ascii, "admin", "", "", []error{ErrReserved}},
		{"reserved upper", ascii, "ADMIN", "", "", []error{ErrReserved}},
		{"reserved mixed case", ascii, "NickServ", "", "", []error{ErrReserved}},
		{"reserved short", ascii, "Op", "", "", []error{ErrReserved}},
		{"reserved look-alike digits", ascii, "r00t", "", "", []error{ErrReserved, ErrConfusable}},
		{"reserved look-alike rn", ascii, "adrnin", "", "", []error{ErrReserved, ErrConfusable}},
		{"reserved look-alike 1 for l", ascii, "a11", "", "", []error{ErrReserved, ErrConfusable}},
		{"reserved look-alike l for I", ascii, "ADMlN", "", "", []error{ErrReserved, ErrConfusable}},
		{"reserved trailing underscore", ascii, "Server_", "", "", []error{ErrReserved}},
		{"reserved admin_", ascii, "admin_", "", "", []error{ErrReserved}},
		{"reserved word after dash", ascii, "the-admin", "", "", []error{ErrReserved}},
		{"reserved plural", ascii, "admins", "", "", []error{ErrReserved}},
		{"reserved plural op", ascii, "Ops", "", "", []error{ErrReserved}},
		{"reserved ircop", ascii, "ircop", "", "", []error{ErrReserved}},
		{"reserved services", ascii, "services", "", "", []error{ErrReserved}},
		{"reserved root_", ascii, "root_", "", "", []error{ErrReserved}},
		{"reserved trailing digits", ascii, "admin2", "", "", []error{ErrReserved}},
		{"reserved word with digits", ascii, "real_sysop42_x", "", "", []error{ErrReserved}},
		{"reserved look-alike word", ascii, "r00t_", "", "", []error{ErrReserved, ErrConfusable}},
		{"reserved look-alike plural", ascii, "adm1ns", "", "", []error{ErrReserved, ErrConfusable}},
		{"reserved look-alike after dash", ascii, "the-adrnin", "", "", []error{ErrReserved, ErrConfusable}},
		{"not reserved: longer word", ascii, "badminton", "badminton", "badminton", nil},
		{"not reserved: opera", ascii, "opera", "opera", "opera", nil},
		{"not reserved: helpful", ascii, "helpful", "helpful", "helpful", nil},
		{"not reserved: word inside", ascii, "theadmiral", "theadmiral", "theadmiral", nil},
		{"not reserved: digits inside", ascii, "r2d2", "r2d2", "r2d2", nil},

		{"unicode ascii nick", uni, "Alice", "Alice", "alice", nil},
		{"unicode accented", uni, "José", "José", "jose\u0301", nil},
		{"unicode decomposed input is composed", uni, "Jose\u0301", "José", "jose\u0301", nil},
		{"unicode fullwidth is width-mapped", uni, "ｂｏｂ", "bob", "bob", nil},
		{"unicode cyrillic", uni, "Дмитрий", "Дмитрий", "", nil},
		{"unicode japanese", uni, "たなか田中", "たなか田中", "", nil},
		{"unicode latin with han", uni, "Li李", "Li李", "", nil},
		{"unicode cyrillic a collides with admin", uni, "\u0430dmin", "", "", []error{ErrReserved, ErrConfusable}},
		{"unicode reserved", uni, "Root", "", "", []error{ErrReserved}},
		{"unicode reserved fullwidth", uni, "ｒｏｏｔ", "", "", []error{ErrReserved}},
		{"unicode mixed latin cyrillic", uni, "p\u0430ypal", "", "", []error{ErrConfusable}},
		{"unicode mixed greek cyrillic", uni, "\u03b1\u0431", "", "", []error{ErrConfusable}},
		{"unicode symbol", uni, "bob♥", "", "", []error{ErrBadChar}},
		{"unicode zero width", uni, "bo\u200Bb", "", "", []error{ErrBadChar}},
		{"unicode bidi", uni, "bob\u202E", "", "", []error{ErrBadChar}},
		{"unicode hangul filler", uni, "\u3164", "", "", []error{ErrBadChar}},
		{"unicode leading mark", uni, "\u0301a", "", "", []error{ErrBadChar}},
		{"unicode too many marks", uni, "a" + strings.Repeat("\u0301", 12), "", "", []error{ErrBadChar}},
		{"unicode too long", uni, strings.Repeat("ж", 25), "", "", []error{ErrTooLong}},
		{"unicode max length", uni, strings.Repeat("ж", 24), strings.Repeat("ж", 24), "", nil},
		{"unicode empty", uni, "", "", "", []error{ErrEmpty}},
		{"unicode reserved with accent", uni, "\u0101dmin", "", "", []error{ErrReserved, ErrConfusable}},
		{"unicode reserved word with accent", uni, "the_r\u00f6\u00f6t", "", "", []error{ErrReserved, ErrConfusable}},
		{"unicode reserved word plural", uni, "Admins", "", "", []error{ErrReserved}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			display, key, err := tt.rules.CheckNick(tt.in)
			if tt.wantErrs != nil {
				if err == nil {
					t.Fatalf("CheckNick(%q) = %q, %q, want error %v", tt.in, display, key, tt.wantErrs)
				}
				for _, want := range tt.wantErrs {
					if !errors.Is(err, want) {
						t.Errorf("CheckNick(%q) error %q does not wrap %v", tt.in, err, want)
					}
				}
				if display != "" || key != "" {
					t.Errorf("CheckNick(%q) returned %q, %q with an error", tt.in, display, key)
				}
				checkUserMessage(t, err)
				return
			}
			if err != nil {
				t.Fatalf("CheckNick(%q) error: %v", tt.in, err)
			}
			if display != tt.wantDisplay {
				t.Errorf("CheckNick(%q) display = %q, want %q", tt.in, display, tt.wantDisplay)
			}
			if tt.wantKey != "" && key != tt.wantKey {
				t.Errorf("CheckNick(%q) key = %q, want %q", tt.in, key, tt.wantKey)
			}
			if key == "" {
				t.Errorf("CheckNick(%q) key is empty", tt.in)
			}
		})
	}
}

// checkUserMessage fails t if err's message is not a short sentence.
func checkUserMessage(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if msg == "" || len(msg) > 80 || strings.Contains(msg, "usertext:") || strings.ContainsAny(msg, "\n\x1b") {
		t.Errorf("error message %q is not one short sentence", msg)
	}
}

func TestCheckNickMessage(t *testing.T) {
	_, _, err := NickRules{}.CheckNick("bad nick")
	if got, want := err.Error(), "nickname must be 1 to 24 letters, digits, _ or -"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	_, _, err = NickRules{MaxLen: 9}.CheckNick("")
	if got, want := err.Error(), "nickname must be 1 to 9 letters, digits, _ or -"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestCheckNickKeysCollide(t *testing.T) {
	uni := NickRules{Unicode: true}
	groups := [][]string{
		{"alice", "Alice", "ALICE", "\u0430lice", "ａｌｉｃｅ"}, // Latin, Cyrillic а, fullwidth
		{"bob", "BOB", "Ьоb"},                         // Cyrillic Ь, о look like b, o
		{"paypal", "\u0440\u0430\u0443\u0440\u0430l"}, // Cyrillic with a Latin l: refused as mixed
		{"cope", "COPE", "соре", "СОРЕ"},              // all Cyrillic
		{"pop", "рор"},                                // all Cyrillic
	}
	for _, g := range groups {
		var firstKey string
		for _, nick := range g {
			_, key, err := uni.CheckNick(nick)
			if errors.Is(err, ErrConfusable) {
				continue // mixed-script spellings are refused outright: also fine
			}
			if err != nil {
				t.Fatalf("CheckNick(%q): %v", nick, err)
			}
			if firstKey == "" {
				firstKey = key
			} else if key != firstKey {
				t.Errorf("key(%q) = %q, want %q like %q", nick, key, firstKey, g[0])
			}
		}
	}
	// Different names keep different keys (b0b shares only the coarser
	// Lookalike key with bob, see TestLookalike).
	seen := map[string]string{}
	for _, nick := range []string{"alice", "alicia", "bob", "b0b", "Дмитрий", "Dmitri", "tanaka", "たなか"} {
		_, key, err := uni.CheckNick(nick)
		if err != nil {
			t.Fatalf("CheckNick(%q): %v", nick, err)
		}
		if other, dup := seen[key]; dup {
			t.Errorf("%q and %q share key %q", nick, other, key)
		}
		seen[key] = nick
	}
}

func TestLookalike(t *testing.T) {
	ascii := NickRules{}
	uni := NickRules{Unicode: true}
	tests := []struct {
		rules NickRules
		a, b  string
		same  bool
	}{
		{ascii, "alice", "aIice", true},
		{ascii, "alice", "a1ice", true},
		{ascii, "alice", "ALICE", true},
		{ascii, "bob", "b0b", true},
		{ascii, "bob", "B0B", true},
		{ascii, "cop", "c0p", true},
		{ascii, "m", "rn", true},
		{ascii, "mallory", "rnallory", true},
		{ascii, "will", "wi11", true},
		{ascii, "bob", "bob2", false},
		{ascii, "bob", "bobby", false},
		{ascii, "alice", "alicia", false},
		{ascii, "ian", "lan", true}, // "Ian" and "lan"
		{ascii, "AL1CE", "alice", true},
		{ascii, "dave", "eve", false},
		{uni, "alice", "alic\u00e9", true},   // é
		{uni, "alice", "alic\u00e8", true},   // è
		{uni, "alice", "alic\u0117", true},   // ė
		{uni, "alice", "alice\u0332", true},  // combining low line
		{uni, "alice", "\u0101lice", true},   // ā
		{uni, "bob", "\u0185ob", true},       // ƅ, whose capital is Ƅ
		{uni, "lukasz", "\u0142ukasz", true}, // ł
		{uni, "oslo", "\u00f8slo", true},     // ø
		{uni, "alice", "aIice", true},
		{uni, "bob", "b0b", true},
		{uni, "alice", "\u0430lice", true}, // Cyrillic а
		{uni, "bob", "bob2", false},
		{uni, "bob", "bobby", false},
		{uni, "\u0101dmin", "admin", true}, // ā
		{uni, "\u0434\u043c\u0438\u0442\u0440\u0438\u0439", "dmitri", false},
	}
	for _, tt := range tests {
		ka, kb := tt.rules.Lookalike(tt.a), tt.rules.Lookalike(tt.b)
		if ka == "" || kb == "" {
			t.Errorf("unicode=%v: empty Lookalike key for %q (%q) or %q (%q)", tt.rules.Unicode, tt.a, ka, tt.b, kb)
		}
		if (ka == kb) != tt.same {
			t.Errorf("unicode=%v: Lookalike(%q) = %q, Lookalike(%q) = %q; want same=%v", tt.rules.Unicode, tt.a, ka, tt.b, kb, tt.same)
		}
	}
}

func TestUnicodeNickKey(t *testing.T) {
	// The key alone equates a Cyrillic а with a Latin a, even though
	// CheckNick refuses such a mixed-script nickname before using it.
	admin, err := unicodeNickKey("admin")
	if err != nil {
		t.Fatal(err)
	}
	for _, lookalike := range []string{"\u0430dmin", "ADMIN", "\u0430\u0501min", "adrnin"} {
		key, err := unicodeNickKey(lookalike)
		if err != nil {
			t.Fatalf("unicodeNickKey(%q): %v", lookalike, err)
		}
		if key != admin {
			t.Errorf("unicodeNickKey(%q) = %q, want %q as for admin", lookalike, key, admin)
		}
	}
	if other, _ := unicodeNickKey("admit"); other == admin {
		t.Errorf("admit and admin share key %q", admin)
	}
}

func TestCheckNickAllReservedRefused(t *testing.T) {
	for _, rules := range []NickRules{{}, {Unicode: true}} {
		for _, name := range reservedNames {
			for _, v := range []string{name, strings.ToUpper(name), strings.ToUpper(name[:1]) + name[1:]} {
				if _, _, err := rules.CheckNick(v); !errors.Is(err, ErrReserved) {
					t.Errorf("unicode=%v CheckNick(%q) error = %v, want ErrReserved", rules.Unicode, v, err)
				}
			}
		}
	}
}

func TestCheckRoom(t *testing.T) {
	tests := []struct {
		in          string
		wantDisplay string
		wantKey     string
		wantErr     error
	}{
		{"#General", "General", "general", nil},
		{"lobby", "lobby", "lobby", nil},
		{" #dev-ops_2 ", "dev-ops_2", "dev-ops_2", nil},
		{"#" + strings.Repeat("r", 32), strings.Repeat("r", 32), strings.Repeat("r", 32), nil},
		{"#" + strings.Repeat("r", 33), "", "", ErrTooLong},
		{"#", "", "", ErrEmpty},
		{"", "", "", ErrEmpty},
		{"##x", "", "", ErrBadChar},
		{"a b", "", "", ErrBadChar},
		{"#caf\u00e9", "", "", ErrBadChar},
		{"#x\x1b[2J", "", "", ErrBadChar},
	}
	for _, tt := range tests {
		display, key, err := CheckRoom(tt.in)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("CheckRoom(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				checkUserMessage(t, err)
			}
			continue
		}
		if err != nil || display != tt.wantDisplay || key != tt.wantKey {
			t.Errorf("CheckRoom(%q) = %q, %q, %v, want %q, %q", tt.in, display, key, err, tt.wantDisplay, tt.wantKey)
		}
	}
}

func TestMixesScripts(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"alice", false},
		{"bob_99", false},
		{"Дмитрий", false},
		{"Ελένη", false},
		{"たなか田中カ", false},
		{"김田", false},
		{"Kim김", false},
		{"alice\u0430", true},
		{"ελ\u0430", true},
		{"たなか김", true},
	}
	for _, tt := range tests {
		if got := mixesScripts(tt.in); got != tt.want {
			t.Errorf("mixesScripts(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
