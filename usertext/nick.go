package usertext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.mau.fi/util/confusable"
	"golang.org/x/text/secure/precis"
)

// DefaultNickMaxLen is the nickname length limit, in runes, used when
// NickRules.MaxLen is zero or negative.
const DefaultNickMaxLen = 24

// RoomMaxLen is the room name length limit in bytes (room names are ASCII).
const RoomMaxLen = 32

// ReservedNames returns the nicknames nobody may take, in lower case. They
// are compared case-insensitively and, to catch look-alikes such as "r00t" or
// "аdmin", by confusable skeleton, with the whole nickname and with each of
// its words (see the package documentation). The slice is a fresh copy.
func ReservedNames() []string {
	return append([]string(nil), reservedNames[:]...)
}

// reservedNames is the list behind ReservedNames.
var reservedNames = [...]string{
	"server", "admin", "administrator", "system", "root", "operator", "oper",
	"op", "sysop", "ircop", "sysadmin", "netadmin", "telchat", "services",
	"service", "nickserv", "chanserv", "operserv", "memoserv", "everyone",
	"all", "console", "anonymous", "nobody", "moderator", "mod", "staff",
	"support", "help",
}

// NickRules configures nickname validation. The zero value allows 1 to 24
// ASCII letters, digits, '_' and '-'.
type NickRules struct {
	// MaxLen is the longest nickname in runes; 0 (or less) means 24.
	MaxLen int
	// Unicode allows letters, digits and combining marks of any script,
	// normalized with the PRECIS UsernameCasePreserved profile (RFC 8265)
	// for display and keyed by the confusable skeleton of the
	// UsernameCaseMapped form. A nickname may not mix scripts, except Latin
	// with Han, Hiragana, Katakana, Hangul or Bopomofo, and Han with the
	// Japanese kana, Hangul or Bopomofo. Without it nicknames are ASCII only.
	Unicode bool
}

func (r NickRules) maxLen() int {
	if r.MaxLen <= 0 {
		return DefaultNickMaxLen
	}
	return r.MaxLen
}

// CheckNick validates the nickname s after trimming white space at both
// ends. It returns the form to display and the key to use for uniqueness:
// the lower-case nickname in ASCII mode; in Unicode mode the UTS #39
// confusable skeleton of the case-folded nickname, so that "аdmin" (with a
// Cyrillic а) and "admin" get the same key. The display form always passes
// through [Sanitize] unchanged, and CheckNick(display) returns the same
// display and key.
//
// The error is one sentence for the user that wraps ErrEmpty, ErrTooLong,
// ErrBadChar, ErrReserved or ErrConfusable (a look-alike of a reserved name
// wraps both ErrReserved and ErrConfusable).
func (r NickRules) CheckNick(s string) (display, key string, err error) {
	return r.checkNick(s)
}

// Lookalike returns a second, coarser key for a display name that
// CheckNick accepted. Nicknames are unique regardless of case and each user
// picks the case shown, so it compares the lower-case and the capital forms
// by their confusable skeletons, and with Unicode nicknames also without
// nonspacing marks. Two names with the same Lookalike key can pass for each
// other even where their keys differ: "aIice" (capital i), "a1ice" and
// "alice"; "b0b" and "bob"; "c0p" and "cop"; "rn" and "m"; with Unicode
// nicknames also "alicé", "alice̲" and "alice", "ƅob" and "bob". Different
// names such as "bob2" and "bobby" keep different keys. A chat server
// refuses a name whose key or Lookalike key is in use, and applies a
// nickname ban to both.
func (r NickRules) Lookalike(display string) string {
	return caseFreeKey(display, r.Unicode)
}

func (r NickRules) checkNick(s string) (display, key string, err error) {
	maxLen := r.maxLen()
	shapeMsg := fmt.Sprintf("nickname must be 1 to %d letters, digits, _ or -", maxLen)
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", "", newValidationError(shapeMsg, ErrEmpty)
	case utf8.RuneCountInString(s) > maxLen*4:
		// Far too long whatever normalization does; don't normalize it.
		return "", "", newValidationError(shapeMsg, ErrTooLong)
	case !utf8.ValidString(s):
		return "", "", newValidationError(shapeMsg, ErrBadChar)
	}
	if r.Unicode {
		display, key, err = checkUnicodeNick(s, maxLen, shapeMsg)
	} else {
		display, key, err = checkASCIINick(s, maxLen, shapeMsg)
	}
	if err != nil {
		return "", "", err
	}
	switch r.reservedMatch(display, key) {
	case matchExact:
		return "", "", newValidationError("that nickname is reserved", ErrReserved)
	case matchLookalike:
		return "", "", newValidationError("that nickname looks too much like a reserved name",
			ErrReserved, ErrConfusable)
	}
	if r.Unicode && mixesScripts(display) {
		return "", "", newValidationError("nickname must not mix alphabets such as Latin and Cyrillic", ErrConfusable)
	}
	return display, key, nil
}

func checkASCIINick(s string, maxLen int, shapeMsg string) (display, key string, err error) {
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return "", "", newValidationError(shapeMsg, ErrBadChar)
		}
	}
	if len(s) > maxLen {
		return "", "", newValidationError(shapeMsg, ErrTooLong)
	}
	return s, strings.ToLower(s), nil
}

func checkUnicodeNick(s string, maxLen int, shapeMsg string) (display, key string, err error) {
	display, err = precis.UsernameCasePreserved.String(s)
	if err != nil {
		return "", "", newValidationError(shapeMsg, ErrBadChar, err)
	}
	n := 0
	for _, c := range display {
		if !isNickRune(c, n == 0) {
			return "", "", newValidationError(shapeMsg, ErrBadChar)
		}
		n++
	}
	if Sanitize(display) != display { // e.g. a run of too many marks
		return "", "", newValidationError(shapeMsg, ErrBadChar)
	}
	if n > maxLen {
		return "", "", newValidationError(shapeMsg, ErrTooLong)
	}
	key, err = unicodeNickKey(display)
	if err != nil {
		return "", "", newValidationError(shapeMsg, ErrBadChar, err)
	}
	return display, key, nil
}

// unicodeNickKey returns the uniqueness key of a Unicode nickname: the UTS #39
// skeleton of its PRECIS UsernameCaseMapped form.
func unicodeNickKey(display string) (string, error) {
	folded, err := precis.UsernameCaseMapped.String(display)
	if err != nil {
		return "", err
	}
	return confusable.Skeleton(folded), nil
}

// isNameByte reports whether c is allowed in ASCII nicknames and room names.
func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// isNickRune reports whether c is allowed in a Unicode nickname; first says
// whether it is the first rune, which may not be a combining mark.
func isNickRune(c rune, first bool) bool {
	switch {
	case c < utf8.RuneSelf:
		return isNameByte(byte(c))
	case isDefaultIgnorable(c):
		return false
	case unicode.IsLetter(c), unicode.Is(unicode.Nd, c):
		return true
	case unicode.IsMark(c):
		return !first
	}
	return false
}

// isDefaultIgnorable reports whether c is one of the default-ignorable
// letters or marks, which render as nothing: blank Hangul fillers, the
// combining grapheme joiner, Khmer inherent vowels and variation selectors.
// (Default-ignorable format characters are not letters or marks anyway.)
func isDefaultIgnorable(c rune) bool {
	switch {
	case c == 0x115f, c == 0x1160, c == 0x3164, c == 0xffa0, c == 0x034f,
		c == 0x17b4, c == 0x17b5:
		return true
	case c >= 0x180b && c <= 0x180f, c >= 0xfe00 && c <= 0xfe0f, c >= 0xe0100 && c <= 0xe01ef:
		return true
	}
	return false
}

// CheckRoom validates the room name s after trimming white space and one
// optional leading '#': 1 to 32 ASCII letters, digits, '_' or '-'. It
// returns the name without '#' for display and its lower-case form as key.
// The error is one sentence for the user that wraps ErrEmpty, ErrTooLong or
// ErrBadChar.
func CheckRoom(s string) (display, key string, err error) {
	const shapeMsg = "room name must be 1 to 32 letters, digits, _ or -"
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "#")
	if s == "" {
		return "", "", newValidationError(shapeMsg, ErrEmpty)
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return "", "", newValidationError(shapeMsg, ErrBadChar)
		}
	}
	if len(s) > RoomMaxLen {
		return "", "", newValidationError(shapeMsg, ErrTooLong)
	}
	return s, strings.ToLower(s), nil
}

// Sentence returns msg with its first letter in upper case, for showing an
// error (whose text, by Go convention, starts in lower case) as a sentence.
func Sentence(msg string) string {
	if msg == "" || msg[0] < 'a' || msg[0] > 'z' {
		return msg
	}
	return string(msg[0]-'a'+'A') + msg[1:]
}
